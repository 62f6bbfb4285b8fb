/**
 * The code_interpreter jail, attacked the way code a model wrote after reading a poisoned file
 * would: every escape must fail and leave the server answering; limits must hold.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { type Harness, startHarness } from './support/harness.js';

let h: Harness;
let client: OpenAI;
let otherProject: OpenAI;
let assistantId: string;
const hostDir = mkdtempSync(join(tmpdir(), 'stepwise-jail-'));
const marker = join(hostDir, 'marker.txt');

before(async () => {
  writeFileSync(marker, 'host secret');
  h = await startHarness({ env: { STEPWISE_CODE_TIMEOUT_MS: '15000', STEPWISE_CODE_WARM_POOL: '2', STEPWISE_CODE_DATA_MB: '128', OPENAI_API_KEY: 'sk-upstream-secret' } });
  const clientWith = async (projectId: string) => new OpenAI({ baseURL: h.stepwise.url, apiKey: (await h.stepwise.apiKeys.create(projectId)).secret, maxRetries: 0 });
  client = await clientWith('proj_attacker');
  otherProject = await clientWith('proj_victim');
  assistantId = (await client.beta.assistants.create({ model: 'gpt-4o', tools: [{ type: 'code_interpreter' }] })).id;
});
after(async () => {
  await h.close();
  rmSync(hostDir, { recursive: true, force: true });
});

const code = (source: string) => ({ name: 'code_interpreter', arguments: JSON.stringify({ code: source }) });

/** Runs `sources` as the code_interpreter calls of one run on `threadId`; returns each call's logs. */
async function runCells(as: OpenAI, threadId: string, assistant: string, ...sources: string[]): Promise<string[]> {
  h.model.script(...sources.map((source) => ({ toolCalls: [code(source)] })), { text: 'Done.' });
  const run = await as.beta.threads.runs.createAndPoll(threadId, { assistant_id: assistant }, { pollIntervalMs: 50 });
  assert.equal(run.status, 'completed', JSON.stringify(run.last_error));
  const steps = (await as.beta.threads.runs.steps.list(run.id, { thread_id: threadId, order: 'asc' })).data;
  return steps.flatMap((step) =>
    step.step_details.type === 'tool_calls'
      ? step.step_details.tool_calls.flatMap((call) => (call.type === 'code_interpreter' ? call.code_interpreter.outputs.flatMap((output) => (output.type === 'logs' ? [output.logs] : [])) : []))
      : [],
  );
}

async function newThread(as: OpenAI = client): Promise<string> {
  return (await as.beta.threads.create({ messages: [{ role: 'user', content: 'Go.' }] })).id;
}

async function assertServerAnswers(threadId: string): Promise<void> {
  assert.equal((await client.beta.threads.retrieve(threadId)).id, threadId);
}

/** A cell that prints one JSON object: what each attempt got. */
function attempts(body: string): string {
  return `import json, os, socket, subprocess\nresults = {}\ndef attempt(name, action):\n    try:\n        results[name] = ['ok', repr(action())[:300]]\n    except BaseException as error:\n        results[name] = ['failed', type(error).__name__]\n${body}\nprint(json.dumps(results))`;
}

function parsed(logs: string | undefined): Record<string, [string, string]> {
  return JSON.parse(logs ?? '{}') as Record<string, [string, string]>;
}

