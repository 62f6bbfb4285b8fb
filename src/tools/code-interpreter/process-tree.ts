import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

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

/** States of a process that runs no code: stopped, stopped by a tracer, zombie, dead. */
const NOT_RUNNING = new Set(['T', 't', 'Z', 'X']);
const STOP_ROUNDS = 50;

function stateOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The state follows the command name, which is in parentheses and may hold anything.
    return stat[stat.lastIndexOf(')') + 2];
  } catch {
    return undefined;
  }
}

/**
 * Stops every process of the tree and checks that all of them are stopped: a tracer in the tree
 * can resume a process it traces (PTRACE_CONT undoes a SIGSTOP) before it is stopped itself, so
 * the tree is signalled again until one check finds nothing running; once every process is
 * stopped, none can resume another. False if that does not happen within the rounds.
 */
export async function stopTree(root: number): Promise<boolean> {
  for (let round = 0; round < STOP_ROUNDS; round++) {
    signalTree(root, 'SIGSTOP');
    await sleep(2);
    const running = processTree(root).filter((pid) => {
      const state = stateOf(pid);
      return state !== undefined && !NOT_RUNNING.has(state);
    });
    if (running.length === 0) return true;
  }
  return false;
}
