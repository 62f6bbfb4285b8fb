import fastifyMultipart, { type MultipartFile } from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { invalidRequest } from '../../errors.js';
import type { Files, StagedContent } from '../../services/files.js';
import { PART_MAX_BYTES } from '../../services/uploads.js';
import type { CompleteUploadRequest, CreateUploadRequest } from '../../spec/wire.js';
import type { ApiDeps } from '../deps.js';
import { bodyAs, listBody, optionalQuery, pageQuery, projectOf } from '../request.js';

type FileParams = { Params: { file_id: string } };
type UploadParams = { Params: { upload_id: string } };

/** The text fields of a multipart form and what the handler made of its one file. */
interface Form<T> {
  fields: Record<string, string>;
  file: T;
}

const FILE_FORM_FIELDS = ['purpose', 'expires_after[anchor]', 'expires_after[seconds]'];

/** Busboy reports a malformed body with plain errors, told apart only by their messages. */
const MALFORMED_MULTIPART = /boundary not found|boundary required|unexpected end of multipart data/i;

/**
 * Reads a multipart form, streaming its file (sent as `fileField`) through `onFile`. The parser's
 * size limit sits one byte above ours, so our own check, not a silent truncation, sees oversize data.
 */
async function readForm<T>(request: FastifyRequest, fileField: string, textFields: string[], maxFileBytes: number, onFile: (part: MultipartFile) => Promise<T>): Promise<Form<T>> {
  if (!request.isMultipart()) throw invalidRequest(`This endpoint expects a multipart/form-data body with the file in a '${fileField}' field.`);
  const fields: Record<string, string> = {};
  let file: T | undefined;
  try {
    for await (const part of request.parts({ limits: { fileSize: maxFileBytes + 1, files: 1 } })) {
      if (part.type === 'file' && part.fieldname === fileField) file = await onFile(part);
      else if (part.type === 'field' && textFields.includes(part.fieldname)) fields[part.fieldname] = String(part.value);
      else throw invalidRequest(`Unrecognized request argument supplied: ${part.fieldname}`, part.fieldname);
    }
  } catch (error) {
    if (error instanceof Error && MALFORMED_MULTIPART.test(error.message)) throw invalidRequest(`The multipart/form-data body is malformed: ${error.message}.`);
    throw error;
  }
  if (file === undefined) throw invalidRequest(`Missing required parameter: '${fileField}'.`, fileField);
  return { fields, file };
}

function expiresAfterOf(fields: Record<string, string>) {
  const anchor = fields['expires_after[anchor]'];
  const seconds = fields['expires_after[seconds]'];
  if (anchor === undefined && seconds === undefined) return undefined;
  return { anchor: anchor ?? '', seconds: Number(seconds) };
}

async function createFile(request: FastifyRequest, files: Files) {
  let staged: StagedContent | undefined;
  let form: Form<string>;
  try {
    form = await readForm(request, 'file', FILE_FORM_FIELDS, files.ctx.config.maxFileBytes, async (part) => {
      staged = await files.stage(part.file);
      return part.filename;
    });
  } catch (error) {
    if (staged) await files.discard(staged);
    throw error;
  }
  const params = { filename: form.file, purpose: form.fields.purpose, expires_after: expiresAfterOf(form.fields) };
  return files.create(projectOf(request), params, staged!);
}

/** GET /files pages differently from the other lists: up to 10,000 at a time, and no `before`. */
const FILES_PAGE = { defaultLimit: 10000, maxLimit: 10000, before: false };

/** An attachment header that survives any display name: a plain-ASCII fallback plus the exact UTF-8 form. */
function contentDisposition(filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

/** Files and uploads (multipart bodies), in their own scope so that only these routes parse multipart. */
export async function fileRoutes(app: FastifyInstance, { services }: ApiDeps): Promise<void> {
  const { files, uploads } = services;
  await app.register(async (scope) => {
    await scope.register(fastifyMultipart);

    scope.post('/files', (request) => createFile(request, files));
    scope.get('/files', async (request) => listBody(await files.list(projectOf(request), optionalQuery(request, 'purpose'), pageQuery(request, FILES_PAGE))));
    scope.get<FileParams>('/files/:file_id', (request) => files.retrieve(projectOf(request), request.params.file_id));
    scope.delete<FileParams>('/files/:file_id', (request) => files.delete(projectOf(request), request.params.file_id));
    scope.get<FileParams>('/files/:file_id/content', async (request, reply) => {
      const { filename, stream } = await files.content(projectOf(request), request.params.file_id);
      return reply.type('application/octet-stream').header('content-disposition', contentDisposition(filename)).send(stream);
    });

    scope.post('/uploads', (request) => uploads.create(projectOf(request), bodyAs<CreateUploadRequest>(request, 'CreateUploadRequest')));
    scope.post<UploadParams>('/uploads/:upload_id/parts', async (request) => {
      const form = await readForm(request, 'data', [], PART_MAX_BYTES, (part) => uploads.addPart(projectOf(request), request.params.upload_id, part.file));
      return form.file;
    });
    scope.post<UploadParams>('/uploads/:upload_id/complete', (request) =>
      uploads.complete(projectOf(request), request.params.upload_id, bodyAs<CompleteUploadRequest>(request, 'CompleteUploadRequest')),
    );
    scope.post<UploadParams>('/uploads/:upload_id/cancel', (request) => uploads.cancel(projectOf(request), request.params.upload_id));
  });
}