test("code cannot read the server's environment, see its processes, or reach host paths", async () => {
  const thread = await newThread();
  const database = join(h.dataDir, 'stepwise.db');
  const [logs] = await runCells(client, thread, assistantId, attempts(String.raw`
def environments():
    found = []
    for pid in os.listdir('/proc'):
        if pid.isdigit():
            for name in ('environ', 'cmdline'):
                try:
                    found.append(open('/proc/%s/%s' % (pid, name), 'rb').read().decode('latin-1'))
                except OSError:
                    pass
    return '\n'.join(found)
everything = environments()
results['environ holds the upstream key'] = ['ok' if 'sk-upstream-secret' in everything else 'failed', '']
results['environ names the data dir'] = ['ok' if ${JSON.stringify(h.dataDir)} in everything else 'failed', '']
attempt('self environ', lambda: open('/proc/self/environ').read())
attempt('pid 1 environ', lambda: open('/proc/1/environ').read())
attempt('server pid environ', lambda: open('/proc/${process.pid}/environ').read())
attempt('parent chain', lambda: [open('/proc/%d/cmdline' % pid).read() for pid in (os.getppid(), 1)])
attempt('processes', lambda: sorted(int(pid) for pid in os.listdir('/proc') if pid.isdigit()))
attempt('read database', lambda: open(${JSON.stringify(database)}, 'rb').read(16))
attempt('list data dir', lambda: os.listdir(${JSON.stringify(h.dataDir)}))
attempt('read marker', lambda: open(${JSON.stringify(marker)}).read())
attempt('write marker', lambda: open(${JSON.stringify(marker)}, 'w').write('pwned'))
attempt('write data dir', lambda: open(${JSON.stringify(join(h.dataDir, 'pwned'))}, 'w').write('pwned'))
attempt('write usr', lambda: open('/usr/pwned', 'w').write('pwned'))
attempt('write root', lambda: open('/pwned', 'w').write('pwned'))
attempt('write dev', lambda: open('/dev/pwned', 'w').write('pwned'))
attempt('host command', lambda: subprocess.run(['/bin/sh', '-c', 'echo pwned > ${join(hostDir, 'from-shell')}; cat ${marker}'], capture_output=True).returncode)
attempt('new user namespace', lambda: subprocess.run(['unshare', '--user', '--map-root-user', 'true'], capture_output=True).returncode)
attempt('mount', lambda: subprocess.run(['mount', '-t', 'tmpfs', 'none', '/mnt'], capture_output=True).returncode)
attempt('uid', lambda: (os.getuid(), os.geteuid(), [line for line in open('/proc/self/status') if line.startswith(('NoNewPrivs', 'CapEff'))]))
`));
  const results = parsed(logs);
  assert.equal(results['environ holds the upstream key']?.[0], 'failed');
  assert.equal(results['environ names the data dir']?.[0], 'failed');
  assert.doesNotMatch(results['self environ']?.[1] ?? '', /sk-upstream|STEPWISE|test-key/);
  assert.doesNotMatch(results['pid 1 environ']?.[1] ?? '', /sk-upstream|STEPWISE|test-key/);
  assert.deepEqual(results['server pid environ'], ['failed', 'FileNotFoundError']);
  assert.doesNotMatch(results['parent chain']?.[1] ?? '', /node|tsx/);
  // Only the jail's own pid namespace: its init, the kernel, and the shell it just started at most.
  assert.ok((JSON.parse(results.processes?.[1] ?? '[]') as number[]).every((pid) => pid < 10), results.processes?.[1]);
  for (const name of ['read database', 'list data dir', 'read marker', 'write marker', 'write data dir']) {
    assert.deepEqual(results[name], ['failed', 'FileNotFoundError'], name);
  }
  // Only /tmp, /dev/shm and /mnt/data are writable, each a size-capped tmpfs.
  for (const name of ['write usr', 'write root', 'write dev']) assert.deepEqual(results[name], ['failed', 'OSError'], name);
  assert.notEqual(results['host command']?.[1], '0', 'the shell cannot write to the host');
  assert.notEqual(results['new user namespace']?.[1], '0');
  assert.notEqual(results.mount?.[1], '0');
  assert.match(results.uid?.[1] ?? '', /^\(1000, 1000, \['CapEff:\\t0000000000000000\\n', 'NoNewPrivs:\\t1\\n'\]\)$/);
  assert.equal(readFileSync(marker, 'utf8'), 'host secret');
  assert.equal(existsSync(join(hostDir, 'from-shell')), false);
  assert.equal(existsSync(join(h.dataDir, 'pwned')), false);
  await assertServerAnswers(thread);
});

test("code has no network: not the server's own port, not the model's, not the outside", async () => {
  const thread = await newThread();
  const [logs] = await runCells(client, thread, assistantId, attempts(`
attempt('server port', lambda: socket.create_connection(('127.0.0.1', ${new URL(h.stepwise.url).port}), timeout=2))
attempt('model port', lambda: socket.create_connection(('127.0.0.1', ${new URL(h.model.url).port}), timeout=2))
attempt('outside', lambda: socket.create_connection(('1.1.1.1', 80), timeout=2))
attempt('dns', lambda: socket.getaddrinfo('example.com', 80))
attempt('interfaces', lambda: [name for _, name in socket.if_nameindex()])
`));
  const results = parsed(logs);
  assert.deepEqual(results['server port'], ['failed', 'ConnectionRefusedError']);
  assert.deepEqual(results['model port'], ['failed', 'ConnectionRefusedError']);
  assert.equal(results.outside?.[0], 'failed');
  assert.equal(results.dns?.[0], 'failed');
  assert.deepEqual(results.interfaces, ['ok', "['lo']"]);
  await assertServerAnswers(thread);
});

