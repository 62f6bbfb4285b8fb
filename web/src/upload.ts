import type OpenAI from 'openai';
import { api } from './api';

/** Parts small enough that the progress bar moves on ordinary files, large enough to stay few. */
const PART_BYTES = 1024 * 1024;

/**
 * Uploads a browser file through the Uploads API, part by part, so progress is real: the SDK sends
 * each request with fetch, which reports no upload progress of its own.
 */
export async function uploadFile(file: File, purpose: 'assistants' | 'vision', onProgress: (fraction: number) => void): Promise<OpenAI.FileObject> {
  const client = api();
  const upload = await client.uploads.create({ filename: file.name, bytes: file.size, purpose, mime_type: file.type || 'application/octet-stream' });
  const partIds: string[] = [];
  onProgress(0);
  for (let offset = 0; offset < file.size || partIds.length === 0; offset += PART_BYTES) {
    const slice = file.slice(offset, offset + PART_BYTES);
    const part = await client.uploads.parts.create(upload.id, { data: new File([slice], file.name) });
    partIds.push(part.id);
    onProgress(Math.min(1, (offset + slice.size) / Math.max(1, file.size)));
  }
  const completed = await client.uploads.complete(upload.id, { part_ids: partIds });
  if (!completed.file) throw new Error(`Upload ${upload.id} completed without a file.`);
  return completed.file;
}
