/**
 * Host side of one jailed Python session: starts the kernel under bubblewrap, sends it cells and
 * input files, and keeps every process of the jail stopped (SIGSTOP) while no call runs. A call
 * past its time limit, or a jail that dies, ends the session for good: its owner starts another.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { posix } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { Cgroups, SessionCgroup, SessionLimits } from './cgroups.js';
import { BLOCK_FD, INFO_FD, type JailLimits, jailCommand, jailHostUser, PYTHON, TMP_MB } from './jail.js';
import { KERNEL_SOURCE } from './kernel.js';
import { DATA_DIR, type KernelLimits, type KernelReply, type KernelRequest, type SandboxFile } from './protocol.js';
import { processTree, signalTree, stopTree } from './process-tree.js';

export type { SandboxFile } from './protocol.js';

const MB = 1024 * 1024;

export interface SandboxOptions {
  /** The bubblewrap executable. */
  bwrap: string;
  /** Wall-clock limit of one run() call. */
  timeoutMs: number;
  limits: JailLimits;
  cgroups: Cgroups;
  /** Modules imported before the session is ready, so that cells don't wait for them. */
  preload: string[];
}

export interface CellResult {
  logs: string;
  error: boolean;
  files: SandboxFile[];
  /** Figures the cell showed or left open, as PNG. */
  images: Uint8Array[];
  timedOut: boolean;
  /** The session ended with this call (time limit, crash, memory): its variables and files are gone. */
  lost: boolean;
}

export const KERNEL_LIMITS: KernelLimits = { maxLogBytes: 100_000, maxFiles: 20, maxFileBytes: 64 * MB, maxImages: 10, maxImageBytes: 16 * MB };
/**
 * The longest reply line accepted: a result with every cap used, files and figures in base64, logs
 * escaped as JSON (at most six characters a byte), and room to spare.
 */
const MAX_REPLY_BYTES = Math.ceil((4 / 3) * (KERNEL_LIMITS.maxFileBytes + KERNEL_LIMITS.maxImageBytes)) + 12 * KERNEL_LIMITS.maxLogBytes + MB;
/** Replies a cell may queue unasked (code in the jail can write to the kernel's channel) before the session ends. */
const MAX_QUEUED_REPLIES = 100;
const STARTUP_TIMEOUT_MS = 60_000;
const INPUT_CHUNK_BYTES = 3 * MB;
const MAX_STDERR_CHARS = 4000;

let sessionCount = 0;

/** A session's cgroup limits: /mnt/data, /tmp and /dev/shm are tmpfs, whose pages count as its memory too. */
export function cgroupLimits(limits: JailLimits): SessionLimits {
  return { memoryBytes: (limits.memoryMb + limits.dataMb + 2 * TMP_MB) * MB, processes: limits.processes };
}

class SandboxExited extends Error {}

/** Reads the kernel's replies, one JSON value a line, refusing lines past MAX_REPLY_BYTES. */
class ReplyReader {
  readonly #replies: unknown[] = [];
  #waiter: { resolve: (reply: unknown) => void; reject: (error: Error) => void } | undefined;
  #partial: Buffer[] = [];
  #partialBytes = 0;
  #ended: Error | undefined;

  constructor(
    stream: Readable,
    private readonly onOverflow: () => void,
  ) {
    stream.on('data', (chunk: Buffer) => {
      let start = 0;
      for (let newline = chunk.indexOf(10); newline !== -1; newline = chunk.indexOf(10, start)) {
        this.#partial.push(chunk.subarray(start, newline));
        this.#deliver(Buffer.concat(this.#partial).toString('utf8'));
        this.#partial = [];
        this.#partialBytes = 0;
        start = newline + 1;
      }
      this.#partial.push(chunk.subarray(start));
      this.#partialBytes += chunk.length - start;
      if (this.#partialBytes > MAX_REPLY_BYTES) {
        this.#partial = [];
        onOverflow();
      }
    });
  }