test("code sees neither another thread's nor another project's session: variables, files or processes", async () => {
  const victimAssistant = (await otherProject.beta.assistants.create({ model: 'gpt-4o', tools: [{ type: 'code_interpreter' }] })).id;
  const secretCell = (name: string) => `secret = '${name}'\nopen('/mnt/data/${name}.txt', 'w').write(secret)\nopen('/tmp/${name}.txt', 'w').write(secret)`;
  await runCells(otherProject, await newThread(otherProject), victimAssistant, secretCell('zebra-project'));
  await runCells(client, await newThread(), assistantId, secretCell('zebra-thread'));

  const thread = await newThread();
  const [logs] = await runCells(client, thread, assistantId, attempts(String.raw`
def search():
    hits = []
    for top in ('/mnt', '/tmp', '/dev', '/proc'):
        for root, dirs, files in os.walk(top):
            if root.startswith('/proc/') and root.count('/') > 3:
                dirs[:] = []
            hits += [os.path.join(root, name) for name in files + dirs if 'zebra' in name]
    return hits
attempt('files', search)
attempt('variable', lambda: secret)
attempt('pids', lambda: [open('/proc/%s/cmdline' % pid).read() for pid in os.listdir('/proc') if pid.isdigit()])
`));
  const results = parsed(logs);
  assert.deepEqual(results.files, ['ok', '[]']);
  assert.deepEqual(results.variable, ['failed', 'NameError']);
  assert.doesNotMatch(results.pids?.[1] ?? '', /zebra/);
  await assertServerAnswers(thread);
});

test('allocating past the memory limit and writing 3 GiB into /mnt/data end with errors the model sees', async () => {
  const thread = await newThread();
  const rssBefore = process.memoryUsage().rss;
  const logs = await runCells(
    client,
    thread,
    assistantId,
    'chunks = []\nwhile True:\n    chunks.append(bytearray(64 * 2**20))',
    'import numpy as np\nnp.ones((40000, 40000))',
    "with open('/mnt/data/big.bin', 'wb') as f:\n    for _ in range(3 * 1024):\n        f.write(bytes(2**20))",
    "import shutil\nprint(shutil.disk_usage('/mnt/data').used <= 128 * 2**20, 'chunks' in globals())",
  );
  assert.match(logs[0] ?? '', /MemoryError/);
  assert.match(logs[1] ?? '', /numpy.core._exceptions._ArrayMemoryError: Unable to allocate 11.9 GiB/);
  assert.match(logs[2] ?? '', /OSError: \[Errno 28\] No space left on device|File too large/);
  assert.match(logs[2] ?? '', /\[file \/mnt\/data\/big\.bin \(\d+ bytes\) was not returned: at most 67108864 bytes of files come back per call\]/);
  assert.equal(logs[3], 'True True\n', 'the same session goes on, its /mnt/data within its cap');
  assert.ok(process.memoryUsage().rss - rssBefore < 256 * 2 ** 20, 'the server did not hold the memory');
  await assertServerAnswers(thread);
});

function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((task) => readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
  } catch {
    return [];
  }
}

/** The processes of each jail that process `parent` started (below its bubblewrap children). */
function jailProcesses(parent: number): number[][] {
  return childrenOf(parent)
    .filter((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'bwrap')
    .map((bwrap) => {
      const tree = childrenOf(bwrap);
      for (let at = 0; at < tree.length; at++) tree.push(...childrenOf(tree[at]!));
      return tree;
    });
}

/** The process's state letter; empty once it has exited. */
function stateOf(pid: number): string {
  try {
    return /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]!;
  } catch {
    return '';
  }
}

function namespaceOf(pid: number): string {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return '';
  }
}

