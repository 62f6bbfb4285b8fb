import { basename } from 'node:path/posix';
import { Readable } from 'node:stream';
import type { BlobStore } from '../blobs/blob-store.js';
import { unixSeconds } from '../clock.js';
import type { StepwiseConfig } from '../config.js';
import { ApiError, invalidRequest, notFound } from '../errors.js';
import { newId } from '../ids.js';
import type { OpenAIFile } from '../spec/wire.js';
import type { Page, PageQuery } from '../store/collection.js';
import type { Store } from '../store/store.js';
import type { ServiceContext } from './context.js';
import { removeFileFromAllVectorStores } from './vector-stores.js';

/** Purposes this server has a use for; the others (batch, fine-tune, ...) belong to APIs it does not offer. */
export const FILE_PURPOSES = ['assistants', 'assistants_output', 'vision'] as const;

/** As a form or JSON body sends it; checked by the service. */
export interface FileExpirationAfter {
  anchor: string;
  seconds: number;
}

export interface NewFileParams {
  filename: string;
  purpose: string | undefined;
  expires_after?: FileExpirationAfter | undefined;
}

/** Bytes already in the blob store under the id of the file they are to become. */
export interface StagedContent {
  fileId: string;
  bytes: number;
}

export interface FileContent {
  filename: string;
  stream: Readable;
}

export function fileBlobKey(fileId: string): string {
  return `files/${fileId}`;
}

/** The client's name for display only: no directories, no control characters. */
export function sanitizeFilename(name: string): string {
  const printable = name.replace(/[\u0000-\u001f\u007f]/g, '');
  const lastSegment = basename(printable.replace(/\\/g, '/')).trim();
  return lastSegment === '' || lastSegment === '.' || lastSegment === '..' ? 'file' : lastSegment;
}

export function checkPurpose(purpose: string | undefined): void {
  if (purpose === undefined) throw invalidRequest("Missing required parameter: 'purpose'.", 'purpose');
  if (!(FILE_PURPOSES as readonly string[]).includes(purpose)) {
    throw invalidRequest(`Invalid value for 'purpose': '${purpose}'. Supported values on this server are: '${FILE_PURPOSES.join("', '")}'.`, 'purpose', 'invalid_value');
  }
}

export function fileTooLarge(maxBytes: number): ApiError {
  return new ApiError(413, `File is too large. The maximum file size is ${maxBytes} bytes.`, 'invalid_request_error', null, 'file_too_large');
}

/** Stores `stream` under `key`, failing with `tooLarge` (and keeping nothing) once it passes `maxBytes`. */
export async function putWithinLimit(blobs: BlobStore, key: string, stream: Readable, maxBytes: number, tooLarge: () => ApiError): Promise<number> {
  async function* limited() {
    let seen = 0;
    for await (const chunk of stream) {
      seen += (chunk as Buffer).length;
      if (seen > maxBytes) throw tooLarge();
      yield chunk as Buffer;
    }
  }
  try {
    return await blobs.put(key, Readable.from(limited()));
  } catch (error) {
    await blobs.delete(key);
    throw error;
  }
}

/** What a project holds, and what it may: its files' count and total bytes against the configured limits (0: none). */
export async function checkProjectStorage(store: Store, config: StepwiseConfig, projectId: string, newBytes: number, param: string | null = null): Promise<void> {
  const { maxProjectStorageBytes: maxBytes, maxProjectFiles: maxFiles } = config;
  if (maxBytes === 0 && maxFiles === 0) return;
  const { files, bytes: used } = await store.projectFileUsage(projectId);
  if (maxFiles > 0 && files >= maxFiles) {
    throw invalidRequest(`This project already has ${files} files, its limit. Delete files to make room.`, param, 'file_limit_exceeded');
  }
  if (maxBytes > 0 && used + newBytes > maxBytes) {
    throw invalidRequest(`This project's files would take ${used + newBytes} bytes, over its storage limit of ${maxBytes} bytes (${used} in use). Delete files to make room.`, param, 'storage_limit_exceeded');
  }
}

