import { readdirSync, readFileSync } from 'node:fs';

function childrenOf(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  return tasks.flatMap((task) => {
    try {
      return readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  });
}

/** `root` and every process below it, from /proc (children files, which need no full scan). */
export function processTree(root: number): number[] {
  const seen = [root];
  for (let at = 0; at < seen.length; at++) seen.push(...childrenOf(seen[at]!));
  return seen;
}

/**
 * Sends `signal` to every process of the tree, again and again until a pass finds none it has not
 * signalled: a process that forks while being stopped has its children caught on the next pass.
 * Unlike a process-group signal this also reaches children that called setsid().
 */
export function signalTree(root: number, signal: NodeJS.Signals): void {
  const signalled = new Set<number>();
  for (let pass = 0; pass < 50; pass++) {
    const fresh = processTree(root).filter((pid) => !signalled.has(pid));
    if (fresh.length === 0) return;
    for (const pid of fresh) {
      signalled.add(pid);
      try {
        process.kill(pid, signal);
      } catch {
        // It exited meanwhile.
      }
    }
  }
}
