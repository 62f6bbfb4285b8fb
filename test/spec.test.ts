import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToParam, specSchemas, toJsonSchema } from '../src/spec/openapi.js';

const SHARED_SPEC = '../shared/spec/assistants-openapi.yaml';

test('the bundled OpenAPI document is the shared contract, unchanged', { skip: !existsSync(SHARED_SPEC) && 'no shared/ beside the repo' }, () => {
  assert.equal(readFileSync('spec/assistants-openapi.yaml', 'utf8'), readFileSync(SHARED_SPEC, 'utf8'));
});

test('the committed wire types are generated from the bundled document', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stepwise-types-'));
  try {
    execFileSync(process.execPath, ['node_modules/openapi-typescript/bin/cli.js', 'spec/assistants-openapi.yaml', '-o', join(dir, 'types.ts')], { stdio: 'ignore' });
    assert.equal(readFileSync(join(dir, 'types.ts'), 'utf8'), readFileSync('src/spec/openapi-types.ts', 'utf8'), 'run `npm run spec:types`');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('OpenAPI nullable forms become JSON Schema null branches', () => {
  assert.deepEqual(toJsonSchema({ type: 'integer', nullable: true }), { anyOf: [{ type: 'integer' }, { type: 'null' }] });
  assert.deepEqual(toJsonSchema({ allOf: [{ $ref: '#/x' }, { nullable: true }] }), { anyOf: [{ allOf: [{ $ref: '#/x' }] }, { type: 'null' }] });
  // A property that happens to be called `nullable` is a name, not the keyword.
  assert.deepEqual(toJsonSchema({ properties: { nullable: { type: 'string' } }, 'x-oaiMeta': {} }), { properties: { nullable: { type: 'string' } } });
});

test('schema violations name the offending field the way OpenAI does', () => {
  const schemas = specSchemas();
  assert.equal(pathToParam('/tools/0/function', 'name'), 'tools[0].function.name');
  assert.deepEqual(schemas.violation('CreateRunRequest', { assistant_id: 'a', truncation_strategy: null, tool_choice: null }), null);
  assert.deepEqual(schemas.violation('CreateRunRequest', { assistant_id: 'a', stream_me: true }), {
    param: 'stream_me',
    message: 'Unrecognized request argument supplied: stream_me',
  });
  assert.equal(schemas.violation('CreateRunRequest', { assistant_id: 'a', tools: [{ type: 'function', function: {} }] })?.param, 'tools[0].function.name');
  assert.equal(schemas.violation('CreateRunRequest', { assistant_id: 'a', max_prompt_tokens: 255 })?.param, 'max_prompt_tokens');
});
