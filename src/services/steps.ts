import { notFound } from '../errors.js';
import type { RunStep } from '../spec/wire.js';
import type { Page, PageQuery } from '../store/collection.js';
import type { ServiceContext } from './context.js';

export class Steps {
  constructor(readonly ctx: ServiceContext) {}

  async #run(projectId: string, threadId: string, runId: string): Promise<void> {
    if (!(await this.ctx.store.runs.get(projectId, runId, { thread_id: threadId }))) throw notFound('run', runId);
  }

  async list(projectId: string, threadId: string, runId: string, page: PageQuery): Promise<Page<RunStep>> {
    await this.#run(projectId, threadId, runId);
    return this.ctx.store.steps.list(projectId, { run_id: runId }, page);
  }

  async retrieve(projectId: string, threadId: string, runId: string, stepId: string): Promise<RunStep> {
    const step = await this.ctx.store.steps.get(projectId, stepId, { thread_id: threadId, run_id: runId });
    if (!step) throw notFound('run step', stepId);
    return step;
  }
}
