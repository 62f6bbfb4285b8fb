import type { Clock } from '../../clock.js';
import type { CellResult, PythonSandbox, SandboxFile } from './sandbox.js';

/** Threads whose last session ended, remembered so their next call can say so; bounded. */
const MAX_REMEMBERED_ENDINGS = 10_000;

function stateLost(reason: string): string {
  return `[A new Python session was started because this thread's previous one ${reason}: variables and files made before are gone; attached files are in /mnt/data again.]\n`;
}

/** A thread's Python session: variables and /mnt/data persist across the calls of all its runs. */
export class CodeSession {
  /** Input files already copied into the sandbox. */
  readonly writtenInputs = new Set<string>();
  /** Files the code made, by sandbox path, as the API files they were saved as. */
  readonly outputFiles = new Map<string, string>();
  /** Images the current run's code made that no message of the run shows yet. */
  unshownImages: string[] = [];
  #runId = '';
  #busy = 0;

  constructor(
    readonly projectId: string,
    private sandbox: PythonSandbox,
    /** Said before the first call's logs: why the thread's earlier state is gone, if it is. */
    private notice: string,
    private readonly now: () => number,
  ) {
    this.lastUsedMs = now();
  }

  lastUsedMs: number;

  get busy(): boolean {
    return this.#busy > 0;
  }

  /** Called when a run takes the session: the images awaiting an answer belong to one run. */
  beginRun(runId: string): void {
    if (this.#runId !== runId) this.unshownImages = [];
    this.#runId = runId;
    this.lastUsedMs = this.now();
  }

  get alive(): boolean {
    return this.sandbox.alive;
  }

  /** Puts a fresh interpreter in place of one that died; the next call's logs say the state went with it. */
  async replaceSandbox(sandbox: PythonSandbox): Promise<void> {
    await this.sandbox.close();
    this.sandbox = sandbox;
    this.writtenInputs.clear();
    this.outputFiles.clear();
    this.notice = stateLost('ended (see the previous call)');
  }

  async run(code: string, files: SandboxFile[]): Promise<CellResult> {
    this.#busy++;
    try {
      const result = await this.sandbox.run(code, files);
      const logs = `${this.notice}${result.logs}`;
      this.notice = '';
      return { ...result, logs };
    } finally {
      this.#busy--;
      this.lastUsedMs = this.now();
    }
  }

  close(): Promise<void> {
    return this.sandbox.close();
  }
}

export interface CodeSessionsOptions {
  clock: Clock;
  idleMs: number;
  /** Live sessions in this process; past it, the least recently used idle one is closed. */
  maxSessions: number;
  /** Whether the thread still exists; a deleted thread's session is closed by the sweep. */
  threadExists(projectId: string, threadId: string): Promise<boolean>;
}

/** The Python sessions of the threads whose runs execute here, one per thread. */
export class CodeSessions {
  /** In least recently used order. */
  readonly #sessions = new Map<string, Promise<CodeSession>>();
  readonly #endings = new Map<string, string>();
  readonly #sweep: NodeJS.Timeout;

  constructor(
    private readonly interpreters: { acquire(): Promise<PythonSandbox> },
    private readonly options: CodeSessionsOptions,
  ) {
    this.#sweep = setInterval(() => void this.sweep(), Math.min(60_000, Math.max(1000, options.idleMs / 4)));
    this.#sweep.unref();
  }

  #now(): number {
    return this.options.clock.nowMs();
  }

  /** The thread's session, started (or restarted) if need be, taken by run `runId`. */
  async get({ projectId, threadId, runId }: { projectId: string; threadId: string; runId: string }): Promise<CodeSession> {
    let pending = this.#sessions.get(threadId);
    const current = await pending?.catch(() => undefined);
    if (current && !current.busy && this.#isIdle(current)) {
      await this.#close(threadId, this.#idleReason());
      pending = undefined;
    } else if (!current) pending = undefined;
    if (!pending) {
      const notice = this.#endings.get(threadId);
      this.#endings.delete(threadId);
      const started = this.interpreters.acquire().then((sandbox) => new CodeSession(projectId, sandbox, notice ? stateLost(notice) : '', () => this.#now()));
      started.catch(() => {
        if (this.#sessions.get(threadId) === started) this.#sessions.delete(threadId);
      });
      pending = started;
    }
    this.#sessions.delete(threadId);
    this.#sessions.set(threadId, pending);
    this.#closeOverflow();
    const session = await pending;
    if (!session.alive) await session.replaceSandbox(await this.interpreters.acquire());
    session.beginRun(runId);
    return session;
  }

  /** The thread's session if it has one, without starting one. */
  async existing(threadId: string): Promise<CodeSession | undefined> {
    return this.#sessions.get(threadId)?.catch(() => undefined);
  }

  #isIdle(session: CodeSession): boolean {
    return this.#now() - session.lastUsedMs > this.options.idleMs;
  }

  #idleReason(): string {
    return `was closed after ${Math.round(this.options.idleMs / 60_000)} minutes without use`;
  }

  #closeOverflow(): void {
    let excess = this.#sessions.size - this.options.maxSessions;
    for (const [threadId, pending] of this.#sessions) {
      if (excess <= 0) return;
      excess--;
      void pending.then((session) => {
        if (!session.busy) return this.#close(threadId, 'was closed to make room for newer sessions on this server');
      }, () => {});
    }
  }

  async #close(threadId: string, reason: string | undefined): Promise<void> {
    const pending = this.#sessions.get(threadId);
    this.#sessions.delete(threadId);
    if (reason) {
      this.#endings.set(threadId, reason);
      if (this.#endings.size > MAX_REMEMBERED_ENDINGS) this.#endings.delete(this.#endings.keys().next().value!);
    }
    await (await pending?.catch(() => undefined))?.close();
  }

  /** Closes sessions idle past their time and those of deleted threads; also runs on a timer. */
  async sweep(): Promise<void> {
    for (const [threadId, pending] of [...this.#sessions]) {
      const session = await pending.catch(() => undefined);
      if (!session || session.busy) continue;
      if (this.#isIdle(session)) await this.#close(threadId, this.#idleReason());
      else if (!(await this.options.threadExists(session.projectId, threadId).catch(() => true))) await this.#close(threadId, undefined);
    }
  }

  async closeAll(): Promise<void> {
    clearInterval(this.#sweep);
    await Promise.all([...this.#sessions.keys()].map((threadId) => this.#close(threadId, undefined)));
  }
}
