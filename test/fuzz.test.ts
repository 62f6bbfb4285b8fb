import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import OpenAI, { toFile } from 'openai';
import { parse } from 'yaml';
import { assertMatchesSpec, eventually, type Harness, startHarness } from './support/harness.js';

/**
 * Thousands of generated bad requests at every operation of the spec: malformed and non-UTF-8 bodies,
 * values shaped by the request schemas but wrong in type, range or size, unknown fields, deep nesting,
 * path tricks and guessed ids, bad query parameters and multipart forms. Every answer must be a 2xx
 * that matches the spec or a 4xx with OpenAI's error object, promptly; afterwards the server still
 * serves and another project's objects are untouched.
 */

// Fixed, so that a failure reproduces; FUZZ_SEED explores other inputs.
const SEED = Number(process.env.FUZZ_SEED ?? 20_260_601);
const RUNS_PER_OPERATION = 96;
const REQUEST_TIMEOUT_MS = 15_000;

type Schema = { [key: string]: any };
type Method = 'get' | 'post' | 'delete';

interface Operation {
  method: Method;
  template: string;
  pathParams: string[];
  queryParams: { name: string; schema: Schema }[];
  body: { type: 'json' | 'multipart'; schema: string } | undefined;
  /** The response schema of a 200 in JSON; undefined where the 200 is raw bytes. */
  response: string | undefined;
}

const document = parse(readFileSync(new URL('../spec/assistants-openapi.yaml', import.meta.url), 'utf8')) as Schema;
const components = document.components.schemas as Record<string, Schema>;
const refName = (schema: Schema | undefined): string | undefined => (schema?.$ref as string | undefined)?.split('/').pop();

const isDestructive = (op: Operation) => op.method === 'delete' || op.template.endsWith('/cancel');

const operations: Operation[] = Object.entries(document.paths as Record<string, Schema>).flatMap(([template, item]) =>
  (['get', 'post', 'delete'] as const)
    .filter((method) => item[method])
    .map((method): Operation => {
      const op = item[method] as Schema;
      const parameters = (op.parameters ?? []) as Schema[];
      const content = (op.requestBody?.content ?? {}) as Schema;
      const bodyType = content['application/json'] ? 'json' : content['multipart/form-data'] ? 'multipart' : undefined;
      return {
        method,
        template,
        pathParams: parameters.filter((p) => p.in === 'path').map((p) => p.name as string),
        queryParams: parameters.filter((p) => p.in === 'query').map((p) => ({ name: p.name as string, schema: p.schema as Schema })),
        body: bodyType && { type: bodyType, schema: refName(content[bodyType === 'json' ? 'application/json' : 'multipart/form-data'].schema)! },
        response: refName(op.responses?.['200']?.content?.['application/json']?.schema),
      };
    }),
)
  // Deletes and cancels last, so that the objects they end serve every other operation first.
  .sort((a, b) => Number(isDestructive(a)) - Number(isDestructive(b)));

// ---- generated values -----------------------------------------------------------------------

const ULID_CHARS = '0123456789abcdefghjkmnpqrstvwxyz';
const ID_PREFIXES = ['asst_', 'thread_', 'msg_', 'run_', 'step_', 'file-', 'upload_', 'part_', 'vs_', 'vsfb_', 'call_'];
const guessedId = fc
  .tuple(fc.constantFrom(...ID_PREFIXES), fc.array(fc.constantFrom(...ULID_CHARS), { minLength: 26, maxLength: 26 }))
  .map(([prefix, chars]) => prefix + chars.join(''));
/** Path segments as sent on the wire, never normalized by a client: traversal, NUL, bad escapes, sheer length. */
const PATH_TRICKS = ['..%2F..%2Fetc%2Fpasswd', '%2e%2e%2F%2e%2e%2Ffiles', '%2e%2e', '.%2e', '%00', 'asst_%00x', '%ff%fe', '%zz', '%C3%BC%E2%80%AE', 'a'.repeat(5000), '%20', '*', 'null', '-1'];
// Long texts are words, as most bodies are (one long word has its own test below).
const words = (chars: number) => 'lorem ipsum '.repeat(Math.ceil(chars / 12)).slice(0, chars);
const HUGE = words(3 * 1024 * 1024);
const wrongValue = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(null, true, -1, 0, 1e308, '', [], {}, words(70_000)));

