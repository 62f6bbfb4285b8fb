/**
 * Per-session cgroup v1 `memory` and `pids` limits, where the host has those hierarchies mounted
 * and this process may create groups in them (as root). cgroup v2 hosts without delegation, and
 * unprivileged servers, go without: the rlimits still apply.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

type Controller = 'memory' | 'pids';

/** Where this process's own group of `controller` sits, if that v1 hierarchy is mounted. */
function ownGroupDir(controller: Controller): string | undefined {
  const mount = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' '))
    .find((fields) => {
      const separator = fields.indexOf('-');
      return separator > 0 && fields[separator + 1] === 'cgroup' && (fields[separator + 3] ?? '').split(',').includes(controller);
    });
  const membership = readFileSync('/proc/self/cgroup', 'utf8')
    .split('\n')
    .map((line) => line.split(':'))
    .find((fields) => (fields[1] ?? '').split(',').includes(controller));
  if (!mount || !membership) return undefined;
  const [root, mountPoint] = [mount[3]!, mount[4]!];
  const path = membership.slice(2).join(':');
  const relative = root === '/' ? path : path.startsWith(root) ? path.slice(root.length) : undefined;
  return relative === undefined ? undefined : `${mountPoint}${relative === '/' ? '' : relative}`;
}

/** Removes the empty groups left by servers that died without closing theirs (SIGKILL). */
function removeDeadServersGroups(own: string): void {
  for (const name of readdirSync(own)) {
    const pid = /^stepwise-(\d+)$/.exec(name)?.[1];
    if (!pid || existsSync(`/proc/${pid}`)) continue;
    try {
      for (const session of readdirSync(`${own}/${name}`, { withFileTypes: true })) if (session.isDirectory()) rmdirSync(`${own}/${name}/${session.name}`);
      rmdirSync(`${own}/${name}`);
    } catch {
      // A group that still holds processes stays.
    }
  }
}

/** A parent group for this server's sessions under its own group, or undefined if not allowed. */
function serverGroupDir(controller: Controller): string | undefined {
  const own = ownGroupDir(controller);
  if (!own) return undefined;
  removeDeadServersGroups(own);
  const dir = `${own}/stepwise-${process.pid}`;
  try {
    mkdirSync(dir, { recursive: true });
    return dir;
  } catch {
    return undefined;
  }
}

async function removeGroup(dir: string): Promise<void> {
  // A killed session's processes take a moment to leave the group.
  for (let attempt = 0; attempt < 100 && existsSync(dir); attempt++) {
    try {
      rmdirSync(dir);
    } catch {
      await sleep(20);
    }
  }
}

export interface SessionLimits {
  memoryBytes: number;
  processes: number;
}

/** The cgroup limits this host offers. */
export class Cgroups {
  private constructor(
    private readonly memoryDir: string | undefined,
    private readonly pidsDir: string | undefined,
  ) {}

  static detect(): Cgroups {
    return new Cgroups(serverGroupDir('memory'), serverGroupDir('pids'));
  }

  get controllers(): Controller[] {
    return [...(this.memoryDir ? ['memory' as const] : []), ...(this.pidsDir ? ['pids' as const] : [])];
  }

  /** Makes the groups of one session; `undefined` when the host offers none. */
  create(name: string, limits: SessionLimits): SessionCgroup | undefined {
    if (!this.memoryDir && !this.pidsDir) return undefined;
    const memory = this.memoryDir && `${this.memoryDir}/${name}`;
    const pids = this.pidsDir && `${this.pidsDir}/${name}`;
    if (memory) {
      mkdirSync(memory);
      writeFileSync(`${memory}/memory.limit_in_bytes`, String(limits.memoryBytes));
      // With swap accounting, swap must not extend the limit.
      if (existsSync(`${memory}/memory.memsw.limit_in_bytes`)) writeFileSync(`${memory}/memory.memsw.limit_in_bytes`, String(limits.memoryBytes));
    }
    if (pids) {
      mkdirSync(pids);
      writeFileSync(`${pids}/pids.max`, String(limits.processes));
    }
    return new SessionCgroup([memory, pids].filter((dir): dir is string => Boolean(dir)), memory || undefined);
  }

  async close(): Promise<void> {
    for (const dir of [this.memoryDir, this.pidsDir]) if (dir) await removeGroup(dir);
  }
}

export class SessionCgroup {
  constructor(
    private readonly dirs: string[],
    private readonly memoryDir: string | undefined,
  ) {}

  /** Moves `pid` in; its later children are born inside. */
  add(pid: number): void {
    for (const dir of this.dirs) writeFileSync(`${dir}/cgroup.procs`, String(pid));
  }

  /** Whether the kernel's OOM killer has killed a process of this session for its memory limit. */
  oomKilled(): boolean {
    if (!this.memoryDir) return false;
    try {
      const match = /^oom_kill (\d+)$/m.exec(readFileSync(`${this.memoryDir}/memory.oom_control`, 'utf8'));
      return Number(match?.[1] ?? 0) > 0;
    } catch {
      return false;
    }
  }

  async remove(): Promise<void> {
    await Promise.all(this.dirs.map(removeGroup));
  }
}
