import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** File bytes, kept out of the database. Keys are ids the server makes, never client input. */
export interface BlobStore {
  /** Writes the stream under `key` and returns how many bytes it held. */
  put(key: string, data: Readable): Promise<number>;
  read(key: string): Readable;
  size(key: string): Promise<number>;
  delete(key: string): Promise<void>;
}

const SAFE_KEY = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/;

/** Blobs as files under one directory (the embedded default). */
export class LocalBlobStore implements BlobStore {
  constructor(readonly root: string) {}

  #path(key: string): string {
    if (!SAFE_KEY.test(key)) throw new Error(`invalid blob key ${JSON.stringify(key)}`);
    return join(this.root, key);
  }

  async put(key: string, data: Readable): Promise<number> {
    const path = this.#path(key);
    await mkdir(dirname(path), { recursive: true });
    let bytes = 0;
    data.on('data', (chunk: Buffer) => (bytes += chunk.length));
    await pipeline(data, createWriteStream(path));
    return bytes;
  }

  read(key: string): Readable {
    return createReadStream(this.#path(key));
  }

  async size(key: string): Promise<number> {
    return (await stat(this.#path(key))).size;
  }

  async delete(key: string): Promise<void> {
    await rm(this.#path(key), { force: true });
  }
}