type NestingKind = 'array' | 'object' | 'filter';

/** Nested arrays and objects `depth` levels deep, built as text so that no recursion serializes it. */
function deeplyNested(depth: number, kind: NestingKind): string {
  if (kind === 'array') return '['.repeat(depth) + ']'.repeat(depth);
  if (kind === 'object') return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
  return '{"type":"and","filters":['.repeat(depth) + '{"type":"eq","key":"k","value":1}' + ']}'.repeat(depth);
}

/** Ids of the objects the fuzzed project owns, and of another project's, by the name of the parameter that holds them. */
const ids = { own: new Map<string, string>(), foreign: new Map<string, string>() };
const ID_PARAMS = ['assistant_id', 'thread_id', 'message_id', 'run_id', 'step_id', 'file_id', 'upload_id', 'vector_store_id', 'batch_id'];

/** An id for a field or parameter named `name`: mostly the fuzzed project's own object of that kind, else any id or a guess. */
function idFor(name: string): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.constant(name).map((n) => ids.own.get(n) ?? `${n}_unknown`) },
    { weight: 1, arbitrary: fc.constantFrom(...ID_PARAMS).map((n) => ids.own.get(n) ?? '') },
    { weight: 1, arbitrary: fc.constant(name).map((n) => ids.foreign.get(n) ?? '') },
    { weight: 2, arbitrary: guessedId },
  );
}

/**
 * Values near a schema of the spec: mostly of its shape (so requests reach the services), at times just
 * outside it (one past a bound, the wrong type, an unknown field), and ids that exist where a field names one.
 */
class NearSchema {
  readonly #cache = new Map<Schema, Map<string, fc.Arbitrary<unknown>>>();

  of(schema: Schema, depth: number, name = ''): fc.Arbitrary<unknown> {
    const built = this.#cache.get(schema) ?? new Map<string, fc.Arbitrary<unknown>>();
    this.#cache.set(schema, built);
    // The name matters only to fields that hold ids.
    const key = `${depth} ${/_ids?$/.test(name) ? name : ''}`;
    let arbitrary = built.get(key);
    if (!arbitrary) {
      arbitrary = this.#build(schema, depth, name);
      built.set(key, arbitrary);
    }
    return arbitrary;
  }

