import { notFound } from '../errors.js';
import type { RunStep } from '../spec/wire.js';
import type { Page, PageQuery } from '../store/collection.js';
import { withoutResultContent } from '../tools/file-search/tool.js';
import type { ServiceContext } from './context.js';
import { expireIfDue } from './runs.js';

export class Steps {
  constructor(readonly ctx: ServiceContext) {}

  /** The steps' run, expired first if it is overdue, so its steps never show a stale status. */
  async #run(projectId: string, threadId: string, runId: string): Promise<void> {
    const run = await this.ctx.store.runs.get(projectId, runId, { thread_id: threadId });
    if (!run) throw notFound('run', runId);
    await expireIfDue(this.ctx, projectId, run);
  }

  async list(projectId: string, threadId: string, runId: string, page: PageQuery, includeResultContent = false): Promise<Page<RunStep>> {
    await this.#run(projectId, threadId, runId);
    const listed = await this.ctx.store.steps.list(projectId, { thread_id: threadId, run_id: runId }, page);
    return includeResultContent ? listed : { ...listed, data: listed.data.map(withoutResultContent) };
  }

  async retrieve(projectId: string, threadId: string, runId: string, stepId: string, includeResultContent = false): Promise<RunStep> {
    await this.#run(projectId, threadId, runId);
    const step = await this.ctx.store.steps.get(projectId, stepId, { thread_id: threadId, run_id: runId });
    if (!step) throw notFound('run step', stepId);
    return includeResultContent ? step : withoutResultContent(step);
  }
}
