import type { Clock } from '../clock.js';

export interface KeyLookup {
  projectId: string | undefined;
  anyActive: boolean;
}

/**
 * A number that moves whenever another process may have changed the keys, read on the same
 * connection as the lookups, so that a lookup run after reading it sees at least those changes.
 */
export type ChangeCounter = () => Promise<number>;

/** Active keys kept at most; past that, the oldest goes. */
const MAX_KEYS = 1000;
/** A safety net only: the change counter already tells when to read afresh. */
const TTL_MS = 60_000;

/** The database's change counter and this process's own key changes, as they were before a lookup's query. */
export interface CacheTag {
  version: number;
  generation: number;
}

interface Snapshot {
  version: number;
  expiresAtMs: number;
  anyActive: boolean;
  /** Hash of an active key's secret -> its project. */
  projects: Map<string, string>;
}

/**
 * What recent key lookups found, trusted while the database's change counter (moved by other
 * processes' commits) and this process's own key changes are as they were when it was filled.
 * Only keys found active are kept, so a flood of unknown secrets adds nothing to it.
 */
export class ApiKeyCache {
  #generation = 0;
  #snapshot: Snapshot | undefined;

  constructor(
    private readonly changes: ChangeCounter,
    private readonly clock: Clock,
  ) {}

  /** Taken before the query whose result `remember` may keep, so that result is never older than its tag. */
  async tag(): Promise<CacheTag> {
    const generation = this.#generation;
    return { version: await this.changes(), generation };
  }

  find(tag: CacheTag, hash: string | undefined): KeyLookup | undefined {
    const snapshot = this.#valid(tag);
    if (!snapshot) return undefined;
    if (!snapshot.anyActive || hash === undefined) return { projectId: undefined, anyActive: snapshot.anyActive };
    const projectId = snapshot.projects.get(hash);
    return projectId === undefined ? undefined : { projectId, anyActive: true };
  }

  remember(tag: CacheTag, hash: string | undefined, found: KeyLookup): void {
    if (tag.generation !== this.#generation) return;
    const snapshot = this.#valid(tag) ?? (this.#snapshot = { version: tag.version, expiresAtMs: this.clock.nowMs() + TTL_MS, anyActive: found.anyActive, projects: new Map() });
    snapshot.anyActive = found.anyActive;
    if (hash === undefined || found.projectId === undefined) return;
    if (snapshot.projects.size >= MAX_KEYS) snapshot.projects.delete(snapshot.projects.keys().next().value!);
    snapshot.projects.set(hash, found.projectId);
  }

  /** After this process changed a key: its own commits leave the change counter where it was. */
  forget(): void {
    this.#generation++;
    this.#snapshot = undefined;
  }

  #valid(tag: CacheTag): Snapshot | undefined {
    const snapshot = this.#snapshot;
    if (snapshot && snapshot.version === tag.version && tag.generation === this.#generation && this.clock.nowMs() < snapshot.expiresAtMs) return snapshot;
    return undefined;
  }
}
