/**
 * Where sessions get their jailed interpreters: a check, once, that the jail works here (and what
 * it offers), then a small pool of interpreters started ahead with the heavy imports done.
 */
import { Cgroups } from './cgroups.js';
import { type JailLimits, jailHostUser, PYTHON } from './jail.js';
import { cgroupLimits, PythonSandbox, type SandboxOptions } from './sandbox.js';

/** The Debian packages of the jail and its data stack; the README gives the same command. */
export const INSTALL_COMMAND =
  'sudo apt-get install --no-install-recommends bubblewrap python3 python3-numpy python3-pandas python3-matplotlib python3-scipy ' +
  'python3-sklearn python3-openpyxl python3-docx python3-pil python3-sympy python3-seaborn python3-tabulate python3-pypdf';

/** Import names of the libraries the model is told about, with the distribution that carries each. */
const LIBRARIES: Record<string, string> = {
  numpy: 'numpy',
  pandas: 'pandas',
  matplotlib: 'matplotlib',
  scipy: 'scipy',
  sklearn: 'scikit-learn',
  openpyxl: 'openpyxl',
  docx: 'python-docx',
  PIL: 'pillow',
  sympy: 'sympy',
  seaborn: 'seaborn',
  tabulate: 'tabulate',
  pypdf: 'pypdf',
};

/** Imported by every pooled interpreter before it is handed out: most cells start with these. */
const PRELOAD = ['numpy', 'pandas', 'matplotlib.pyplot'];

const VERSIONS_CELL = String.raw`
import importlib.metadata, importlib.util, json, platform
found = {}
for module, dist in ${JSON.stringify(LIBRARIES)}.items():
    try:
        found[module] = importlib.metadata.version(dist) if importlib.util.find_spec(module) else None
    except Exception:
        found[module] = None
print(json.dumps({'python': platform.python_version(), 'libraries': found}))
`;

export interface InterpreterOptions {
  bwrap: string;
  timeoutMs: number;
  limits: JailLimits;
  warmPoolSize: number;
}

export type SandboxStatus = { available: true; summary: string } | { available: false; summary: string };

export class SandboxUnavailable extends Error {}

export class Interpreters {
  readonly #cgroups = Cgroups.detect();
  readonly #pool: Promise<PythonSandbox>[] = [];
  #status: Promise<SandboxStatus> | undefined;
  #closed = false;

  constructor(readonly options: InterpreterOptions) {}

  #sandboxOptions(preload: string[]): SandboxOptions {
    return { bwrap: this.options.bwrap, timeoutMs: this.options.timeoutMs, limits: this.options.limits, cgroups: this.#cgroups, preload };
  }

  /** Whether the jail works on this host, and what it offers; checked once. */
  status(): Promise<SandboxStatus> {
    this.#status ??= this.#check();
    return this.#status;
  }

  async #check(): Promise<SandboxStatus> {
    let report: { python: string; libraries: Record<string, string | null> };
    try {
      const sandbox = await PythonSandbox.start(this.#sandboxOptions([]));
      try {
        const result = await sandbox.run(VERSIONS_CELL);
        report = JSON.parse(result.logs) as typeof report;
      } finally {
        await sandbox.close();
      }
    } catch (error) {
      return {
        available: false,
        summary:
          `code_interpreter is unavailable: the Python sandbox (bubblewrap ${this.options.bwrap} running ${PYTHON}) does not work on this host ` +
          `(${(error as Error).message.trim()}). Nothing runs outside the sandbox; to install it on Debian or Ubuntu: ${INSTALL_COMMAND}`,
      };
    }
    const { limits } = this.options;
    const present = Object.entries(report.libraries).flatMap(([name, version]) => (version ? [`${name} ${version}`] : []));
    const missing = Object.entries(report.libraries).flatMap(([name, version]) => (version ? [] : [name]));
    const controllers = this.#cgroups.controllers;
    const cgroup = cgroupLimits(limits);
    const inForce = controllers.map((controller) => (controller === 'memory' ? `memory ${cgroup.memoryBytes / 2 ** 20} MB` : `pids ${cgroup.processes}`));
    const host = jailHostUser() ? 'uid 65534 (nobody) on the host' : `the server's uid ${process.getuid?.()} on the host`;
    return {
      available: true,
      summary: [
        `code_interpreter: Python ${report.python} in a bubblewrap jail (user, pid, network, ipc, uts and mount namespaces; uid 1000 inside, ${host}).`,
        `  libraries: ${present.join(', ') || 'none'}${missing.length ? `; missing: ${missing.join(', ')} (install: ${INSTALL_COMMAND})` : ''}`,
        `  rlimits: ${limits.memoryMb} MB address space, ${limits.cpuSeconds} CPU seconds, ${limits.dataMb} MB per file, ${limits.openFiles} open files, ${limits.processes} processes; /mnt/data ${limits.dataMb} MB`,
        `  cgroup limits: ${inForce.length ? `${inForce.join(', ')} per session (cgroup v1)` : 'none in force (they need root and cgroup v1 memory and pids hierarchies)'}`,
        `  per call ${this.options.timeoutMs / 1000} s; warm pool of ${this.options.warmPoolSize} interpreters with ${PRELOAD.join(', ')} imported`,
      ].join('\n'),
    };
  }

  /** Starts checking and filling the pool now, so that the first call does not wait for either. */
  warmUp(): void {
    void this.status().then((status) => {
      if (status.available) this.#refill();
    });
  }

  #refill(): void {
    while (!this.#closed && this.#pool.length < this.options.warmPoolSize) {
      const started = PythonSandbox.start(this.#sandboxOptions(PRELOAD));
      // A failed start leaves the pool; acquire() then starts its own and reports the failure.
      started.catch(() => {
        const at = this.#pool.indexOf(started);
        if (at !== -1) this.#pool.splice(at, 1);
      });
      this.#pool.push(started);
    }
  }

  /** An interpreter for a new session: a pooled one when ready, else one started now. */
  async acquire(): Promise<PythonSandbox> {
    const status = await this.status();
    if (!status.available) throw new SandboxUnavailable(status.summary);
    const pooled = await this.#pool.shift()?.catch(() => undefined);
    this.#refill();
    return pooled?.alive ? pooled : PythonSandbox.start(this.#sandboxOptions(PRELOAD));
  }

  async close(): Promise<void> {
    this.#closed = true;
    const pooled = this.#pool.splice(0);
    await Promise.all(pooled.map(async (started) => (await started.catch(() => undefined))?.close()));
    await this.#cgroups.close();
  }
}
