import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BadRequestError, NotFoundError, toFile } from 'openai';
import { assertMatchesSpec, eventually, type Harness, ManualClock, startHarness } from './support/harness.js';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => h.close());

const ALL_BYTE_VALUES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

async function upload(content: string | Buffer, filename = 'notes.txt', purpose: 'assistants' | 'vision' = 'assistants') {
  return h.client.files.create({ file: await toFile(Buffer.from(content), filename), purpose });
}

/** Posts a form by hand, for what the SDK would never send (it strips directories from names). */
async function postForm(url: string, form: FormData): Promise<Response> {
  return fetch(`${url}/files`, { method: 'POST', body: form });
}

/** Every path under the blob directory, relative to it. */
function blobNames(dataDir: string): string[] {
  const root = join(dataDir, 'blobs');
  return existsSync(root) ? readdirSync(root, { recursive: true, encoding: 'utf8' }) : [];
}

describe('files', () => {
  test('create returns a processed file object that matches the spec', async () => {
    const before = Math.floor(Date.now() / 1000);
    const file = await upload('hello world');
    assertMatchesSpec('OpenAIFile', file);
    assert.match(file.id, /^file-/);
    assert.equal(file.object, 'file');
    assert.equal(file.bytes, 11);
    assert.equal(file.filename, 'notes.txt');
    assert.equal(file.purpose, 'assistants');
    assert.equal(file.status, 'processed');
    assert.ok(file.created_at >= before - 1 && file.created_at <= before + 5);
    assert.equal(file.expires_at, undefined);
  });

  test('content returns the exact bytes, binary included', async () => {
    const file = await upload(ALL_BYTE_VALUES, 'bytes.bin');
    assert.equal(file.bytes, 256);
    const response = await h.client.files.content(file.id);
    assert.equal(response.headers.get('content-type'), 'application/octet-stream');
    assert.match(response.headers.get('content-disposition') ?? '', /^attachment; filename="bytes\.bin"/);
    assert.deepEqual(Buffer.from(await response.arrayBuffer()), ALL_BYTE_VALUES);
  });

  test('text content round-trips', async () => {
    const file = await upload('line one\nline two ünïcode');
    assert.equal(await (await h.client.files.content(file.id)).text(), 'line one\nline two ünïcode');
  });

  test('a non-ASCII name is kept exactly and downloads with an ASCII fallback', async () => {
    const file = await upload('cv', 'résumé final.txt');
    assert.equal(file.filename, 'résumé final.txt');
    const disposition = (await h.client.files.content(file.id)).headers.get('content-disposition');
    assert.equal(disposition, `attachment; filename="r_sum_ final.txt"; filename*=UTF-8''r%C3%A9sum%C3%A9%20final.txt`);
  });

  test('retrieve returns what create returned', async () => {
    const file = await upload('retrieve me');
    assert.deepEqual(await h.client.files.retrieve(file.id), file);
  });

  test('unknown ids answer 404', async () => {
    await assert.rejects(h.client.files.retrieve('file-missing'), NotFoundError);
    await assert.rejects(h.client.files.content('file-missing'), NotFoundError);
    await assert.rejects(h.client.files.delete('file-missing'), NotFoundError);
  });

  test('delete removes the file, its content and its blob', async () => {
    const file = await upload('short-lived');
    assert.ok(blobNames(h.dataDir).includes(join('files', file.id)));
    const deleted = await h.client.files.delete(file.id);
    assertMatchesSpec('DeleteFileResponse', deleted);
    assert.deepEqual(deleted, { id: file.id, object: 'file', deleted: true });
    await assert.rejects(h.client.files.retrieve(file.id), NotFoundError);
    await assert.rejects(h.client.files.content(file.id), NotFoundError);
    assert.ok(!blobNames(h.dataDir).includes(join('files', file.id)));
  });

  test('purposes outside assistants, assistants_output and vision are refused', async () => {
    for (const purpose of ['batch', 'fine-tune', 'user_data']) {
      const error = await h.client.files.create({ file: await toFile(Buffer.from('x'), 'a.jsonl'), purpose: purpose as 'batch' }).catch((e: unknown) => e);
      assert.ok(error instanceof BadRequestError, `${purpose} should be refused`);
      assert.equal(error.param, 'purpose');
    }
  });

  test('a missing purpose or file is a 400 naming it', async () => {
    const noPurpose = new FormData();
    noPurpose.append('file', new Blob(['x']), 'a.txt');
    const missingPurpose = await postForm(h.stepwise.url, noPurpose);
    assert.equal(missingPurpose.status, 400);
    assert.equal(((await missingPurpose.json()) as { error: { param: string } }).error.param, 'purpose');

    const noFile = new FormData();
    noFile.append('purpose', 'assistants');
    const missingFile = await postForm(h.stepwise.url, noFile);
    assert.equal(missingFile.status, 400);
    assert.equal(((await missingFile.json()) as { error: { param: string } }).error.param, 'file');
  });

  test('a JSON body is refused with a hint to send multipart', async () => {
    const response = await fetch(`${h.stepwise.url}/files`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ purpose: 'assistants' }) });
    assert.equal(response.status, 400);
    const body = (await response.json()) as { error: { message: string; type: string } };
    assert.equal(body.error.type, 'invalid_request_error');
    assert.match(body.error.message, /multipart\/form-data/);
  });

  test('malformed or overfull forms answer 400 with the OpenAI error object', async () => {
    const truncated = await fetch(`${h.stepwise.url}/files`, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=xyz' },
      body: '--xyz\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nabc',
    });
    const twoFiles = new FormData();
    twoFiles.append('purpose', 'assistants');
    twoFiles.append('file', new Blob(['a']), 'a.txt');
    twoFiles.append('file', new Blob(['b']), 'b.txt');
    const unknownField = new FormData();
    unknownField.append('purpose', 'assistants');
    unknownField.append('colour', 'blue');
    const expected = [/malformed/, /too many parts/, /Unrecognized request argument supplied: colour/];
    for (const [index, response] of [truncated, await postForm(h.stepwise.url, twoFiles), await postForm(h.stepwise.url, unknownField)].entries()) {
      assert.equal(response.status, 400);
      const { error } = (await response.json()) as { error: { type: string; message: string } };
      assert.equal(error.type, 'invalid_request_error');
      assert.match(error.message, expected[index]!);
    }
  });

  test('expires_after sets expires_at, and out-of-range seconds are refused', async () => {
    const file = await h.client.files.create({ file: await toFile(Buffer.from('x'), 'a.txt'), purpose: 'assistants', expires_after: { anchor: 'created_at', seconds: 7200 } });
    assertMatchesSpec('OpenAIFile', file);
    assert.equal(file.expires_at, file.created_at + 7200);
    await assert.rejects(
      h.client.files.create({ file: await toFile(Buffer.from('x'), 'a.txt'), purpose: 'assistants', expires_after: { anchor: 'created_at', seconds: 60 } }),
      (error: unknown) => error instanceof BadRequestError && error.param === 'expires_after.seconds',
    );
  });

  test('a file past its expires_at is deleted by the expiry sweep: its bytes, and its place in every vector store', async () => {
    const clock = new ManualClock();
    const timed = await startHarness({ clock });
    try {
      const expiring = await timed.client.files.create({ file: await toFile(Buffer.from('Bananas are yellow.'), 'a.txt'), purpose: 'assistants', expires_after: { anchor: 'created_at', seconds: 3600 } });
      const keeping = await timed.client.files.create({ file: await toFile(Buffer.from('Apples are red.'), 'b.txt'), purpose: 'assistants' });
      const store = await timed.client.vectorStores.create({ file_ids: [expiring.id, keeping.id] });
      await eventually(async () => ((await timed.client.vectorStores.retrieve(store.id)).status === 'completed' ? true : undefined));
      assert.deepEqual(blobNames(timed.dataDir).filter((name) => name.startsWith('files/')).sort(), [`files/${expiring.id}`, `files/${keeping.id}`].sort());

      clock.advanceSeconds(3599);
      await timed.stepwise.sweepExpired();
      assert.equal((await timed.client.files.retrieve(expiring.id)).id, expiring.id);

      clock.advanceSeconds(1);
      await timed.stepwise.sweepExpired();
      await assert.rejects(timed.client.files.retrieve(expiring.id), NotFoundError);
      await assert.rejects(timed.client.files.content(expiring.id), NotFoundError);
      assert.deepEqual((await timed.client.files.list()).data.map((file) => file.id), [keeping.id]);
      assert.deepEqual(blobNames(timed.dataDir).filter((name) => name.startsWith('files/')), [`files/${keeping.id}`]);
      assert.deepEqual((await timed.client.vectorStores.files.list(store.id)).data.map((file) => file.id), [keeping.id]);
      assert.equal((await timed.client.vectorStores.retrieve(store.id)).file_counts.total, 1);
      assert.equal((await timed.client.vectorStores.search(store.id, { query: 'bananas yellow' })).data.length, 0);
    } finally {
      await timed.close();
    }
  });

  test('a path-trick filename is reduced to its last segment and never reaches the blob directory', async () => {
    const form = new FormData();
    form.append('purpose', 'assistants');
    form.append('file', new Blob(['root:x:0:0']), '../../etc/pass\u0007wd');
    const response = await postForm(h.stepwise.url, form);
    assert.equal(response.status, 200);
    const file = (await response.json()) as { id: string; filename: string };
    assert.equal(file.filename, 'passwd');
    for (const name of blobNames(h.dataDir)) assert.match(name, /^(files|uploads)(\/[a-z0-9_-]+)*$/, `unexpected blob path ${name}`);
  });

  test('list filters by purpose and pages with after', async () => {
    const isolated = await startHarness();
    try {
      const made = [];
      for (const name of ['a.txt', 'b.txt', 'c.txt']) made.push(await isolated.client.files.create({ file: await toFile(Buffer.from(name), name), purpose: 'assistants' }));
      const image = await isolated.client.files.create({ file: await toFile(Buffer.from('png'), 'i.png'), purpose: 'vision' });

      assertMatchesSpec('ListFilesResponse', await (await isolated.client.files.list().asResponse()).json());
      const all = await isolated.client.files.list();
      assert.deepEqual(all.data.map((f) => f.id), [image.id, ...made.map((f) => f.id).reverse()]);

      const vision = await isolated.client.files.list({ purpose: 'vision' });
      assert.deepEqual(vision.data.map((f) => f.id), [image.id]);

      const firstPage = await isolated.client.files.list({ purpose: 'assistants', order: 'asc', limit: 2 });
      assert.deepEqual(firstPage.data.map((f) => f.id), [made[0]!.id, made[1]!.id]);
      assert.equal(firstPage.has_more, true);
      const secondPage = await isolated.client.files.list({ purpose: 'assistants', order: 'asc', limit: 2, after: made[1]!.id });
      assert.deepEqual(secondPage.data.map((f) => f.id), [made[2]!.id]);
      assert.equal(secondPage.has_more, false);

      const everything = [];
      for await (const file of isolated.client.files.list({ limit: 1 })) everything.push(file.id);
      assert.equal(everything.length, 4);
    } finally {
      await isolated.close();
    }
  });

  test('list returns up to 10000 files by default, beyond the 20 of other lists', async () => {
    const isolated = await startHarness();
    try {
      for (let i = 0; i < 25; i++) await isolated.client.files.create({ file: await toFile(Buffer.from(String(i)), `${i}.txt`), purpose: 'assistants' });
      const page = await isolated.client.files.list();
      assert.equal(page.data.length, 25);
      assert.equal(page.has_more, false);
    } finally {
      await isolated.close();
    }
  });

  test('list limit must be 1..10000', async () => {
    await assert.rejects(h.client.files.list({ limit: 0 }), BadRequestError);
    await assert.rejects(h.client.files.list({ limit: 10001 }), BadRequestError);
    const page = await h.client.files.list({ limit: 10000 });
    assert.ok(page.data.length > 0);
  });
});