  #deliver(line: string): void {
    let reply: unknown;
    try {
      reply = JSON.parse(line);
    } catch {
      reply = undefined;
    }
    if (this.#waiter) {
      this.#waiter.resolve(reply);
      this.#waiter = undefined;
    } else if (this.#replies.push(reply) > MAX_QUEUED_REPLIES) {
      this.#replies.length = 0;
      this.onOverflow();
    }
  }

  /** Drops replies nobody asked for: code in the jail can write to the kernel's channel too. */
  discardQueued(): void {
    this.#replies.length = 0;
  }

  next(): Promise<unknown> {
    if (this.#replies.length > 0) return Promise.resolve(this.#replies.shift());
    if (this.#ended) return Promise.reject(this.#ended);
    return new Promise((resolve, reject) => (this.#waiter = { resolve, reject }));
  }

  end(error: Error): void {
    this.#ended = error;
    this.#waiter?.reject(error);
    this.#waiter = undefined;
  }
}

/** The kernel's result, checked: it comes from the jail, so it is treated as untrusted input. */
function checkedResult(reply: unknown): Omit<CellResult, 'timedOut' | 'lost'> | undefined {
  if (typeof reply !== 'object' || reply === null || (reply as { type?: unknown }).type !== 'result') return undefined;
  const { logs, error, images, files } = reply as Partial<Record<keyof Extract<KernelReply, { type: 'result' }>, unknown>>;
  if (typeof logs !== 'string' || typeof error !== 'boolean' || !Array.isArray(images) || !Array.isArray(files)) return undefined;
  const checkedFiles: SandboxFile[] = [];
  let totalBytes = 0;
  for (const file of files.slice(0, KERNEL_LIMITS.maxFiles) as { path?: unknown; data?: unknown }[]) {
    if (typeof file?.path !== 'string' || typeof file.data !== 'string') continue;
    const path = posix.normalize(file.path);
    if (!path.startsWith(`${DATA_DIR}/`)) continue;
    const bytes = Buffer.from(file.data, 'base64');
    totalBytes += bytes.length;
    if (totalBytes > KERNEL_LIMITS.maxFileBytes) break;
    checkedFiles.push({ path, bytes });
  }
  const checkedImages: Uint8Array[] = [];
  let imageBytes = 0;
  for (const image of images.slice(0, KERNEL_LIMITS.maxImages)) {
    if (typeof image !== 'string') continue;
    const bytes = Buffer.from(image, 'base64');
    imageBytes += bytes.length;
    if (imageBytes > KERNEL_LIMITS.maxImageBytes) break;
    checkedImages.push(bytes);
  }
  return { logs: logs.slice(0, 2 * KERNEL_LIMITS.maxLogBytes), error, images: checkedImages, files: checkedFiles };
}

/** Reads bubblewrap's `--info-fd` report up to the sandboxed child's pid. */
function childPidOf(info: Readable): Promise<number> {
  return new Promise((resolve, reject) => {
    let text = '';
    // The stream is read to its end: bubblewrap dies of SIGPIPE if the report's tail finds it closed.
    info.on('data', (chunk: Buffer) => {
      text += String(chunk);
      const match = /"child-pid":\s*(\d+)/.exec(text);
      if (match) resolve(Number(match[1]));
    });
    info.on('end', () => reject(new SandboxExited('bubblewrap ended before starting the sandbox')));
  });
}

export class PythonSandbox {
  #alive = true;
  #innerKilled = false;
  #exit: Promise<void>;
  #stderr = '';
  #queue: Promise<unknown> = Promise.resolve();
  readonly #replies: ReplyReader;

  private constructor(
    private readonly options: SandboxOptions,
    private readonly child: ChildProcess,
    private readonly cgroup: SessionCgroup | undefined,
    /** The jail's first process (pid 1 inside), as the host numbers it. */
    private innerPid = 0,
  ) {
    this.#replies = new ReplyReader(child.stdout!, () => this.#kill());
    child.stderr!.on('data', (chunk: Buffer) => {
      if (this.#stderr.length < MAX_STDERR_CHARS) this.#stderr += String(chunk).slice(0, MAX_STDERR_CHARS - this.#stderr.length);
    });
    // A write to a kernel that just died fails with EPIPE, and bubblewrap closes its fds with
    // unread data: the exit handling reports what matters.
    for (const stream of child.stdio) stream?.on('error', () => {});
    this.#exit = new Promise((resolve) => {
      child.once('exit', () => {
        this.#alive = false;
        this.#replies.end(new SandboxExited('the sandbox exited'));
        resolve();
      });
      child.once('error', (error) => {
        this.#alive = false;
        this.#stderr ||= error.message;
        this.#replies.end(new SandboxExited(error.message));
        resolve();
      });
    });
  }

  static async start(options: SandboxOptions): Promise<PythonSandbox> {
    const { limits, cgroups, preload } = options;
    const cgroup = cgroups.create(`session-${process.pid}-${++sessionCount}`, cgroupLimits(limits));
    const command = [PYTHON, '-I', '-c', KERNEL_SOURCE, preload.join(','), JSON.stringify(KERNEL_LIMITS)];
    const child = spawn(...jailCommand(options.bwrap, limits, command), {
      stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe'],
      env: {},
      cwd: '/',
      ...jailHostUser(),
    });
    const sandbox = new PythonSandbox(options, child, cgroup);
    try {
      await sandbox.#boot(child.stdio[INFO_FD] as Readable, child.stdio[BLOCK_FD] as Writable);
    } catch (error) {
      await sandbox.close();
      const detail = sandbox.#stderr.trim();
      throw new Error(`the Python sandbox did not start: ${(error as Error).message} (bubblewrap exit ${sandbox.child.exitCode}, signal ${sandbox.child.signalCode})${detail ? `: ${detail}` : ''}`);
    }
    return sandbox;
  }

  async #boot(info: Readable, block: Writable): Promise<void> {
    const timer = setTimeout(() => this.#kill(), STARTUP_TIMEOUT_MS);
    try {
      this.innerPid = await Promise.race([childPidOf(info), this.#exit.then(() => Promise.reject(new SandboxExited('bubblewrap exited')))]);
      // The child waits on the block fd before it forks anything, so all its processes are born in the group.
      this.cgroup?.add(this.innerPid);
      block.end('x');
      const ready = await this.#replies.next();
      if ((ready as { type?: unknown } | undefined)?.type !== 'ready') throw new Error('the kernel sent no ready message');
      if (!(await stopTree(this.innerPid))) throw new Error('its processes could not be stopped');
    } finally {
      clearTimeout(timer);
    }
  }

  get alive(): boolean {
    return this.#alive;
  }

  /** The host pids of the jail's processes. */
  processes(): number[] {
    return this.#alive ? processTree(this.innerPid) : [];
  }

  /**
   * Writes `files` under /mnt/data, runs `code`, and returns its logs, figures and the files it
   * created or changed. Calls run one after another, each with its whole time limit.
   */
  run(code: string, files: SandboxFile[] = []): Promise<CellResult> {
    const result = this.#queue.then(() => this.#runNow(code, files));
    this.#queue = result.catch(() => {});
    return result;
  }

  async #runNow(code: string, files: SandboxFile[]): Promise<CellResult> {
    if (!this.#alive) return this.#lostResult();
    signalTree(this.innerPid, 'SIGCONT');
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.#kill();
    }, this.options.timeoutMs);
    try {
      for (const file of files) await this.#sendFile(file);
      this.#replies.discardQueued();
      await this.#send({ op: 'run', code });
      const result = checkedResult(await this.#replies.next());
      if (!result) {
        this.#kill();
        return { logs: 'The Python session sent an unreadable reply and was ended.', error: true, files: [], images: [], timedOut: false, lost: true };
      }
      clearTimeout(timer);
      if (await stopTree(this.innerPid)) return { ...result, timedOut: false, lost: false };
      // Something in the jail keeps resuming its processes: nothing may run between calls.
      this.#kill();
      return { ...result, logs: `${result.logs}\nThe Python session was ended: its processes kept running after the cell returned.`, timedOut: false, lost: true };
    } catch (error) {
      if (!(error instanceof SandboxExited)) throw error;
      await this.#exit;
      if (timedOut) {
        return { logs: `Execution timed out after ${this.options.timeoutMs / 1000} seconds: the Python session was ended.`, error: true, files: [], images: [], timedOut, lost: true };
      }
      return this.#lostResult();
    } finally {
      clearTimeout(timer);
    }
  }

  #lostResult(): CellResult {
    const reason = this.cgroup?.oomKilled()
      ? `it ran out of memory (the limit is ${this.options.limits.memoryMb} MB)`
      : `it exited (exit code ${this.child.exitCode ?? 'none'}, signal ${this.child.signalCode ?? 'none'})`;
    return { logs: `The Python session ended: ${reason}.`, error: true, files: [], images: [], timedOut: false, lost: true };
  }

  async #sendFile(file: SandboxFile): Promise<void> {
    const path = file.path.slice(DATA_DIR.length + 1);
    for (let offset = 0; offset === 0 || offset < file.bytes.length; offset += INPUT_CHUNK_BYTES) {
      const chunk = Buffer.from(file.bytes.buffer, file.bytes.byteOffset + offset, Math.min(INPUT_CHUNK_BYTES, file.bytes.length - offset));
      await this.#send({ op: 'write', path, data: chunk.toString('base64'), append: offset > 0 });
    }
  }

  async #send(request: KernelRequest): Promise<void> {
    if (!this.#alive) throw new SandboxExited('the sandbox exited');
    const stdin = this.child.stdin!;
    if (!stdin.write(`${JSON.stringify(request)}\n`)) await Promise.race([once(stdin, 'drain'), this.#exit]);
  }

  #kill(): void {
    // Killing the jail's pid 1 ends its whole pid namespace, stopped processes included, and then
    // bubblewrap, which reaps it. It is killed even when bubblewrap is gone already (it outlives a
    // bubblewrap that died early), but only once: its pid may be reused after that.
    if (this.innerPid && !this.#innerKilled) {
      this.#innerKilled = true;
      try {
        process.kill(this.innerPid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    } else if (this.#alive) this.child.kill('SIGKILL');
  }

  async close(): Promise<void> {
    this.#kill();
    await this.#exit;
    await this.cgroup?.remove();
  }
}
