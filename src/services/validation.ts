import { invalidRequest } from '../errors.js';
import type { Metadata } from '../spec/wire.js';

const METADATA_MAX_PAIRS = 16;
const METADATA_MAX_KEY = 64;
const METADATA_MAX_VALUE = 512;

/** The spec states these limits only in prose, so the schema cannot check them. */
export function checkMetadata(metadata: Metadata | undefined, param = 'metadata'): void {
  if (metadata === undefined || metadata === null) return;
  const entries = Object.entries(metadata);
  if (entries.length > METADATA_MAX_PAIRS) {
    throw invalidRequest(`Invalid '${param}': too many properties. Expected an object with at most ${METADATA_MAX_PAIRS} properties, but got an object with ${entries.length} properties instead.`, param, 'object_above_max_properties');
  }
  for (const [key, value] of entries) {
    if (key.length > METADATA_MAX_KEY) {
      throw invalidRequest(`Invalid '${param}': metadata keys must be at most ${METADATA_MAX_KEY} characters, got '${key.slice(0, 80)}'.`, param, 'string_above_max_length');
    }
    if (value.length > METADATA_MAX_VALUE) {
      throw invalidRequest(`Invalid '${param}.${key}': string too long. Expected a string with maximum length ${METADATA_MAX_VALUE}, but got a string with length ${value.length} instead.`, `${param}.${key}`, 'string_above_max_length');
    }
  }
}

const FUNCTION_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** Function names go to the model provider verbatim; the spec restricts them only in prose. */
export function checkTools(tools: readonly { type: string; function?: { name: string } }[] | null | undefined, param = 'tools'): void {
  tools?.forEach((tool, index) => {
    if (tool.type === 'function' && tool.function && !FUNCTION_NAME.test(tool.function.name)) {
      throw invalidRequest(`Invalid '${param}[${index}].function.name': string does not match pattern. Expected a string of letters, digits, underscores or dashes, at most 64 characters.`, `${param}[${index}].function.name`, 'invalid_value');
    }
  });
}

const TEXT_MAX_CHARS = 256_000;

/** Instructions and message texts, as OpenAI bounds them; the spec states it only for an assistant's instructions. */
export function checkTextLength(text: string | null | undefined, param: string): void {
  if (typeof text === 'string' && text.length > TEXT_MAX_CHARS) {
    throw invalidRequest(`Invalid '${param}': string too long. Expected a string with maximum length ${TEXT_MAX_CHARS}, but got a string with length ${text.length} instead.`, param, 'string_above_max_length');
  }
}
