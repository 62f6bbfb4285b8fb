import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { PythonSandbox } from '../src/tools/code-interpreter/sandbox.js';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** A 16x16 grayscale bar chart written with zlib + struct only (matplotlib needs the network). */
const WRITE_PNG_CHART = String.raw`
import struct, zlib
width = height = 16
bars = [3, 7, 12, 9]
rows = []
for y in range(height):
    row = bytearray([0])
    for x in range(width):
        bar = x // 4
        row.append(40 if height - y <= bars[bar] and x % 4 != 3 else 255)
    rows.append(bytes(row))
def chunk(kind, data):
    return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))
png = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 0, 0, 0, 0))
png += chunk(b'IDAT', zlib.compress(b''.join(rows))) + chunk(b'IEND', b'')
with open('/mnt/data/chart.png', 'wb') as f:
    f.write(png)
`;

describe('PythonSandbox', () => {
  let sandbox: PythonSandbox;

  before(async () => {
    process.env.STEPWISE_SECRET = 'x';
    sandbox = await PythonSandbox.start({ timeoutMs: 10_000, memoryLimitMb: 512 });
  });
  after(async () => {
    await sandbox.close();
  });

  test('computes and prints', async () => {
    const result = await sandbox.run('print(2**100)');
    assert.equal(result.logs, '1267650600228229401496703205376\n');
    assert.equal(result.error, false);
    assert.equal(result.timedOut, false);
    assert.equal(result.restarted, false);
  });

  test('keeps globals between calls and echoes a final expression', async () => {
    await sandbox.run('x = 41');
    const result = await sandbox.run('x + 1');
    assert.equal(result.logs.trim(), '42');
  });

  test('a syntax error and an exception come back as logs and the sandbox keeps working', async () => {
    const syntax = await sandbox.run('def broken(:');
    assert.equal(syntax.error, true);
    assert.match(syntax.logs, /SyntaxError/);

    const exception = await sandbox.run('def fail():\n    return 1 / 0\nfail()');
    assert.equal(exception.error, true);
    assert.match(exception.logs, /Traceback \(most recent call last\)/);
    assert.match(exception.logs, /line 2, in fail/);
    assert.match(exception.logs, /ZeroDivisionError: division by zero/);

    assert.equal((await sandbox.run('print("still alive")')).logs, 'still alive\n');
  });

  test('reads an input CSV from /mnt/data', async () => {
    const csv = new TextEncoder().encode('item,amount\napples,3\npears,4.5\nplums,2.5\n');
    const result = await sandbox.run(
      "import csv\nwith open('/mnt/data/data.csv') as f:\n    print(sum(float(row['amount']) for row in csv.DictReader(f)))",
      [{ path: '/mnt/data/data.csv', bytes: csv }],
    );
    assert.equal(result.logs, '10.0\n');
    assert.deepEqual(result.files, [], 'input files are not reported back unless changed');
  });

  test('returns files the cell writes or changes, and only those', async () => {
    const written = await sandbox.run("open('/mnt/data/out.txt', 'w').write('hello')");
    assert.deepEqual(written.files.map((file) => file.path), ['/mnt/data/out.txt']);
    assert.equal(new TextDecoder().decode(written.files[0]?.bytes), 'hello');

    assert.deepEqual((await sandbox.run('pass')).files, []);
    const changed = await sandbox.run("open('/mnt/data/out.txt', 'a').write(' again')");
    assert.equal(new TextDecoder().decode(changed.files[0]?.bytes), 'hello again');
  });

  test('produces a PNG image', async () => {
    const result = await sandbox.run(WRITE_PNG_CHART);
    assert.equal(result.error, false, result.logs);
    const chart = result.files.find((file) => file.path === '/mnt/data/chart.png');
    assert.ok(chart, 'chart.png is returned');
    assert.deepEqual([...chart.bytes.subarray(0, 8)], PNG_SIGNATURE);
  });

  test('a huge allocation fails the call without crashing the host', async () => {
    await sandbox.run('survivor = 41');
    for (const code of ['x = bytearray(10**10)', "s = 'a' * 10**10", 'b = bytearray(10**9)', "chunks = []\nwhile True:\n    chunks.append(' ' * 10**6)"]) {
      const result = await sandbox.run(code);
      assert.equal(result.error, true, code);
      assert.match(result.logs, /MemoryError|OverflowError/, code);
    }
    assert.equal((await sandbox.run('del chunks\nprint(survivor + 1)')).logs, '42\n', 'the interpreter survives with its state');
  });

  test('has no access to the host filesystem', async () => {
    const result = await sandbox.run("open('/etc/passwd').read()");
    assert.equal(result.error, true);
    assert.match(result.logs, /FileNotFoundError/);
  });

  test('has no network', async () => {
    const direct = await sandbox.run("import socket\nsocket.socket().connect(('example.com', 80))");
    assert.equal(direct.error, true);
    assert.match(direct.logs, /ImportError/);
    for (const module of ['urllib.request', 'http.client', 'ssl', 'subprocess', 'micropip']) {
      assert.match((await sandbox.run(`import ${module}`)).logs, /ImportError/, module);
    }

    // socket stays reachable through modules loaded at startup: the connection itself must fail.
    let connections = 0;
    const server = net.createServer((socket) => {
      connections++;
      socket.end('hello');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    const backdoor = await sandbox.run(`import asyncio\nasyncio.base_events.socket.socket().connect(('127.0.0.1', ${port}))`);
    server.close();
    assert.equal(backdoor.error, true);
    assert.match(backdoor.logs, /OSError/);
    assert.equal(connections, 0);
  });

  test('has no access to JavaScript', async () => {
    for (const code of ['import js', 'import pyodide_js', 'from pyodide.ffi import to_js', "import importlib; importlib.import_module('pyodide_js')"]) {
      const result = await sandbox.run(code);
      assert.equal(result.error, true, code);
      assert.match(result.logs, /ImportError: module '[\w.]+' is not available in this sandbox/, code);
    }
  });

  test("does not see the host's environment variables", async () => {
    const result = await sandbox.run("import os\nprint('STEPWISE_SECRET' in os.environ, sorted(os.environ))");
    assert.match(result.logs, /^False /);
    assert.doesNotMatch(result.logs, /STEPWISE|PATH': '\/usr/);
  });

  test('a cell that brings the interpreter down is reported and the next call gets a fresh one', async () => {
    const result = await sandbox.run("import asyncio\nserver = asyncio.base_events.socket.socket()\nserver.bind(('127.0.0.1', 0))\nserver.listen(1)");
    assert.equal(result.error, true);
    assert.match(result.logs, /restarted/);
    assert.equal(result.restarted, true);
    const next = await sandbox.run("print('x' in globals())");
    assert.equal(next.logs, 'False\n');
  });
});

describe('PythonSandbox time limit', () => {
  let sandbox: PythonSandbox;

  before(async () => {
    sandbox = await PythonSandbox.start({ timeoutMs: 1000, memoryLimitMb: 256 });
  });
  after(async () => {
    await sandbox.close();
  });

  test('a runaway cell times out, the host stays responsive, and the next call works on a fresh interpreter', async () => {
    await sandbox.run('x = 1');
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 50);
    const result = await sandbox.run('while True:\n    pass');
    clearInterval(ticker);
    assert.equal(result.timedOut, true);
    assert.equal(result.restarted, true);
    assert.equal(result.error, true);
    assert.match(result.logs, /Execution timed out after 1 seconds/);
    assert.match(result.logs, /restarted/);
    assert.ok(ticks >= 10, `the event loop kept running (${ticks} ticks)`);

    const next = await sandbox.run("print('x' in globals(), 6 * 7)");
    assert.equal(next.timedOut, false);
    assert.equal(next.logs, 'False 42\n');
  });
});
