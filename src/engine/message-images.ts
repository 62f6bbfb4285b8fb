import { extname } from 'node:path';
import type { BlobStore } from '../blobs/blob-store.js';
import { fileBlobKey } from '../services/files.js';
import type { Message } from '../spec/wire.js';
import type { Store } from '../store/store.js';

const IMAGE_TYPES: Record<string, string> = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.webp': 'image/webp' };

/**
 * The images of `image_file` message parts as data URLs, which every OpenAI-compatible vision
 * model accepts; files that are gone are left out (the prompt notes them).
 */
export async function imageDataUrls(store: Store, blobs: BlobStore, projectId: string, messages: Message[]): Promise<Map<string, string>> {
  const urls = new Map<string, string>();
  for (const message of messages) {
    for (const part of message.content) {
      if (part.type !== 'image_file' || urls.has(part.image_file.file_id)) continue;
      const file = await store.files.get(projectId, part.image_file.file_id);
      if (!file) continue;
      const bytes = Buffer.concat(await blobs.read(fileBlobKey(file.id)).toArray());
      const type = IMAGE_TYPES[extname(file.filename).toLowerCase()] ?? 'application/octet-stream';
      urls.set(file.id, `data:${type};base64,${bytes.toString('base64')}`);
    }
  }
  return urls;
}
