// Imported first by the CLI, so an unsupported Node stops here with a message instead of crashing
// later: better-sqlite3 13 segfaults on Node 20, and graphile-worker needs 22.18.
const MINIMUM = [22, 18] as const;

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < MINIMUM[0] || (major === MINIMUM[0] && minor < MINIMUM[1])) {
  console.error(
    `Stepwise needs Node.js ${MINIMUM.join('.')} or newer (24 LTS recommended); this is ${process.version} at ${process.execPath}.\n` +
      'In a checkout, `npm start` runs on the Node 24 that `npm install` puts in node_modules/.bin.',
  );
  process.exit(1);
}