  #build(raw: Schema, depth: number, name: string): fc.Arbitrary<unknown> {
    const schema = raw.$ref ? components[refName(raw)!]! : raw;
    if (depth <= 0) return wrongValue;
    const valid: fc.Arbitrary<unknown>[] = [];
    const invalid: fc.Arbitrary<unknown>[] = [wrongValue];
    for (const member of [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])]) valid.push(this.of(member as Schema, depth - 1, name));
    if (schema.enum) valid.push(fc.constantFrom(...(schema.enum as unknown[])));
    if (schema.const !== undefined) valid.push(fc.constant(schema.const));
    const type = schema.type ?? (schema.properties ? 'object' : undefined);
    if (type === 'object') valid.push(this.#object(schema, depth));
    if (type === 'array') {
      const items = this.of((schema.items ?? {}) as Schema, depth - 1, name.replace(/_ids$/, '_id'));
      valid.push(fc.array(items, { minLength: schema.minItems ?? 0, maxLength: 3 }));
      if (typeof schema.maxItems === 'number' && schema.maxItems < 3000) invalid.push(items.map((item) => Array.from({ length: schema.maxItems + 1 }, () => item)));
    }
    if (type === 'string' && !schema.enum) {
      valid.push(/_id$/.test(name) ? idFor(name) : fc.string({ maxLength: 20 }));
      invalid.push(fc.string({ unit: 'binary', maxLength: 20 }));
      if (typeof schema.maxLength === 'number') invalid.push(fc.constant('y'.repeat(schema.maxLength + 1)));
    }
    if (type === 'integer' || type === 'number') {
      const bounds = [schema.minimum, schema.maximum].filter((b): b is number => typeof b === 'number');
      valid.push(bounds.length === 2 ? fc.integer({ min: Math.ceil(bounds[0]!), max: Math.floor(bounds[1]!) }) : fc.nat(100_000));
      invalid.push(fc.integer(), fc.constantFrom(-1, 2 ** 53, 1.5, ...bounds.flatMap((b) => [b - 1, b + 1])));
      if (type === 'number') invalid.push(fc.double({ noNaN: true, noDefaultInfinity: true }));
    }
    if (type === 'boolean') valid.push(fc.boolean());
    if (type === 'null') valid.push(fc.constant(null));
    if (schema.nullable) valid.push(fc.constant(null));
    if (valid.length === 0) return fc.oneof(...invalid);
    // Mostly of the schema's shape, so that requests get past validation into the services.
    return fc.oneof({ weight: 30, arbitrary: fc.oneof(...valid) }, { weight: 1, arbitrary: fc.oneof(...invalid) });
  }

  #object(schema: Schema, depth: number): fc.Arbitrary<unknown> {
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    const fields = Object.fromEntries(Object.entries(properties).map(([name, property]) => [name, this.of(property, depth - 1, name)]));
    const required = ((schema.required ?? []) as string[]).filter((name) => name in fields);
    const record = fc.oneof({ weight: 4, arbitrary: fc.record(fields, { requiredKeys: required }) }, { weight: 1, arbitrary: fc.record(fields, { requiredKeys: [] }) });
    const unknownField = fc.tuple(fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('__proto__', 'constructor', 'id', 'object')), wrongValue);
    const extra = fc.oneof({ weight: 12, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: unknownField });
    return fc.tuple(record, extra).map(([value, field]) => (field ? { ...(value as object), [field[0]]: field[1] } : value));
  }
}

const near = new NearSchema();

// ---- requests -------------------------------------------------------------------------------

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

interface FuzzResponse {
  status: number;
  contentType: string;
  text: string;
}

let baseUrl: URL;

/** Sends the path verbatim (fetch would resolve `%2e%2e`), and fails on a hang. */
function send(request: FuzzRequest): Promise<FuzzResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: baseUrl.hostname, port: baseUrl.port, method: request.method, path: request.path, headers: request.headers, timeout: REQUEST_TIMEOUT_MS },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(request.body);
  });
}

const jsonBody = (op: Operation, depth: number) =>
  fc.oneof(
    { weight: 12, arbitrary: near.of({ $ref: `#/components/schemas/${op.body?.schema ?? 'Metadata'}` }, depth).map((value) => JSON.stringify(value) ?? '') },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom('{', '{"a":', 'nul', '{"model":"x",}', "{'a':1}", '\u0000', '', '[', '{"a":1}{', '\ufeff{}'), fc.string({ maxLength: 8 })).map(([a, b]) => a + b) },
    { weight: 1, arbitrary: fc.constantFrom(...bodyFields(op)).chain((field) => fc.tuple(fc.constantFrom<NestingKind[]>('array', 'object', 'filter'), fc.constantFrom(90, 10_000)).map(([kind, depth]) => `{"${field}":${deeplyNested(depth, kind)}}`)) },
    { weight: 1, arbitrary: fc.constantFrom(...bodyFields(op)).map((field) => `{"${field}":"${HUGE}"}`) },
  );

function bodyFields(op: Operation): string[] {
  const schema = op.body ? components[op.body.schema]! : {};
  return [...Object.keys((schema.properties ?? {}) as object), 'filters', 'metadata'];
}

