import type { FastifyInstance } from 'fastify';
import type { CreateMessageRequest, ModifyMessageRequest } from '../../spec/wire.js';
import type { ApiDeps } from '../deps.js';
import { bodyAs, listBody, optionalQuery, pageQuery, projectOf } from '../request.js';

type ThreadParams = { Params: { thread_id: string } };
type MessageParams = { Params: { thread_id: string; message_id: string } };

export function messageRoutes(app: FastifyInstance, { services }: ApiDeps): void {
  const { messages } = services;
  app.get<ThreadParams>('/threads/:thread_id/messages', async (request) =>
    listBody(await messages.list(projectOf(request), request.params.thread_id, pageQuery(request), optionalQuery(request, 'run_id'))),
  );
  app.post<ThreadParams>('/threads/:thread_id/messages', (request) =>
    messages.create(projectOf(request), request.params.thread_id, bodyAs<CreateMessageRequest>(request, 'CreateMessageRequest')),
  );
  app.get<MessageParams>('/threads/:thread_id/messages/:message_id', (request) =>
    messages.retrieve(projectOf(request), request.params.thread_id, request.params.message_id),
  );
  app.post<MessageParams>('/threads/:thread_id/messages/:message_id', (request) =>
    messages.update(projectOf(request), request.params.thread_id, request.params.message_id, bodyAs<ModifyMessageRequest>(request, 'ModifyMessageRequest')),
  );
  app.delete<MessageParams>('/threads/:thread_id/messages/:message_id', (request) =>
    messages.delete(projectOf(request), request.params.thread_id, request.params.message_id),
  );
}
