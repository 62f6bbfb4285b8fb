import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { toFile } from 'openai';
import { type Harness, startHarness } from './support/harness.js';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => h.close());

test('image_file parts reach the model as data URLs, and a deleted image as a note', async () => {
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 1, 2, 3]);
  const image = await h.client.files.create({ file: await toFile(png, 'chart.png'), purpose: 'vision' });
  const assistant = await h.client.beta.assistants.create({ model: 'gpt-4o' });
  const thread = await h.client.beta.threads.create({
    messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_file', image_file: { file_id: image.id, detail: 'low' } }] }],
  });
  h.model.script({ text: 'A chart.' });
  await h.client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, { pollIntervalMs: 20 });
  const user = h.model.requests[0]!.body.messages.find((message) => message.role === 'user');
  assert.deepEqual(user?.content, [
    { type: 'text', text: 'What is this?' },
    { type: 'image_url', image_url: { url: `data:image/png;base64,${png.toString('base64')}`, detail: 'low' } },
  ]);

  await h.client.files.delete(image.id);
  h.model.script({ text: 'It is gone.' });
  await h.client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, { pollIntervalMs: 20 });
  const later = h.model.requests[1]!.body.messages.find((message) => message.role === 'user');
  assert.equal(later?.content, `What is this?\n[image ${image.id} is no longer available]`);
});