describe('file size limit', () => {
  let small: Harness;
  before(async () => {
    small = await startHarness({ env: { STEPWISE_MAX_FILE_BYTES: '1000' } });
  });
  after(() => small.close());

  test('a file of exactly the limit is accepted', async () => {
    const file = await small.client.files.create({ file: await toFile(Buffer.alloc(1000, 7), 'max.bin'), purpose: 'assistants' });
    assert.equal(file.bytes, 1000);
  });

  test('a file over the limit answers 413 and leaves no blob', async () => {
    const before = blobNames(small.dataDir).length;
    const error = await small.client.files.create({ file: await toFile(Buffer.alloc(5000, 7), 'big.bin'), purpose: 'assistants' }).catch((e: unknown) => e);
    assert.ok(error instanceof Error && 'status' in error, String(error));
    assert.equal(error.status, 413);
    assert.equal((error as unknown as { code: string }).code, 'file_too_large');
    assert.equal(blobNames(small.dataDir).length, before);
  });

  test('an upload may not declare more than the limit', async () => {
    await assert.rejects(small.client.uploads.create({ bytes: 1001, filename: 'big.bin', purpose: 'assistants', mime_type: 'application/octet-stream' }), (error: unknown) => error instanceof BadRequestError && error.param === 'bytes');
  });
});

