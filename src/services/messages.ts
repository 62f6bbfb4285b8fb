import { unixSeconds } from '../clock.js';
import { invalidRequest, notFound } from '../errors.js';
import { newId } from '../ids.js';
import type { CreateMessageRequest, Message, MessageContent, ModifyMessageRequest } from '../spec/wire.js';
import type { Page, PageQuery } from '../store/collection.js';
import type { Store } from '../store/store.js';
import { fileSearchAttachments, indexInThreadVectorStore } from './attachments.js';
import type { ServiceContext } from './context.js';
import { activeRun } from './run-status.js';
import { checkMetadata, checkTextLength } from './validation.js';

function toContent(content: CreateMessageRequest['content']): MessageContent[] {
  if (typeof content === 'string') return [{ type: 'text', text: { value: content, annotations: [] } }];
  return content.map((part): MessageContent => (part.type === 'text' ? { type: 'text', text: { value: part.text, annotations: [] } } : part));
}

function checkContentLength(content: CreateMessageRequest['content'], param: string): void {
  if (typeof content === 'string') return checkTextLength(content, `${param}content`);
  content.forEach((part, index) => {
    if (part.type === 'text') checkTextLength(part.text, `${param}content[${index}].text`);
  });
}

/** A message as given by the client: complete at once, outside any run. */
export function messageFromRequest(threadId: string, params: CreateMessageRequest, createdAt: number, param = ''): Message {
  checkMetadata(params.metadata, `${param}metadata`);
  checkContentLength(params.content, param);
  return {
    id: newId('message'),
    object: 'thread.message',
    created_at: createdAt,
    thread_id: threadId,
    status: 'completed',
    incomplete_details: null,
    completed_at: createdAt,
    incomplete_at: null,
    role: params.role,
    content: toContent(params.content),
    assistant_id: null,
    run_id: null,
    attachments: params.attachments ?? [],
    metadata: params.metadata ?? {},
  };
}

export function messagesFromRequests(threadId: string, requests: CreateMessageRequest[], createdAt: number, param: string): Message[] {
  return requests.map((request, index) => messageFromRequest(threadId, request, createdAt, `${param}[${index}].`));
}

export async function insertMessages(store: Store, projectId: string, threadId: string, requests: CreateMessageRequest[], createdAt: number, param: string): Promise<void> {
  for (const message of messagesFromRequests(threadId, requests, createdAt, param)) await store.messages.insert(projectId, message);
}

export class Messages {
  constructor(readonly ctx: ServiceContext) {}

  async #thread(projectId: string, threadId: string): Promise<void> {
    if (!(await this.ctx.store.threads.get(projectId, threadId))) throw notFound('thread', threadId);
  }

  async create(projectId: string, threadId: string, params: CreateMessageRequest): Promise<Message> {
    await this.#thread(projectId, threadId);
    const running = await activeRun(this.ctx.store, projectId, threadId);
    if (running) throw invalidRequest(`Can't add messages to ${threadId} while a run ${running.id} is active.`);
    const searchFiles = await fileSearchAttachments(this.ctx, projectId, [params]);
    const message = await this.ctx.store.messages.insert(projectId, messageFromRequest(threadId, params, unixSeconds(this.ctx.clock)));
    await indexInThreadVectorStore(this.ctx, projectId, threadId, searchFiles);
    return message;
  }

  async retrieve(projectId: string, threadId: string, messageId: string): Promise<Message> {
    const message = await this.ctx.store.messages.get(projectId, messageId, { thread_id: threadId });
    if (!message) throw notFound('message', messageId);
    return message;
  }

  async update(projectId: string, threadId: string, messageId: string, params: ModifyMessageRequest): Promise<Message> {
    checkMetadata(params.metadata);
    const { metadata } = params;
    if (metadata === undefined) return this.retrieve(projectId, threadId, messageId);
    const changed = await this.ctx.store.messages.modify(projectId, messageId, (message) => ({ ...message, metadata: metadata ?? {} }), { thread_id: threadId });
    if (!changed) throw notFound('message', messageId);
    return changed;
  }

  async delete(projectId: string, threadId: string, messageId: string): Promise<{ id: string; object: 'thread.message.deleted'; deleted: true }> {
    await this.retrieve(projectId, threadId, messageId);
    await this.ctx.store.messages.delete(projectId, messageId);
    return { id: messageId, object: 'thread.message.deleted', deleted: true };
  }

  async list(projectId: string, threadId: string, page: PageQuery, runId?: string): Promise<Page<Message>> {
    await this.#thread(projectId, threadId);
    return this.ctx.store.messages.list(projectId, { thread_id: threadId, ...(runId !== undefined && { run_id: runId }) }, page);
  }
}
