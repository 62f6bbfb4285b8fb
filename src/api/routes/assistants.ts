import type { FastifyInstance } from 'fastify';
import type { CreateAssistantRequest, ModifyAssistantRequest } from '../../spec/wire.js';
import type { ApiDeps } from '../deps.js';
import { bodyAs, listBody, pageQuery, projectOf } from '../request.js';

type AssistantParams = { Params: { assistant_id: string } };

export function assistantRoutes(app: FastifyInstance, { services }: ApiDeps): void {
  const { assistants } = services;
  app.get('/assistants', async (request) => listBody(await assistants.list(projectOf(request), pageQuery(request))));
  app.post('/assistants', (request) => assistants.create(projectOf(request), bodyAs<CreateAssistantRequest>(request, 'CreateAssistantRequest')));
  app.get<AssistantParams>('/assistants/:assistant_id', (request) => assistants.retrieve(projectOf(request), request.params.assistant_id));
  app.post<AssistantParams>('/assistants/:assistant_id', (request) =>
    assistants.update(projectOf(request), request.params.assistant_id, bodyAs<ModifyAssistantRequest>(request, 'ModifyAssistantRequest')),
  );
  app.delete<AssistantParams>('/assistants/:assistant_id', (request) => assistants.delete(projectOf(request), request.params.assistant_id));
}