/** Invalid UTF-8 inside an otherwise fine JSON string. */
const invalidUtf8 = (op: Operation) =>
  fc.tuple(fc.constantFrom(...bodyFields(op)), fc.uint8Array({ minLength: 1, maxLength: 16 })).map(([field, bytes]) =>
    Buffer.concat([Buffer.from(`{"${field}":"`), Buffer.from([0xff, 0xc0, 0x80]), Buffer.from(bytes), Buffer.from('"}')]),
  );

const FILENAME_TRICKS = ['../../etc/passwd', '..\\..\\boot.ini', '%2e%2e%2fsecret', 'a\u0000b.txt', '\u202etxt.exe', 'n'.repeat(10_000), '', '.', '..', '/abs/path.txt', 'CON', 'line\r\nbreak.txt'];

const multipartBody = fc
  .record({
    filename: fc.oneof(fc.constantFrom(...FILENAME_TRICKS), fc.string({ maxLength: 30 })),
    purpose: fc.oneof(fc.constantFrom('assistants', 'vision', 'batch', ''), fc.string({ maxLength: 10 })),
    fileField: fc.constantFrom('file', 'data', 'other'),
    content: fc.uint8Array({ maxLength: 64 }),
    broken: fc.constantFrom('none', 'none', 'none', 'truncated', 'no-boundary', 'wrong-boundary'),
  })
  .map(({ filename, purpose, fileField, content, broken }) => {
    const boundary = 'fuzzboundary7MA4YWxkTrZu0gW';
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\n${purpose}\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${fileField}"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`),
      Buffer.from(content),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const contentType = broken === 'no-boundary' ? 'multipart/form-data' : `multipart/form-data; boundary=${broken === 'wrong-boundary' ? 'other' : boundary}`;
    return { body: broken === 'truncated' ? body.subarray(0, body.length - 20) : body, contentType };
  });

const queryValue = (schema: Schema, name: string) =>
  fc.oneof(
    near.of(schema, 2, name).map((value) => (typeof value === 'string' ? value : JSON.stringify(value) ?? '')),
    fc.constantFrom('', '-1', '0', '101', '1e2', '0x10', ' 5', '007', '99999999999999999999', 'asc', 'desc', 'ASC', '%00'),
    idFor(name),
  );

function queryOf(op: Operation): fc.Arbitrary<string> {
  const names = [...op.queryParams.map((p) => p.name), 'unknown'];
  const pair = fc.constantFrom(...names).chain((name) => {
    const schema = op.queryParams.find((p) => p.name === name)?.schema ?? {};
    return queryValue(schema, name).map((value) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
  });
  return fc.array(pair, { maxLength: 4 }).map((pairs) => (pairs.length === 0 ? '' : `?${pairs.join('&')}`));
}

const pathParam = (name: string) => fc.oneof({ weight: 8, arbitrary: idFor(name).map(encodeURIComponent) }, { weight: 1, arbitrary: fc.constantFrom(...PATH_TRICKS) });

/** Every request this test sends for one operation, headers included. */
function requestsFor(op: Operation, auth: string): fc.Arbitrary<FuzzRequest> {
  const path = fc.tuple(...op.pathParams.map(pathParam), queryOf(op)).map((parts) => {
    let filled = op.template;
    for (const [index, name] of op.pathParams.entries()) filled = filled.replace(`{${name}}`, parts[index]!);
    return `/v1${filled}${parts.at(-1)!}`;
  });
  const headers = fc.oneof(
    { weight: 8, arbitrary: fc.constant({}) },
    { weight: 1, arbitrary: fc.constantFrom<Record<string, string>>({ authorization: 'Bearer sk-wrong' }, { authorization: '' }, { 'openai-beta': 'assistants=v1' }, { 'openai-beta': 'assistants=v9, x' }, { authorization: `Basic ${auth}` }) },
  );
  const base = { authorization: `Bearer ${auth}`, 'openai-beta': 'assistants=v2' };
  let body: fc.Arbitrary<{ body?: Buffer; contentType?: string }> = fc.constant({});
  if (op.body?.type === 'json' || op.method === 'post') {
    body = fc.oneof(
      { weight: 10, arbitrary: jsonBody(op, 5).map((text) => ({ body: Buffer.from(text), contentType: 'application/json' })) },
      { weight: 1, arbitrary: invalidUtf8(op).map((bytes) => ({ body: bytes, contentType: 'application/json' })) },
      { weight: 1, arbitrary: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'application/jsonx').map((contentType) => ({ body: Buffer.from('{}'), contentType })) },
    );
  }
  if (op.body?.type === 'multipart') body = fc.oneof({ weight: 4, arbitrary: multipartBody }, { weight: 1, arbitrary: body });
  return fc.tuple(path, headers, body).map(([p, extra, b]) => ({
    method: op.method.toUpperCase(),
    path: p,
    headers: { ...base, ...extra, ...(b.contentType && { 'content-type': b.contentType }) },
    ...(b.body && { body: b.body }),
  }));
}

