import { test } from 'node:test';
import { toFile } from 'openai';
import { startHarness } from '/work/main/test/support/harness.js';

test('probe', async () => {
  const h = await startHarness({ env: { STEPWISE_MAX_FILE_BYTES: String(20 * 1024 * 1024) } });
  try {
    const big = await h.client.files.create({ file: await toFile(Buffer.alloc(10 * 1024 * 1024, 1), 'big.bin'), purpose: 'assistants' });
    console.log('10MB ok', big.bytes);
    const e = await h.client.files.create({ file: await toFile(Buffer.alloc(50 * 1024 * 1024, 1), 'big.bin'), purpose: 'assistants' }).catch((e) => e);
    console.log('50MB', e.status, e.message);
    const bad = await fetch(`${h.stepwise.url}/files`, { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=xyz' }, body: '--xyz\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n--xyz\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nabc' });
    console.log('truncated', bad.status, await bad.text());
    const bad2 = await fetch(`${h.stepwise.url}/files`, { method: 'POST', headers: { 'content-type': 'multipart/form-data' }, body: 'garbage' });
    console.log('no boundary', bad2.status, await bad2.text());
    const two = new FormData(); two.append('purpose', 'assistants'); two.append('file', new Blob(['a']), 'a'); two.append('file', new Blob(['b']), 'b');
    const r2 = await fetch(`${h.stepwise.url}/files`, { method: 'POST', body: two });
    console.log('two files', r2.status, await r2.text());
    const tp = await fetch(`${h.stepwise.url}/files`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
    console.log('text/plain', tp.status, await tp.text());
    const c = await fetch(`${h.stepwise.url}/files/${big.id}/content`);
    console.log(c.headers.get('content-disposition'), c.headers.get('content-length'));
  } finally { await h.close(); }
});
