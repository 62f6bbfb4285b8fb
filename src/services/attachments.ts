import { notFound } from '../errors.js';
import type { CreateMessageRequest } from '../spec/wire.js';
import type { ServiceContext } from './context.js';
import { attachFiles, sharedAttachments } from './vector-store-files.js';
import { VectorStores } from './vector-stores.js';

/**
 * The files of new messages attached for file_search, checked to exist before anything is written.
 * `param` prefixes the error's param for message lists (`messages`, `additional_messages`).
 */
export async function fileSearchAttachments(ctx: ServiceContext, projectId: string, messages: CreateMessageRequest[], param?: string): Promise<string[]> {
  const fileIds: string[] = [];
  for (const [index, message] of messages.entries()) {
    for (const [position, attachment] of (message.attachments ?? []).entries()) {
      const fileId = attachment.file_id;
      const where = `${param === undefined ? '' : `${param}[${index}].`}attachments[${position}].file_id`;
      if (fileId === undefined || !(await ctx.store.files.get(projectId, fileId))) throw notFound('file', fileId ?? '', where);
      if (attachment.tools?.some((tool) => tool.type === 'file_search')) fileIds.push(fileId);
    }
  }
  return fileIds;
}

/**
 * Indexes message attachments for file_search in the thread's vector store, which is made on first
 * use and named in the thread's tool resources, as the hosted API does.
 */
export async function indexInThreadVectorStore(ctx: ServiceContext, projectId: string, threadId: string, fileIds: string[]): Promise<void> {
  if (fileIds.length === 0) return;
  const thread = await ctx.store.threads.get(projectId, threadId);
  if (!thread) return;
  let vectorStoreId = thread.tool_resources?.file_search?.vector_store_ids?.[0];
  // A store the thread names but that was deleted is replaced, as a missing one is made.
  if (!vectorStoreId || !(await ctx.store.vectorStores.get(projectId, vectorStoreId))) {
    vectorStoreId = (await new VectorStores(ctx).create(projectId, { name: `Files attached to ${threadId}` })).id;
    const fileSearch = { vector_store_ids: [vectorStoreId] };
    await ctx.store.threads.modify(projectId, threadId, (current) => ({ ...current, tool_resources: { ...current.tool_resources, file_search: fileSearch } }));
  }
  await attachFiles(ctx, projectId, vectorStoreId, await sharedAttachments(ctx, projectId, fileIds, undefined, {}));
}
