import { Tiktoken } from 'js-tiktoken/lite';
import o200kBase from 'js-tiktoken/ranks/o200k_base';

export interface ChunkingOptions {
  maxChunkSizeTokens: number;
  chunkOverlapTokens: number;
}

export interface Chunk {
  text: string;
  tokens: number;
}

/** What `chunking_strategy: {type: "auto"}` means. */
export const AUTO_CHUNKING: ChunkingOptions = { maxChunkSizeTokens: 800, chunkOverlapTokens: 400 };

export const MIN_CHUNK_SIZE_TOKENS = 100;
export const MAX_CHUNK_SIZE_TOKENS = 4096;

/** Why a static chunking strategy is out of bounds, or undefined when it is acceptable. */
export function chunkingViolation({ maxChunkSizeTokens: max, chunkOverlapTokens: overlap }: ChunkingOptions): string | undefined {
  if (!Number.isInteger(max) || max < MIN_CHUNK_SIZE_TOKENS || max > MAX_CHUNK_SIZE_TOKENS) {
    return `max_chunk_size_tokens must be an integer from ${MIN_CHUNK_SIZE_TOKENS} to ${MAX_CHUNK_SIZE_TOKENS}`;
  }
  if (!Number.isInteger(overlap) || overlap < 0 || overlap > max / 2) {
    return 'chunk_overlap_tokens must be a non-negative integer no larger than half of max_chunk_size_tokens';
  }
  return undefined;
}

const REPLACEMENT = '\uFFFD';
// A character's UTF-8 bytes span at most 4 tokens, so a boundary moves at most 3 tokens to avoid splitting it.
const MAX_BOUNDARY_SHIFT = 3;

let encoder: Tiktoken | undefined;

/**
 * Splits text into windows of at most `maxChunkSizeTokens` o200k tokens, each starting
 * `max - overlap` tokens after the previous one, so consecutive chunks share `overlap` tokens.
 */
export function chunkText(text: string, options: ChunkingOptions): Chunk[] {
  const violation = chunkingViolation(options);
  if (violation) throw new RangeError(violation);
  encoder ??= new Tiktoken(o200kBase);
  const tokens = encoder.encode(text, 'all');
  const { maxChunkSizeTokens: max, chunkOverlapTokens: overlap } = options;
  const chunks: Chunk[] = [];
  for (let start = 0; start < tokens.length; start += max - overlap) {
    const chunk = decodeWindow(encoder, tokens, start, Math.min(start + max, tokens.length));
    if (chunk.text.trim()) chunks.push(chunk);
    if (start + max >= tokens.length) break;
  }
  return chunks;
}

/**
 * Decodes tokens[start, end), narrowing the window where its edges cut through a multi-byte
 * character (which would decode as U+FFFD).
 */
function decodeWindow(encoder: Tiktoken, tokens: number[], start: number, end: number): Chunk {
  let from = start;
  let to = end;
  for (let shift = 0; shift < MAX_BOUNDARY_SHIFT && from < to && encoder.decode(tokens.slice(from, to)).startsWith(REPLACEMENT); shift++) from++;
  for (let shift = 0; shift < MAX_BOUNDARY_SHIFT && from < to && encoder.decode(tokens.slice(from, to)).endsWith(REPLACEMENT); shift++) to--;
  return { text: encoder.decode(tokens.slice(from, to)), tokens: to - from };
}
