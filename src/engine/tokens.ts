import { Tiktoken } from 'js-tiktoken/lite';
import o200kBase from 'js-tiktoken/ranks/o200k_base';
import type { ChatMessage } from '../providers/chat-model.js';

// Every message costs a few tokens of framing on top of its content (OpenAI's chat format).
const TOKENS_PER_MESSAGE = 4;

// js-tiktoken's BPE is quadratic in the length of one unbroken run of characters: a pasted
// 70,000-character blob (base64, minified code) would hold the event loop for minutes. Such runs
// are counted in pieces of this length, which costs at most a token more per piece.
const LONG_RUN = /\S{128}(?=\S)/g;

let encoder: Tiktoken | undefined;

/** o200k_base, the encoding of current OpenAI models; a close estimate for other models' budgets. */
export function countTokens(text: string): number {
  encoder ??= new Tiktoken(o200kBase);
  return encoder.encode(text.replace(LONG_RUN, '$& '), 'all').length;
}

function contentText(message: ChatMessage): string {
  const { content } = message;
  if (typeof content === 'string') return content;
  if (!content) return '';
  return content.map((part) => ('text' in part ? part.text : JSON.stringify(part))).join('');
}

/**
 * At most what `countTokens` gives for `text`, without encoding it: every token stands for one
 * byte of the text or more, and the pieces of a long run cost a token more each at most.
 */
export function tokenBound(text: string): number {
  return Buffer.byteLength(text) + Math.ceil(text.length / 128);
}

/** A message's tokens, its framing included, with its texts counted by `count`. */
export function messageTokens(message: ChatMessage, count: (text: string) => number = countTokens): number {
  const toolCalls = 'tool_calls' in message && message.tool_calls ? JSON.stringify(message.tool_calls) : '';
  return TOKENS_PER_MESSAGE + count(contentText(message)) + (toolCalls ? count(toolCalls) : 0);
}
