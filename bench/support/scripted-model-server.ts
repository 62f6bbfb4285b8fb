/**
 * The scripted model server in a process of its own, so that a benchmark measuring a client's CPU
 * does not count the server's. Answers CALLS streamed requests with PIECES text pieces each, then
 * prints nothing more; its URL is its first line of output.
 * Usage: node --import tsx bench/support/scripted-model-server.ts CALLS PIECES
 */
import { ScriptedModel } from '../../test/support/scripted-model.js';

const [calls, pieces] = process.argv.slice(2).map(Number) as [number, number];
const model = await ScriptedModel.start();
const text = Array.from({ length: pieces }, (_, i) => (i === 0 ? 'Hello' : ' there'));
for (let i = 0; i < calls; i++) model.script({ text });
console.log(model.url);
process.on('SIGTERM', () => void model.close().then(() => process.exit(0)));