test('threads and processes a cell leaves behind are stopped between calls and use no CPU', async () => {
  const thread = await newThread();
  const cpuSeconds = "def cpu(path):\n    fields = open(path).read().rsplit(')', 1)[1].split()\n    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')";
  const [namespace] = await runCells(
    client,
    thread,
    assistantId,
    [
      'import os, threading, time',
      cpuSeconds,
      'def spin():\n    while True:\n        pass',
      'spinner = threading.Thread(target=spin, daemon=True)\nspinner.start()',
      'child = os.fork()\nif child == 0:\n    os.setsid()\n    spin()',
      'time.sleep(0.2)',
      "paths = ['/proc/self/task/%d/stat' % spinner.native_id, '/proc/%d/stat' % child]",
      'before = [cpu(path) for path in paths]',
      "print(os.readlink('/proc/self/ns/pid'))",
    ].join('\n'),
  );
  // The session's jail is told apart from the warm pool's, which may be starting, by its PID namespace.
  const jail = jailProcesses(process.pid).find((tree) => tree.some((pid) => namespaceOf(pid) === namespace?.trim()));
  assert.ok(jail, `found the jail of namespace ${namespace}`);
  const states = jail.map(stateOf);
  assert.equal(states.length, 3, 'its init, the kernel and the forked child');
  assert.deepEqual([...new Set(states)], ['T'], `every process of the jail is stopped: ${JSON.stringify(states)}`);
  await sleep(1500);
  const [logs] = await runCells(client, thread, assistantId, "used = [cpu(path) - then for path, then in zip(paths, before)]\nprint(all(seconds < 0.5 for seconds in used), used)");
  assert.match(logs ?? '', /^True /);
});

test('a process a tracer in the jail keeps resuming is stopped again before the call returns', async () => {
  const thread = await newThread();
  const cpuSeconds = "def cpu(pid):\n    fields = open('/proc/%d/stat' % pid).read().rsplit(')', 1)[1].split()\n    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')";
  // The tracer sits deeper in the tree than the spinner it traces, so it is stopped after it, and
  // undoes the spinner's SIGSTOP (PTRACE_CONT) in between.
  const tracer = [
    'import ctypes, os, sys',
    'libc = ctypes.CDLL(None, use_errno=True)',
    'libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]',
    'target = int(sys.argv[1])',
    'libc.ptrace(0x4206, target, None, None)',
    'while True:',
    '    pid, status = os.waitpid(target, 0)',
    '    if not os.WIFSTOPPED(status):',
    '        break',
    '    libc.ptrace(7, target, None, None)',
  ].join('\n');
  const [started] = await runCells(
    client,
    thread,
    assistantId,
    [
      'import os, subprocess, sys, time',
      cpuSeconds,
      "spinner = subprocess.Popen([sys.executable, '-c', 'while True: pass'])",
      // Signalled between the two, these give the tracer time to resume the spinner.
      "sleepers = [subprocess.Popen(['/usr/bin/sleep', '600']) for _ in range(60)]",
      `tracer = ${JSON.stringify(tracer)}`,
      "middle = subprocess.Popen([sys.executable, '-c', 'import subprocess, sys; subprocess.run(sys.argv[1:])', sys.executable, '-c', tracer, str(spinner.pid)])",
      'time.sleep(0.5)',
      'before = cpu(spinner.pid)',
      "print('traced by', open('/proc/%d/status' % spinner.pid).read().split('TracerPid:')[1].split()[0])",
    ].join('\n'),
  );
  assert.match(started ?? '', /traced by [1-9]/, 'the tracer holds the spinner');
  await sleep(1500);
  const [logs] = await runCells(client, thread, assistantId, 'used = cpu(spinner.pid) - before\nprint(used < 0.5, used)');
  assert.match(logs ?? '', /^True /);
});

test('figures a cell forges into its reply count against the bytes of figures a call returns', async () => {
  const thread = await newThread();
  // 24 MiB of base64 in one forged figure: past the 16 MiB the host takes of figures per call.
  const [logs] = await runCells(
    client,
    thread,
    assistantId,
    "import sys\nk = sys.modules['__main__']\nk.replies.write(b'{\"type\":\"result\",\"logs\":\"forged\",\"error\":false,\"files\":[],\"images\":[\"' + b'A' * (32 * 2**20) + b'\"]}\\n')\nk.replies.flush()",
  );
  assert.equal(logs, 'forged');
  const run = (await client.beta.threads.runs.list(thread)).data[0]!;
  const steps = (await client.beta.threads.runs.steps.list(run.id, { thread_id: thread })).data;
  const images = steps.flatMap((step) => (step.step_details.type === 'tool_calls' ? step.step_details.tool_calls : [])).flatMap((call) => (call.type === 'code_interpreter' ? call.code_interpreter.outputs : [])).filter((output) => output.type === 'image');
  assert.deepEqual(images, [], 'the oversized figure is not kept');
  await assertServerAnswers(thread);
});

test("the host's local installs (/usr/local: tools, their configs and tokens) are not in the jail", async () => {
  const [logs] = await runCells(client, await newThread(), assistantId, "import os\nprint(sorted(os.listdir('/usr/local')))");
  assert.equal(logs?.trim(), '[]');
});