const EXPIRY_SECONDS = { min: 3600, max: 2592000 };

function checkExpiresAfter(expiresAfter: FileExpirationAfter | undefined): void {
  if (expiresAfter === undefined) return;
  if (expiresAfter.anchor !== 'created_at') {
    throw invalidRequest(`Invalid value for 'expires_after.anchor': '${expiresAfter.anchor}'. Supported values are: 'created_at'.`, 'expires_after.anchor', 'invalid_value');
  }
  const { seconds } = expiresAfter;
  if (!Number.isInteger(seconds) || seconds < EXPIRY_SECONDS.min || seconds > EXPIRY_SECONDS.max) {
    throw invalidRequest(`Invalid 'expires_after.seconds': expected an integer between ${EXPIRY_SECONDS.min} and ${EXPIRY_SECONDS.max}, got ${seconds}.`, 'expires_after.seconds', 'invalid_value');
  }
}

export class Files {
  constructor(readonly ctx: ServiceContext) {}

  /** Stores the bytes before the file exists, since a multipart form may send the file before its purpose. */
  async stage(stream: Readable): Promise<StagedContent> {
    const fileId = newId('file');
    const { maxFileBytes } = this.ctx.config;
    const bytes = await putWithinLimit(this.ctx.blobs, fileBlobKey(fileId), stream, maxFileBytes, () => fileTooLarge(maxFileBytes));
    return { fileId, bytes };
  }

  async discard(content: StagedContent): Promise<void> {
    await this.ctx.blobs.delete(fileBlobKey(content.fileId));
  }

  /** Makes the file out of staged bytes; if it cannot be made, the bytes are discarded. */
  async create(projectId: string, params: NewFileParams, content: StagedContent): Promise<OpenAIFile> {
    try {
      checkPurpose(params.purpose);
      checkExpiresAfter(params.expires_after);
      const createdAt = unixSeconds(this.ctx.clock);
      const file: OpenAIFile = {
        id: content.fileId,
        object: 'file',
        bytes: content.bytes,
        created_at: createdAt,
        filename: sanitizeFilename(params.filename),
        purpose: params.purpose as OpenAIFile['purpose'],
        status: 'processed',
        ...(params.expires_after && { expires_at: createdAt + params.expires_after.seconds }),
      };
      // Checked and inserted in one transaction, so that concurrent uploads cannot both take the last room.
      return await this.ctx.store.transaction(async (store) => {
        await store.lockProject(projectId);
        await checkProjectStorage(store, this.ctx.config, projectId, file.bytes);
        return store.files.insert(projectId, file);
      });
    } catch (error) {
      await this.discard(content);
      throw error;
    }
  }

  async retrieve(projectId: string, fileId: string): Promise<OpenAIFile> {
    const file = await this.ctx.store.files.get(projectId, fileId);
    if (!file) throw notFound('file', fileId);
    return file;
  }

  list(projectId: string, purpose: string | undefined, page: PageQuery): Promise<Page<OpenAIFile>> {
    return this.ctx.store.files.list(projectId, purpose === undefined ? {} : { purpose }, page);
  }

  async content(projectId: string, fileId: string): Promise<FileContent> {
    const file = await this.retrieve(projectId, fileId);
    return { filename: file.filename, stream: this.ctx.blobs.read(fileBlobKey(fileId)) };
  }

  /** Deletes the file, its bytes, and its chunks in every vector store that holds it. */
  async delete(projectId: string, fileId: string): Promise<{ id: string; object: 'file'; deleted: true }> {
    if (!(await this.remove(projectId, fileId))) throw notFound('file', fileId);
    return { id: fileId, object: 'file', deleted: true };
  }

  /** Deletes the file, its bytes and its place in every vector store; false when there was none. */
  async remove(projectId: string, fileId: string): Promise<boolean> {
    if (!(await this.ctx.store.files.delete(projectId, fileId))) return false;
    await removeFileFromAllVectorStores(this.ctx, projectId, fileId);
    await this.ctx.blobs.delete(fileBlobKey(fileId));
    return true;
  }
}
