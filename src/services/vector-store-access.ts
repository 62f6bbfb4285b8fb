import { unixSeconds } from '../clock.js';
import { notFound } from '../errors.js';
import type { VectorStore } from '../spec/wire.js';
import type { ServiceContext } from './context.js';

const SECONDS_PER_DAY = 86_400;

export function expiresAt(expiresAfter: VectorStore['expires_after'], lastActiveAt: number): number | null {
  return expiresAfter ? lastActiveAt + expiresAfter.days * SECONDS_PER_DAY : null;
}

/** Expiry is a matter of time, so it is decided when the store is read rather than stored. */
export function presented(vectorStore: VectorStore, nowSeconds: number): VectorStore {
  const expired = vectorStore.expires_at != null && vectorStore.expires_at <= nowSeconds;
  return expired ? { ...vectorStore, status: 'expired' } : vectorStore;
}

export async function existingVectorStore(ctx: ServiceContext, projectId: string, vectorStoreId: string): Promise<VectorStore> {
  const vectorStore = await ctx.store.vectorStores.get(projectId, vectorStoreId);
  if (!vectorStore) throw notFound('vector store', vectorStoreId);
  return presented(vectorStore, unixSeconds(ctx.clock));
}

/** Changes a stored vector store, atomically, so it cannot overwrite counts refreshed meanwhile. */
export async function changeVectorStore(ctx: ServiceContext, projectId: string, vectorStoreId: string, change: (vectorStore: VectorStore) => VectorStore): Promise<VectorStore> {
  const changed = await ctx.store.vectorStores.modify(projectId, vectorStoreId, change);
  if (!changed) throw notFound('vector store', vectorStoreId);
  return changed;
}

/** Records use of the store (a search, an attached file), which pushes its expiry back. */
export function touchVectorStore(ctx: ServiceContext, projectId: string, vectorStoreId: string): Promise<VectorStore> {
  const now = unixSeconds(ctx.clock);
  return changeVectorStore(ctx, projectId, vectorStoreId, (vectorStore) => ({ ...vectorStore, last_active_at: now, expires_at: expiresAt(vectorStore.expires_after, now) }));
}
