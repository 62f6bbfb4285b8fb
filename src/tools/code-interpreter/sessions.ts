import type { PythonSandbox } from './sandbox.js';

/** One interpreter for one run: its variables persist between the run's calls. */
export class CodeSession {
  /** Input files already copied into the sandbox. */
  readonly writtenInputs = new Set<string>();
  /** Files the code made, by sandbox path, as the API files they were saved as. */
  readonly outputFiles = new Map<string, string>();
  /** Images the code made that no message of the run shows yet. */
  readonly unshownImages: string[] = [];
  lastUsed = Date.now();

  constructor(readonly sandbox: PythonSandbox) {}
}

/** The code sessions of the runs executing here, started on first use and closed when idle. */
export class CodeSessions {
  readonly #sessions = new Map<string, Promise<CodeSession>>();
  readonly #sweep: NodeJS.Timeout;

  constructor(
    readonly startSandbox: () => Promise<PythonSandbox>,
    readonly idleMs: number,
  ) {
    this.#sweep = setInterval(() => void this.#closeIdle(), Math.max(1000, idleMs / 4));
    this.#sweep.unref();
  }

  async get(runId: string): Promise<CodeSession> {
    let session = this.#sessions.get(runId);
    if (!session) {
      session = this.startSandbox().then((sandbox) => new CodeSession(sandbox));
      this.#sessions.set(runId, session);
      session.catch(() => this.#sessions.delete(runId));
    }
    const ready = await session;
    ready.lastUsed = Date.now();
    return ready;
  }

  /** The run's session if it has one, without starting one. */
  async existing(runId: string): Promise<CodeSession | undefined> {
    return this.#sessions.get(runId)?.catch(() => undefined);
  }

  async close(runId: string): Promise<void> {
    const session = this.#sessions.get(runId);
    this.#sessions.delete(runId);
    await (await session?.catch(() => undefined))?.sandbox.close();
  }

  async closeAll(): Promise<void> {
    clearInterval(this.#sweep);
    await Promise.all([...this.#sessions.keys()].map((runId) => this.close(runId)));
  }

  async #closeIdle(): Promise<void> {
    for (const [runId, pending] of this.#sessions) {
      const session = await pending.catch(() => undefined);
      if (session && Date.now() - session.lastUsed > this.idleMs) await this.close(runId);
    }
  }
}