// ---- what every answer must be ----------------------------------------------------------------

const describeRequest = (request: FuzzRequest) => `${request.method} ${request.path.slice(0, 300)} ${request.body?.subarray(0, 300).toString('utf8') ?? ''}`;

function checkAnswer(op: Operation, request: FuzzRequest, response: FuzzResponse): void {
  const where = `${describeRequest(request)} -> ${response.status} ${response.text.slice(0, 500)}`;
  assert.ok(response.status >= 200 && response.status < 500, `server error: ${where}`);
  if (response.status < 300) {
    if (op.response === undefined) return assert.match(response.contentType, /^application\/octet-stream/, where);
    if (response.contentType.startsWith('text/event-stream')) return assert.match(response.text, /^event: (thread\.|error)/, where);
    assert.match(response.contentType, /^application\/json/, where);
    const value = JSON.parse(response.text) as Schema;
    // Empty pages have null first_id and last_id, as OpenAI's do; the spec types them as strings only.
    const checked = Array.isArray(value.data) && value.data.length === 0 && 'first_id' in value ? { ...value, first_id: '', last_id: '' } : value;
    assertMatchesSpec(op.response, checked);
    return;
  }
  assert.match(response.contentType, /^application\/json/, where);
  const body = JSON.parse(response.text) as Schema;
  assert.deepEqual(Object.keys(body), ['error'], where);
  assert.deepEqual(Object.keys(body.error as object).sort(), ['code', 'message', 'param', 'type'], where);
  const { message, type, param, code } = body.error as Schema;
  assert.ok(typeof message === 'string' && message.length > 0 && typeof type === 'string', where);
  assert.ok((param === null || typeof param === 'string') && (code === null || typeof code === 'string'), where);
}

// ---- fixtures -------------------------------------------------------------------------------

/** One of every kind of object, for the fuzzed project to aim at and the other project to keep. */
async function makeObjects(h: Harness, client: OpenAI) {
  const assistant = await client.beta.assistants.create({ model: 'gpt-4o', name: 'kept', metadata: { k: 'v' } });
  const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: 'hello' }] });
  const message = (await client.beta.threads.messages.list(thread.id)).data[0]!;
  h.model.script({ text: 'hi there' });
  const run = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, { pollIntervalMs: 20 });
  const step = (await client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id })).data[0]!;
  const file = await client.files.create({ file: await toFile(Buffer.from('saffron and cardamom'), 'notes.txt'), purpose: 'assistants' });
  const vectorStore = await client.vectorStores.create({ name: 'kept', file_ids: [file.id] });
  const batch = await client.vectorStores.fileBatches.create(vectorStore.id, { file_ids: [file.id] });
  await eventually(async () => ((await client.vectorStores.retrieve(vectorStore.id)).status === 'completed' ? true : undefined));
  const upload = await client.uploads.create({ filename: 'u.txt', purpose: 'assistants', bytes: 3, mime_type: 'text/plain' });
  return { assistant, thread, message, run, step, file, vectorStore, batch, upload };
}

type Objects = Awaited<ReturnType<typeof makeObjects>>;

