/**
 * Worker thread that turns files into chunks: text extraction (PDF, docx, HTML, ...) and token
 * counting are CPU-bound, and done here they leave the main thread free to serve requests.
 */
import { parentPort } from 'node:worker_threads';
import { chunkText } from './chunk.js';
import { extractText, IngestionError } from './extract.js';
import type { PrepareReply, PrepareRequest } from './prepare-protocol.js';

async function prepare({ filename, bytes, chunking }: PrepareRequest): Promise<PrepareReply> {
  try {
    const text = await extractText(filename, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return { chunks: chunkText(text, chunking) };
  } catch (error) {
    if (error instanceof IngestionError) return { error: { code: error.code, message: error.message } };
    return { error: { message: error instanceof Error ? error.message : String(error) } };
  }
}

parentPort!.on('message', (request: PrepareRequest) => {
  void prepare(request).then((reply) => parentPort!.postMessage(reply));
});