describe('uploads', () => {
  async function startUpload(bytes: number, client = h.client) {
    return client.uploads.create({ bytes, filename: 'big.txt', purpose: 'assistants', mime_type: 'text/plain' });
  }

  test('create returns a pending upload that expires in an hour', async () => {
    const created = await startUpload(10);
    assertMatchesSpec('Upload', created);
    assert.match(created.id, /^upload_/);
    assert.equal(created.object, 'upload');
    assert.equal(created.status, 'pending');
    assert.equal(created.bytes, 10);
    assert.equal(created.filename, 'big.txt');
    assert.equal(created.expires_at, created.created_at + 3600);
  });

  test('completing joins the parts in the order given into a new file', async () => {
    const created = await startUpload(11);
    const first = await h.client.uploads.parts.create(created.id, { data: await toFile(Buffer.from('hello'), 'p1') });
    const second = await h.client.uploads.parts.create(created.id, { data: await toFile(Buffer.from(' world'), 'p2') });
    assertMatchesSpec('UploadPart', first);
    assert.match(first.id, /^part_/);
    assert.equal(first.object, 'upload.part');
    assert.equal(first.upload_id, created.id);

    const completed = await h.client.uploads.complete(created.id, { part_ids: [second.id, first.id] });
    assertMatchesSpec('Upload', completed);
    assert.equal(completed.status, 'completed');
    assert.ok(completed.file);
    assertMatchesSpec('OpenAIFile', completed.file);
    assert.equal(completed.file.bytes, 11);
    assert.equal(completed.file.filename, 'big.txt');
    assert.equal(await (await h.client.files.content(completed.file.id)).text(), ' worldhello');
    assert.deepEqual(await h.client.files.retrieve(completed.file.id), completed.file);
    const remaining = blobNames(h.dataDir);
    assert.ok(![first.id, second.id].some((partId) => remaining.includes(join('uploads', created.id, partId))), 'part blobs are removed');
  });

  test('binary parts round-trip and a matching md5 is accepted', async () => {
    const created = await startUpload(512);
    const a = await h.client.uploads.parts.create(created.id, { data: await toFile(ALL_BYTE_VALUES, 'a') });
    const b = await h.client.uploads.parts.create(created.id, { data: await toFile(ALL_BYTE_VALUES, 'b') });
    const whole = Buffer.concat([ALL_BYTE_VALUES, ALL_BYTE_VALUES]);
    const completed = await h.client.uploads.complete(created.id, { part_ids: [a.id, b.id], md5: createHash('md5').update(whole).digest('hex') });
    assert.deepEqual(Buffer.from(await (await h.client.files.content(completed.file!.id)).arrayBuffer()), whole);
  });

  test('a wrong md5 is refused and the upload stays pending', async () => {
    const created = await startUpload(3);
    const part = await h.client.uploads.parts.create(created.id, { data: await toFile(Buffer.from('abc'), 'p') });
    await assert.rejects(h.client.uploads.complete(created.id, { part_ids: [part.id], md5: '0'.repeat(32) }), (error: unknown) => error instanceof BadRequestError && error.param === 'md5');
    const completed = await h.client.uploads.complete(created.id, { part_ids: [part.id] });
    assert.equal(completed.status, 'completed');
  });

  test('a total other than the declared bytes is refused', async () => {
    const created = await startUpload(10);
    const part = await h.client.uploads.parts.create(created.id, { data: await toFile(Buffer.from('short'), 'p') });
    await assert.rejects(h.client.uploads.complete(created.id, { part_ids: [part.id] }), BadRequestError);
  });

  test('parts of another upload, unknown parts and repeated parts are refused', async () => {
    const mine = await startUpload(4);
    const theirs = await startUpload(4);
    const part = await h.client.uploads.parts.create(mine.id, { data: await toFile(Buffer.from('ab'), 'p') });
    const foreign = await h.client.uploads.parts.create(theirs.id, { data: await toFile(Buffer.from('cd'), 'p') });
    await assert.rejects(h.client.uploads.complete(mine.id, { part_ids: [part.id, foreign.id] }), BadRequestError);
    await assert.rejects(h.client.uploads.complete(mine.id, { part_ids: [part.id, 'part_missing'] }), BadRequestError);
    await assert.rejects(h.client.uploads.complete(mine.id, { part_ids: [part.id, part.id] }), BadRequestError);
  });

  test('cancel ends the upload, removes its parts and refuses more', async () => {
    const created = await startUpload(5);
    const part = await h.client.uploads.parts.create(created.id, { data: await toFile(Buffer.from('12345'), 'p') });
    assert.ok(blobNames(h.dataDir).includes(join('uploads', created.id, part.id)));
    const cancelled = await h.client.uploads.cancel(created.id);
    assertMatchesSpec('Upload', cancelled);
    assert.equal(cancelled.status, 'cancelled');
    assert.ok(!blobNames(h.dataDir).includes(join('uploads', created.id, part.id)));
    await assert.rejects(h.client.uploads.parts.create(created.id, { data: await toFile(Buffer.from('x'), 'p') }), BadRequestError);
    await assert.rejects(h.client.uploads.complete(created.id, { part_ids: [part.id] }), BadRequestError);
    await assert.rejects(h.client.uploads.cancel(created.id), BadRequestError);
  });

  test('a completed upload takes no more parts', async () => {
    const created = await startUpload(1);
    const part = await h.client.uploads.parts.create(created.id, { data: await toFile(Buffer.from('x'), 'p') });
    await h.client.uploads.complete(created.id, { part_ids: [part.id] });
    await assert.rejects(h.client.uploads.parts.create(created.id, { data: await toFile(Buffer.from('y'), 'p') }), BadRequestError);
    await assert.rejects(h.client.uploads.complete(created.id, { part_ids: [part.id] }), BadRequestError);
  });

  test('unknown uploads answer 404', async () => {
    await assert.rejects(h.client.uploads.parts.create('upload_missing', { data: await toFile(Buffer.from('x'), 'p') }), NotFoundError);
    await assert.rejects(h.client.uploads.complete('upload_missing', { part_ids: [] }), NotFoundError);
    await assert.rejects(h.client.uploads.cancel('upload_missing'), NotFoundError);
  });

  test('create validates its body against the spec', async () => {
    await assert.rejects(h.client.uploads.create({ bytes: 1, filename: 'a', purpose: 'assistants' } as never), (error: unknown) => error instanceof BadRequestError && error.param === 'mime_type');
    await assert.rejects(h.client.uploads.create({ bytes: 1, filename: 'a', purpose: 'batch', mime_type: 'text/plain' }), (error: unknown) => error instanceof BadRequestError && error.param === 'purpose');
  });

  test('after an hour an upload is expired and refuses parts and completion', async () => {
    const clock = new ManualClock();
    const timed = await startHarness({ clock });
    try {
      const created = await startUpload(1, timed.client);
      const part = await timed.client.uploads.parts.create(created.id, { data: await toFile(Buffer.from('x'), 'p') });
      clock.advanceSeconds(3600);
      await assert.rejects(timed.client.uploads.parts.create(created.id, { data: await toFile(Buffer.from('y'), 'p') }), (error: unknown) => error instanceof BadRequestError && /expired/.test(error.message));
      await assert.rejects(timed.client.uploads.complete(created.id, { part_ids: [part.id] }), (error: unknown) => error instanceof BadRequestError && /expired/.test(error.message));
      // The parts' bytes stay until the expiry sweep, which deletes them.
      assert.ok(blobNames(timed.dataDir).includes(`uploads/${created.id}/${part.id}`));
      await timed.stepwise.sweepExpired();
      assert.deepEqual(blobNames(timed.dataDir).filter((name) => name.startsWith(`uploads/${created.id}/`)), []);
      await assert.rejects(timed.client.uploads.cancel(created.id), (error: unknown) => error instanceof BadRequestError && /expired/.test(error.message));
    } finally {
      await timed.close();
    }
  });
});
