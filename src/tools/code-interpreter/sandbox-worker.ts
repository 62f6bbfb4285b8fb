/**
 * Worker thread hosting one Pyodide interpreter. Runs code cells sent by PythonSandbox one at a
 * time, keeping Python globals between them, and reports logs plus new or changed /mnt/data files.
 */
import { createHash } from 'node:crypto';
import { Module, createRequire } from 'node:module';
import { dirname } from 'node:path';
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { loadPyodide, type PyodideAPI } from 'pyodide';
import { DATA_DIR, type RunCellRequest, type SandboxFile, type WorkerData, type WorkerMessage } from './protocol.js';
import { PYTHON_PRELUDE } from './python-prelude.js';

const WASM_PAGE_BYTES = 65_536;
const port = parentPort;
if (!port) throw new Error('sandbox-worker must run in a worker thread');
const config = workerData as WorkerData;

/**
 * Emscripten grows its heap through WebAssembly.Memory#grow and turns a failed grow into a
 * failed malloc, which Python reports as MemoryError; so capping grow caps the Python heap.
 */
function capWasmHeap(limitBytes: number): void {
  // lib ES2023 has no WebAssembly typings; this is the one member needed.
  const { prototype } = (globalThis as unknown as { WebAssembly: { Memory: { prototype: WasmMemory } } }).WebAssembly.Memory;
  const grow = prototype.grow;
  prototype.grow = function (this: WasmMemory, deltaPages: number): number {
    if (this.buffer.byteLength + deltaPages * WASM_PAGE_BYTES > limitBytes) {
      throw new RangeError(`sandbox memory limit of ${limitBytes} bytes reached`);
    }
    return grow.call(this, deltaPages);
  };
}

interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(deltaPages: number): number;
}

/**
 * Emscripten's socket layer opens real connections (and listening servers) on the host through
 * require('ws'); refusing that module in this thread's CommonJS loader makes every socket fail.
 */
function refuseNetworkModules(): void {
  const loader = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
  const load = loader._load;
  const refused = new Set(['ws', 'net', 'node:net', 'tls', 'node:tls', 'http', 'node:http', 'https', 'node:https', 'dgram', 'node:dgram']);
  loader._load = function (this: unknown, request: string, ...rest: unknown[]): unknown {
    if (refused.has(request)) throw new Error(`network access is disabled in the Python sandbox (${request})`);
    return load.call(this, request, ...rest);
  };
}

class LogCollector {
  private text = '';
  private truncated = false;
  private readonly decoder = new TextDecoder();

  constructor(private readonly maxChars: number) {}

  write = (bytes: Uint8Array): number => {
    if (!this.truncated) {
      this.text += this.decoder.decode(bytes, { stream: true });
      if (this.text.length > this.maxChars) {
        this.text = this.text.slice(0, this.maxChars);
        this.truncated = true;
      }
    }
    return bytes.length;
  };

  take(): string {
    const logs = this.truncated ? `${this.text}\n[output truncated after ${this.maxChars} characters]` : this.text;
    this.text = '';
    this.truncated = false;
    return logs;
  }
}

/** Content hashes of /mnt/data, so each result carries only what the cell created or changed. */
class DataDirWatcher {
  private known = new Map<string, string>();

  constructor(private readonly fs: PyodideAPI['FS']) {}

  write(files: SandboxFile[]): void {
    for (const file of files) {
      const path = resolveDataPath(file.path);
      this.fs.mkdirTree(dirname(path));
      this.fs.writeFile(path, file.bytes);
      this.known.set(path, digest(file.bytes));
    }
  }

  collectChanges(): SandboxFile[] {
    const current = new Map<string, string>();
    const changed: SandboxFile[] = [];
    for (const path of this.listFiles(DATA_DIR)) {
      const bytes = this.fs.readFile(path) as Uint8Array;
      const hash = digest(bytes);
      current.set(path, hash);
      if (this.known.get(path) !== hash) changed.push({ path, bytes });
    }
    this.known = current;
    return changed;
  }

  private listFiles(dir: string): string[] {
    if (!this.fs.analyzePath(dir).exists) return [];
    const paths: string[] = [];
    for (const name of this.fs.readdir(dir) as string[]) {
      if (name === '.' || name === '..') continue;
      const path = `${dir}/${name}`;
      const { mode } = this.fs.stat(path);
      if (this.fs.isDir(mode)) paths.push(...this.listFiles(path));
      else if (this.fs.isFile(mode)) paths.push(path);
    }
    return paths;
  }
}

function digest(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64');
}

function resolveDataPath(path: string): string {
  const absolute = path.startsWith('/') ? path : `${DATA_DIR}/${path}`;
  const segments = absolute.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (!absolute.startsWith(`${DATA_DIR}/`) || segments.includes('..')) {
    throw new Error(`input file path must lie under ${DATA_DIR}: ${path}`);
  }
  return `/${segments.join('/')}`;
}

async function startInterpreter(logs: LogCollector): Promise<{ pyodide: PyodideAPI; runCell: (code: string) => boolean }> {
  const packageDir = dirname(createRequire(import.meta.url).resolve('pyodide/package.json'));
  const pyodide = await loadPyodide({
    indexURL: packageDir,
    packageCacheDir: packageDir,
    env: {},
    // `import js` would otherwise hand Python the worker's globalThis (process, fetch, ...).
    jsglobals: Object.create(null) as object,
    stdout: () => {},
    stderr: () => {},
  });
  pyodide.setStdout({ write: logs.write, isatty: false });
  pyodide.setStderr({ write: logs.write, isatty: false });
  pyodide.runPython(PYTHON_PRELUDE);
  const runCellProxy = pyodide.globals.get('_stepwise_run_cell') as (code: string) => boolean;
  pyodide.globals.delete('_stepwise_run_cell');
  return { pyodide, runCell: (code) => runCellProxy(code) };
}

function reply(messagePort: MessagePort, result: Extract<WorkerMessage, { type: 'result' }>): void {
  messagePort.postMessage(result, result.files.map((file) => file.bytes.buffer as ArrayBuffer));
}

async function main(messagePort: MessagePort): Promise<void> {
  capWasmHeap(config.wasmHeapLimitBytes);
  refuseNetworkModules();
  const logs = new LogCollector(config.maxLogChars);
  let interpreter: Awaited<ReturnType<typeof startInterpreter>>;
  try {
    interpreter = await startInterpreter(logs);
  } catch (error) {
    messagePort.postMessage({ type: 'startup-failed', message: String(error) } satisfies WorkerMessage);
    return;
  }
  const dataDir = new DataDirWatcher(interpreter.pyodide.FS);
  messagePort.on('message', (request: RunCellRequest) => {
    try {
      dataDir.write(request.files);
    } catch (failure) {
      reply(messagePort, { type: 'result', id: request.id, logs: String(failure), error: true, files: [], fatal: false });
      return;
    }
    let error = true;
    let fatal = false;
    try {
      error = interpreter.runCell(request.code);
    } catch (failure) {
      // Python errors are handled inside run_cell; a JS exception here means Pyodide itself failed.
      logs.write(new TextEncoder().encode(`\n${String(failure)}\n`));
      fatal = true;
    }
    const files = fatal ? [] : dataDir.collectChanges();
    reply(messagePort, { type: 'result', id: request.id, logs: logs.take(), error, files, fatal });
  });
  messagePort.postMessage({ type: 'ready' } satisfies WorkerMessage);
}

await main(port);
