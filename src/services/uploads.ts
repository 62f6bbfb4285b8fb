import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { unixSeconds } from '../clock.js';
import { ApiError, invalidRequest, notFound } from '../errors.js';
import { newId } from '../ids.js';
import type { CompleteUploadRequest, CreateUploadRequest, Upload, UploadPart } from '../spec/wire.js';
import type { ServiceContext } from './context.js';
import { checkProjectStorage, checkPurpose, Files, putWithinLimit, sanitizeFilename } from './files.js';

const UPLOAD_MAX_BYTES = 8 * 1024 ** 3;
export const PART_MAX_BYTES = 64 * 1024 ** 2;
const UPLOAD_LIFETIME_SECONDS = 3600;

function partBlobKey(uploadId: string, partId: string): string {
  return `uploads/${uploadId}/${partId}`;
}

function partTooLarge(): ApiError {
  return new ApiError(413, `Upload part is too large. Each part can be at most ${PART_MAX_BYTES} bytes.`, 'invalid_request_error', 'data', 'part_too_large');
}

function notPending(upload: Upload): ApiError {
  return invalidRequest(`Upload ${upload.id} is ${upload.status}; only a pending upload can take this action.`, null, 'upload_not_pending');
}

function checkNoDuplicates(partIds: string[]): void {
  const duplicate = partIds.find((partId, index) => partIds.indexOf(partId) !== index);
  if (duplicate !== undefined) throw invalidRequest(`Part ${duplicate} is listed more than once in 'part_ids'.`, 'part_ids', 'invalid_value');
}

/** The parts' bytes one after another, fed to `hash` on the way through. */
function concatenated(streams: (() => Readable)[], hash: ReturnType<typeof createHash>): Readable {
  async function* chunks() {
    for (const open of streams) {
      for await (const chunk of open()) {
        hash.update(chunk as Buffer);
        yield chunk as Buffer;
      }
    }
  }
  return Readable.from(chunks());
}

export class Uploads {
  readonly #files: Files;

  constructor(readonly ctx: ServiceContext) {
    this.#files = new Files(ctx);
  }

  async create(projectId: string, params: CreateUploadRequest): Promise<Upload> {
    checkPurpose(params.purpose);
    const maxBytes = Math.min(this.ctx.config.maxFileBytes, UPLOAD_MAX_BYTES);
    if (!Number.isInteger(params.bytes) || params.bytes < 0 || params.bytes > maxBytes) {
      throw invalidRequest(`Invalid 'bytes': expected an integer between 0 and ${maxBytes}, got ${params.bytes}.`, 'bytes', 'invalid_value');
    }
    // Refused at once when the declared bytes cannot fit; completing the upload checks again.
    await checkProjectStorage(this.ctx.store, this.ctx.config, projectId, params.bytes, 'bytes');
    const createdAt = unixSeconds(this.ctx.clock);
    const upload: Upload = {
      id: newId('upload'),
      object: 'upload',
      bytes: params.bytes,
      created_at: createdAt,
      filename: sanitizeFilename(params.filename),
      purpose: params.purpose,
      status: 'pending',
      expires_at: createdAt + UPLOAD_LIFETIME_SECONDS,
    };
    return this.ctx.store.uploads.insert(projectId, upload);
  }

  /** The upload as it stands now: a pending upload past its hour is expired, whether or not anyone has looked. */
  async retrieve(projectId: string, uploadId: string): Promise<Upload> {
    const upload = await this.ctx.store.uploads.get(projectId, uploadId);
    if (!upload) throw notFound('upload', uploadId);
    const expired = upload.status === 'pending' && unixSeconds(this.ctx.clock) >= upload.expires_at;
    return expired ? { ...upload, status: 'expired' } : upload;
  }

  async addPart(projectId: string, uploadId: string, data: Readable): Promise<UploadPart> {
    const upload = await this.retrieve(projectId, uploadId);
    if (upload.status !== 'pending') throw notPending(upload);
    const part: UploadPart = { id: newId('uploadPart'), object: 'upload.part', created_at: unixSeconds(this.ctx.clock), upload_id: uploadId };
    await putWithinLimit(this.ctx.blobs, partBlobKey(uploadId, part.id), data, PART_MAX_BYTES, partTooLarge);
    return this.ctx.store.uploadParts.insert(projectId, part);
  }

  async complete(projectId: string, uploadId: string, params: CompleteUploadRequest): Promise<Upload> {
    const upload = await this.retrieve(projectId, uploadId);
    if (upload.status !== 'pending') throw notPending(upload);
    await this.#checkParts(projectId, upload, params.part_ids);
    const hash = createHash('md5');
    const content = await this.#files.stage(concatenated(params.part_ids.map((partId) => () => this.ctx.blobs.read(partBlobKey(uploadId, partId))), hash));
    if (params.md5 !== undefined && params.md5.toLowerCase() !== hash.digest('hex')) {
      await this.#files.discard(content);
      throw invalidRequest('The md5 checksum does not match the uploaded parts.', 'md5', 'invalid_value');
    }
    const file = await this.#files.create(projectId, { filename: upload.filename, purpose: upload.purpose }, content);
    const completed: Upload = { ...upload, status: 'completed', file };
    if (!(await this.ctx.store.uploads.updateIf(projectId, completed, 'pending'))) {
      await this.#files.delete(projectId, file.id);
      throw notPending(await this.retrieve(projectId, uploadId));
    }
    await this.#deleteParts(projectId, uploadId);
    return completed;
  }

  async cancel(projectId: string, uploadId: string): Promise<Upload> {
    const upload = await this.retrieve(projectId, uploadId);
    if (upload.status !== 'pending') throw notPending(upload);
    const cancelled: Upload = { ...upload, status: 'cancelled' };
    if (!(await this.ctx.store.uploads.updateIf(projectId, cancelled, 'pending'))) throw notPending(await this.retrieve(projectId, uploadId));
    await this.#deleteParts(projectId, uploadId);
    return cancelled;
  }

  /** Ends a pending upload whose hour ran out, and deletes its parts' bytes. */
  async expire(projectId: string, uploadId: string): Promise<void> {
    const upload = await this.retrieve(projectId, uploadId);
    if (upload.status !== 'expired') return;
    if (await this.ctx.store.uploads.updateIf(projectId, upload, 'pending')) await this.#deleteParts(projectId, uploadId);
  }

  /** Every part must belong to this upload, once, and together they must hold exactly the declared bytes. */
  async #checkParts(projectId: string, upload: Upload, partIds: string[]): Promise<void> {
    checkNoDuplicates(partIds);
    let total = 0;
    for (const partId of partIds) {
      if (!(await this.ctx.store.uploadParts.get(projectId, partId, { upload_id: upload.id }))) {
        throw invalidRequest(`No part found with id '${partId}' in upload ${upload.id}.`, 'part_ids', 'invalid_value');
      }
      total += await this.ctx.blobs.size(partBlobKey(upload.id, partId));
    }
    if (total !== upload.bytes) {
      throw invalidRequest(`The parts hold ${total} bytes, but the upload was created with bytes=${upload.bytes}.`, 'part_ids', 'invalid_value');
    }
  }

  async #deleteParts(projectId: string, uploadId: string): Promise<void> {
    const parts = await this.ctx.store.uploadParts.all(projectId, { upload_id: uploadId });
    await Promise.all(parts.map((part) => this.ctx.blobs.delete(partBlobKey(uploadId, part.id))));
    await this.ctx.store.uploadParts.deleteWhere(projectId, { upload_id: uploadId });
  }
}
