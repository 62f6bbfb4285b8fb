import { unixSeconds } from '../clock.js';
import { notFound } from '../errors.js';
import { newId } from '../ids.js';
import type { Assistant, CreateAssistantRequest, ModifyAssistantRequest } from '../spec/wire.js';
import type { Page, PageQuery } from '../store/collection.js';
import type { ServiceContext } from './context.js';
import { resolveToolResources } from './tool-resources.js';
import { checkMetadata, checkTools } from './validation.js';

type Defaulted = Pick<Assistant, 'tools' | 'tool_resources' | 'metadata' | 'temperature' | 'top_p' | 'response_format'>;

/** What an optional field means when it is left out on create or set to null; fresh objects each call. */
function defaults(): Defaulted {
  return { tools: [], tool_resources: {}, metadata: {}, temperature: 1, top_p: 1, response_format: 'auto' };
}

function checkAssistantFields(params: ModifyAssistantRequest): void {
  checkMetadata(params.metadata);
  checkTools(params.tools);
}

export class Assistants {
  constructor(readonly ctx: ServiceContext) {}

  async create(projectId: string, params: CreateAssistantRequest): Promise<Assistant> {
    checkAssistantFields(params);
    const toolResources = await resolveToolResources(this.ctx, projectId, params.tool_resources);
    const fallback = defaults();
    const assistant: Assistant = {
      id: newId('assistant'),
      object: 'assistant',
      created_at: unixSeconds(this.ctx.clock),
      name: params.name ?? null,
      description: params.description ?? null,
      model: params.model,
      instructions: params.instructions ?? null,
      tools: params.tools ?? fallback.tools,
      tool_resources: toolResources ?? fallback.tool_resources,
      metadata: params.metadata ?? fallback.metadata,
      temperature: params.temperature ?? fallback.temperature,
      top_p: params.top_p ?? fallback.top_p,
      response_format: params.response_format ?? fallback.response_format,
      ...(params.reasoning_effort !== undefined && { reasoning_effort: params.reasoning_effort }),
    };
    return this.ctx.store.assistants.insert(projectId, assistant);
  }

  async retrieve(projectId: string, assistantId: string, param: string | null = null): Promise<Assistant> {
    const assistant = await this.ctx.store.assistants.get(projectId, assistantId);
    if (!assistant) throw notFound('assistant', assistantId, param);
    return assistant;
  }

  async update(projectId: string, assistantId: string, params: ModifyAssistantRequest): Promise<Assistant> {
    checkAssistantFields(params);
    await this.retrieve(projectId, assistantId);
    params = { ...params, tool_resources: await resolveToolResources(this.ctx, projectId, params.tool_resources) };
    // A field set to null goes back to its default, as if the assistant had been created without it.
    const fallback = defaults();
    const changes = Object.fromEntries(
      Object.entries(params)
        .filter(([, value]) => value !== undefined)
        .map(([key, value]) => [key, value ?? fallback[key as keyof Defaulted] ?? null]),
    );
    const changed = await this.ctx.store.assistants.modify(projectId, assistantId, (assistant) => ({ ...assistant, ...changes }) as Assistant);
    if (!changed) throw notFound('assistant', assistantId);
    return changed;
  }

  async delete(projectId: string, assistantId: string): Promise<{ id: string; object: 'assistant.deleted'; deleted: true }> {
    if (!(await this.ctx.store.assistants.delete(projectId, assistantId))) throw notFound('assistant', assistantId);
    return { id: assistantId, object: 'assistant.deleted', deleted: true };
  }

  list(projectId: string, page: PageQuery): Promise<Page<Assistant>> {
    return this.ctx.store.assistants.list(projectId, {}, page);
  }
}
