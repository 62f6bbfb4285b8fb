/**
 * The least any server between a client and its model server can add: requests forwarded to the
 * model server as they came, its answer piped back as it streams, with node:http on both sides and
 * nothing stored or parsed. A benchmark's floor for what Stepwise adds; its URL is its first line
 * of output.
 * Usage: node --import tsx bench/support/pass-through-proxy.ts MODEL_BASE_URL
 */
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

const target = new URL(process.argv[2]!);
const agent = new Agent({ keepAlive: true });
const basePath = target.pathname.replace(/\/+$/, '');

const server = createServer((incoming, outgoing) => {
  const upstream = request(
    { host: target.hostname, port: target.port, path: basePath + incoming.url!.replace(/^\/v1/, ''), method: incoming.method, headers: incoming.headers, agent },
    (answer) => {
      outgoing.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(outgoing);
    },
  );
  incoming.pipe(upstream);
});
server.listen(0, '127.0.0.1', () => console.log(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
