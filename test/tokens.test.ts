import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { buildPrompt } from '../src/engine/prompt.js';
import { countTokens, tokenBound } from '../src/engine/tokens.js';
import { messageFromRequest } from '../src/services/messages.js';

test('the token bound is never below the count: of any text, words of one script, long unbroken runs, special tokens', () => {
  const texts = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 400 }),
    fc.string({ unit: 'grapheme', maxLength: 400 }),
    fc.string({ unit: fc.constantFrom('a', 'e', ' ', 'th', '中', '文', '😀', '\n', '<|endoftext|>', '0', '='), maxLength: 600 }),
  );
  fc.assert(fc.property(texts, (text) => countTokens(text) <= tokenBound(text)), { seed: 14, numRuns: 2000 });
  assert.ok(countTokens('x'.repeat(5000)) <= tokenBound('x'.repeat(5000)));
});

test('a prompt whose bound fits its budget is the whole thread, as when it is counted', () => {
  const run = { id: 'run_1', instructions: 'Be brief.', truncation_strategy: { type: 'auto', last_messages: null } } as Parameters<typeof buildPrompt>[0]['run'];
  const messages = ['Hello there', 'General Kenobi', 'You are a bold one'].map((text, index) =>
    messageFromRequest('thread_1', { role: index % 2 === 0 ? 'user' : 'assistant', content: text }, index),
  );
  const prompt = (budget: number) => buildPrompt({ run, messages, steps: [], images: new Map(), toolInstructions: [], budget, toolsJson: '' });
  const whole = prompt(1_000_000);
  assert.equal(whole.length, 4);
  // Below the bound but above the count: counted, and still the whole thread.
  const counted = whole.reduce((sum, message) => sum + 4 + countTokens(String(message.content)), 0);
  assert.deepEqual(prompt(counted), whole);
  // Below the count: the oldest message goes.
  assert.deepEqual(prompt(counted - 1), [whole[0], ...whole.slice(2)]);
});
