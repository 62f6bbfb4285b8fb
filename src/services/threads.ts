import { unixSeconds } from '../clock.js';
import { notFound } from '../errors.js';
import { newId } from '../ids.js';
import type { CreateThreadRequest, Message, ModifyThreadRequest, Thread } from '../spec/wire.js';
import type { MetadataMatch, Page, PageQuery, TableRows } from '../store/collection.js';
import type { Store } from '../store/store.js';
import { fileSearchAttachments, indexInThreadVectorStore } from './attachments.js';
import type { ServiceContext } from './context.js';
import { messagesFromRequests } from './messages.js';
import { activeRun } from './run-status.js';
import { resolveToolResources } from './tool-resources.js';
import { checkMetadata } from './validation.js';

/**
 * A new thread and its initial messages, with the rows that store them (for `Store.insertAll`);
 * tool resources resolved.
 */
export function newThread(store: Store, projectId: string, params: CreateThreadRequest, createdAt: number, param = ''): { thread: Thread; messages: Message[]; rows: TableRows[] } {
  checkMetadata(params.metadata, `${param}metadata`);
  const thread: Thread = {
    id: newId('thread'),
    object: 'thread',
    created_at: createdAt,
    tool_resources: params.tool_resources ?? {},
    metadata: params.metadata ?? {},
  };
  const messages = messagesFromRequests(thread.id, params.messages ?? [], createdAt, `${param}messages`);
  return { thread, messages, rows: [store.threads.rows(projectId, [thread]), store.messages.rows(projectId, messages)] };
}

export class Threads {
  constructor(readonly ctx: ServiceContext) {}

  async create(projectId: string, params: CreateThreadRequest): Promise<Thread> {
    checkMetadata(params.metadata);
    const searchFiles = await fileSearchAttachments(this.ctx, projectId, params.messages ?? [], 'messages');
    const resolved = { ...params, tool_resources: await resolveToolResources(this.ctx, projectId, params.tool_resources) };
    const { thread, rows } = newThread(this.ctx.store, projectId, resolved, unixSeconds(this.ctx.clock));
    await this.ctx.store.insertAll(rows);
    await indexInThreadVectorStore(this.ctx, projectId, thread.id, searchFiles);
    return this.retrieve(projectId, thread.id);
  }

  async retrieve(projectId: string, threadId: string): Promise<Thread> {
    const thread = await this.ctx.store.threads.get(projectId, threadId);
    if (!thread) throw notFound('thread', threadId);
    return thread;
  }

  /** Not in the spec (the hosted API served it to dashboard sessions only): the console's threads log. */
  list(projectId: string, page: PageQuery, metadata: MetadataMatch): Promise<Page<Thread>> {
    return this.ctx.store.threads.list(projectId, {}, page, metadata);
  }

  async update(projectId: string, threadId: string, params: ModifyThreadRequest): Promise<Thread> {
    checkMetadata(params.metadata);
    await this.retrieve(projectId, threadId);
    const toolResources = await resolveToolResources(this.ctx, projectId, params.tool_resources);
    const changed = await this.ctx.store.threads.modify(projectId, threadId, (thread) => ({
      ...thread,
      // Null clears a field to what create gives when it is left out.
      ...(params.metadata !== undefined && { metadata: params.metadata ?? {} }),
      ...(toolResources !== undefined && { tool_resources: toolResources ?? {} }),
    }));
    if (!changed) throw notFound('thread', threadId);
    return changed;
  }

  /** Deletes the thread with its messages, runs and steps; a run in flight is stopped first. */
  async delete(projectId: string, threadId: string): Promise<{ id: string; object: 'thread.deleted'; deleted: true }> {
    await this.retrieve(projectId, threadId);
    const running = await activeRun(this.ctx.store, projectId, threadId);
    if (running) await this.ctx.scheduler.abort(running.id, 'deleted');
    await this.ctx.store.transaction(async (store) => {
      await store.steps.deleteWhere(projectId, { thread_id: threadId });
      await store.runs.deleteWhere(projectId, { thread_id: threadId });
      await store.messages.deleteWhere(projectId, { thread_id: threadId });
      await store.threads.delete(projectId, threadId);
    });
    return { id: threadId, object: 'thread.deleted', deleted: true };
  }
}