/** The objects as they stand now, read back through the API. */
async function readBack(client: OpenAI, o: Objects) {
  return {
    assistant: await client.beta.assistants.retrieve(o.assistant.id),
    thread: await client.beta.threads.retrieve(o.thread.id),
    messages: (await client.beta.threads.messages.list(o.thread.id)).data,
    run: await client.beta.threads.runs.retrieve(o.run.id, { thread_id: o.thread.id }),
    steps: (await client.beta.threads.runs.steps.list(o.run.id, { thread_id: o.thread.id })).data,
    file: await client.files.retrieve(o.file.id),
    content: await (await client.files.content(o.file.id)).text(),
    vectorStore: await client.vectorStores.retrieve(o.vectorStore.id),
    vectorStoreFiles: (await client.vectorStores.files.list(o.vectorStore.id)).data,
    batch: await client.vectorStores.fileBatches.retrieve(o.batch.id, { vector_store_id: o.vectorStore.id }),
    assistants: (await client.beta.assistants.list()).data.length,
    files: (await client.files.list()).data.length,
    vectorStores: (await client.vectorStores.list()).data.length,
  };
}

// ---- the test -------------------------------------------------------------------------------

let h: Harness;
before(async () => {
  h = await startHarness({ env: { STEPWISE_MODEL_MAX_RETRIES: '0', STEPWISE_LOG: 'off' } });
  baseUrl = new URL(h.stepwise.url);
});
after(() => h.close());

test('thousands of bad requests at every operation: 2xx per the spec or a 4xx error object, never a 5xx', async () => {
  const keptKey = await h.stepwise.apiKeys.create('proj_kept', 'kept');
  const fuzzKey = await h.stepwise.apiKeys.create('proj_fuzz', 'fuzz');
  const clientOf = (apiKey: string) => new OpenAI({ baseURL: h.stepwise.url, apiKey, maxRetries: 0 });
  const kept = clientOf(keptKey.secret);
  const keptObjects = await makeObjects(h, kept);
  const before = await readBack(kept, keptObjects);
  const fuzzObjects = await makeObjects(h, clientOf(fuzzKey.secret));
  for (const [pool, o] of [[ids.own, fuzzObjects], [ids.foreign, keptObjects]] as const) {
    const byParam = { assistant_id: o.assistant, thread_id: o.thread, message_id: o.message, run_id: o.run, step_id: o.step, file_id: o.file, upload_id: o.upload, vector_store_id: o.vectorStore, batch_id: o.batch };
    for (const [name, object] of Object.entries(byParam)) pool.set(name, object.id);
  }

  assert.equal(operations.length, 48, 'every operation of the spec is fuzzed');
  let sent = 0;
  for (const [index, op] of operations.entries()) {
    const result = await fc.check(
      fc.asyncProperty(requestsFor(op, fuzzKey.secret), async (request) => {
        sent++;
        const response = await send(request).catch((error: Error) => assert.fail(`${error.message}: ${describeRequest(request)}`));
        checkAnswer(op, request, response);
        // Another project's ids are never found, whatever else is wrong with the request.
        const foreign = request.path.split('?')[0]!.split('/').some((part) => [...ids.foreign.values()].includes(part));
        assert.ok(!foreign || response.status >= 400, `found another project's object: ${describeRequest(request)}`);
      }),
      { seed: SEED + index, numRuns: RUNS_PER_OPERATION, endOnFailure: true },
    );
    // The assertion's own message, not fast-check's report, which would print multi-megabyte bodies.
    if (result.failed) throw result.errorInstance;
  }
  console.log(`fuzz: ${sent} requests over ${operations.length} operations, 0 server errors`);

  const alive = await kept.beta.assistants.create({ model: 'gpt-4o', name: 'after the fuzz' });
  assert.equal((await kept.beta.assistants.retrieve(alive.id)).name, 'after the fuzz');
  await kept.beta.assistants.delete(alive.id);
  assert.deepEqual(await readBack(kept, keptObjects), before, "the other project's objects are intact");
});
