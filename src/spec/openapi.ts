import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { parse } from 'yaml';

/**
 * The official OpenAPI document (spec/assistants-openapi.yaml, a copy of the shared contract) is the
 * single source of truth for request and response shapes: schemas are compiled from it, never retyped.
 */
const SPEC_PATH = fileURLToPath(new URL('../../spec/assistants-openapi.yaml', import.meta.url));
const SPEC_ID = 'openapi';

// Keys whose values are data, not schemas: copied as they are.
const DATA_KEYS = new Set(['enum', 'const', 'default', 'example', 'examples', 'required']);
// Keys whose values map names to schemas: the names are kept even when they look like keywords.
const NAMED_SCHEMA_KEYS = new Set(['properties', 'patternProperties', '$defs']);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNullableMarker(value: Json): boolean {
  return isObject(value) && value.nullable === true && Object.keys(value).length === 1;
}

/**
 * Turns the document's OpenAPI dialect into plain JSON Schema 2020-12: the 3.0 keyword `nullable`
 * (also as an `allOf` member of its own) becomes `anyOf [..., null]`; vendor extensions and
 * `discriminator` (informative only, every branch is still checked) are dropped.
 */
export function toJsonSchema(node: Json): Json {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!isObject(node)) return node;
  let nullable = node.nullable === true;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith('x-') || key === 'discriminator' || key === 'nullable') continue;
    if (DATA_KEYS.has(key)) out[key] = value;
    else if (NAMED_SCHEMA_KEYS.has(key) && isObject(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, schema]) => [name, toJsonSchema(schema)]));
    } else if (key === 'allOf' && Array.isArray(value)) {
      if (value.some(isNullableMarker)) nullable = true;
      out[key] = value.filter((member) => !isNullableMarker(member)).map(toJsonSchema);
    } else out[key] = toJsonSchema(value);
  }
  return nullable ? { anyOf: [out, { type: 'null' }] } : out;
}

function loadDocument(): JsonObject {
  return parse(readFileSync(SPEC_PATH, 'utf8')) as JsonObject;
}

export interface SchemaViolation {
  /** Dotted path of the offending field, as OpenAI's `param` (`tools[0].function.name`), or null for the root. */
  param: string | null;
  message: string;
}

export function pathToParam(instancePath: string, extra?: string): string | null {
  const parts = instancePath.split('/').slice(1).map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra !== undefined) parts.push(extra);
  let param = '';
  for (const part of parts) param += /^\d+$/.test(part) ? `[${part}]` : param === '' ? part : `.${part}`;
  return param === '' ? null : param;
}

function describe(error: ErrorObject): SchemaViolation {
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties') {
    const name = String(params.additionalProperty);
    const param = pathToParam(error.instancePath, name);
    // An empty field name makes no param at the root; the message still names it.
    return { param, message: `Unrecognized request argument supplied: ${param ?? "''"}` };
  }
  if (error.keyword === 'required') {
    const param = pathToParam(error.instancePath, String(params.missingProperty));
    return { param, message: `Missing required parameter: '${param}'.` };
  }
  const param = pathToParam(error.instancePath);
  const allowed = Array.isArray(params.allowedValues) ? ` Supported values are: ${params.allowedValues.map((v) => `'${String(v)}'`).join(', ')}.` : '';
  return { param, message: `Invalid value for '${param ?? 'body'}': ${error.message ?? 'invalid'}.${allowed}` };
}

/** The most useful of Ajv's errors: unknown fields and missing fields first, then the deepest path. */
function mostRelevant(errors: ErrorObject[]): ErrorObject {
  const byKeyword = (keyword: string) => errors.find((error) => error.keyword === keyword);
  const deepest = [...errors]
    .filter((error) => !['anyOf', 'oneOf', 'if'].includes(error.keyword))
    .sort((a, b) => b.instancePath.length - a.instancePath.length)[0];
  return byKeyword('additionalProperties') ?? byKeyword('required') ?? deepest ?? errors[0]!;
}

export class SpecSchemas {
  readonly #ajv: Ajv2020;
  readonly #document: JsonObject;
  readonly #compiled = new Map<string, ValidateFunction>();

  constructor(document: JsonObject = loadDocument()) {
    this.#document = document;
    this.#ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: false });
    this.#ajv.addSchema({ ...(toJsonSchema(document) as JsonObject), $id: SPEC_ID });
  }

  #validator(schemaName: string): ValidateFunction {
    let validate = this.#compiled.get(schemaName);
    if (!validate) {
      const components = this.#document.components;
      if (!isObject(components) || !isObject(components.schemas) || !(schemaName in components.schemas)) {
        throw new Error(`schema ${schemaName} is not in the OpenAPI document`);
      }
      validate = this.#ajv.getSchema(`${SPEC_ID}#/components/schemas/${schemaName}`);
      if (!validate) throw new Error(`cannot compile schema ${schemaName}`);
      this.#compiled.set(schemaName, validate);
    }
    return validate;
  }

  /** The first violation of `value` against the named component schema, or null when it conforms. */
  violation(schemaName: string, value: unknown): SchemaViolation | null {
    const validate = this.#validator(schemaName);
    if (validate(value)) return null;
    return describe(mostRelevant(validate.errors ?? []));
  }

  /** Every violation, for tests that check our responses against the spec. */
  allViolations(schemaName: string, value: unknown): string[] {
    const validate = this.#validator(schemaName);
    if (validate(value)) return [];
    return (validate.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message ?? ''}`);
  }
}

let shared: SpecSchemas | undefined;

/** The schemas of the spec, compiled once per process. */
export function specSchemas(): SpecSchemas {
  shared ??= new SpecSchemas();
  return shared;
}
