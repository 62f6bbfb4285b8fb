import type { FastifyInstance } from 'fastify';
import type {
  CreateVectorStoreFileBatchRequest,
  CreateVectorStoreFileRequest,
  CreateVectorStoreRequest,
  UpdateVectorStoreFileAttributesRequest,
  UpdateVectorStoreRequest,
  VectorStoreSearchRequest,
} from '../../spec/wire.js';
import type { ApiDeps } from '../deps.js';
import { bodyAs, listBody, optionalQuery, pageQuery, projectOf } from '../request.js';

type StoreParams = { Params: { vector_store_id: string } };
type FileParams = { Params: { vector_store_id: string; file_id: string } };
type BatchParams = { Params: { vector_store_id: string; batch_id: string } };

/** Vector stores, their files and file batches, and search. */
export function vectorStoreRoutes(app: FastifyInstance, { services }: ApiDeps): void {
  const { vectorStores, vectorStoreFiles, fileBatches } = services;
  app.get('/vector_stores', async (request) => listBody(await vectorStores.list(projectOf(request), pageQuery(request))));
  app.post('/vector_stores', (request) => vectorStores.create(projectOf(request), bodyAs<CreateVectorStoreRequest>(request, 'CreateVectorStoreRequest')));
  app.get<StoreParams>('/vector_stores/:vector_store_id', (request) => vectorStores.retrieve(projectOf(request), request.params.vector_store_id));
  app.post<StoreParams>('/vector_stores/:vector_store_id', (request) =>
    vectorStores.update(projectOf(request), request.params.vector_store_id, bodyAs<UpdateVectorStoreRequest>(request, 'UpdateVectorStoreRequest')),
  );
  app.delete<StoreParams>('/vector_stores/:vector_store_id', (request) => vectorStores.delete(projectOf(request), request.params.vector_store_id));
  app.post<StoreParams>('/vector_stores/:vector_store_id/search', (request) =>
    vectorStores.search(projectOf(request), request.params.vector_store_id, bodyAs<VectorStoreSearchRequest>(request, 'VectorStoreSearchRequest')),
  );

  app.get<StoreParams>('/vector_stores/:vector_store_id/files', async (request) =>
    listBody(await vectorStoreFiles.list(projectOf(request), request.params.vector_store_id, pageQuery(request), optionalQuery(request, 'filter'))),
  );
  app.post<StoreParams>('/vector_stores/:vector_store_id/files', (request) =>
    vectorStoreFiles.create(projectOf(request), request.params.vector_store_id, bodyAs<CreateVectorStoreFileRequest>(request, 'CreateVectorStoreFileRequest')),
  );
  app.get<FileParams>('/vector_stores/:vector_store_id/files/:file_id', (request) =>
    vectorStoreFiles.retrieve(projectOf(request), request.params.vector_store_id, request.params.file_id),
  );
  app.post<FileParams>('/vector_stores/:vector_store_id/files/:file_id', (request) =>
    vectorStoreFiles.update(
      projectOf(request),
      request.params.vector_store_id,
      request.params.file_id,
      bodyAs<UpdateVectorStoreFileAttributesRequest>(request, 'UpdateVectorStoreFileAttributesRequest'),
    ),
  );
  app.delete<FileParams>('/vector_stores/:vector_store_id/files/:file_id', (request) =>
    vectorStoreFiles.delete(projectOf(request), request.params.vector_store_id, request.params.file_id),
  );
  app.get<FileParams>('/vector_stores/:vector_store_id/files/:file_id/content', (request) =>
    vectorStoreFiles.content(projectOf(request), request.params.vector_store_id, request.params.file_id),
  );

  app.post<StoreParams>('/vector_stores/:vector_store_id/file_batches', (request) =>
    fileBatches.create(projectOf(request), request.params.vector_store_id, bodyAs<CreateVectorStoreFileBatchRequest>(request, 'CreateVectorStoreFileBatchRequest')),
  );
  app.get<BatchParams>('/vector_stores/:vector_store_id/file_batches/:batch_id', (request) =>
    fileBatches.retrieve(projectOf(request), request.params.vector_store_id, request.params.batch_id),
  );
  app.post<BatchParams>('/vector_stores/:vector_store_id/file_batches/:batch_id/cancel', (request) =>
    fileBatches.cancel(projectOf(request), request.params.vector_store_id, request.params.batch_id),
  );
  app.get<BatchParams>('/vector_stores/:vector_store_id/file_batches/:batch_id/files', async (request) =>
    listBody(await fileBatches.listFiles(projectOf(request), request.params.vector_store_id, request.params.batch_id, pageQuery(request), optionalQuery(request, 'filter'))),
  );
}
