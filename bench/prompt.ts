/**
 * Building the prompt of a run on a long thread, when its token bound fits the budget (no
 * tokenizer) against when it must be counted (a budget just above its count), in the same run.
 * Usage: npm run bench:prompt [-- MESSAGES [ROUNDS]]
 */
import { performance } from 'node:perf_hooks';
import { buildPrompt, type PromptInput } from '../src/engine/prompt.js';
import { countTokens, messageTokens } from '../src/engine/tokens.js';
import { messageFromRequest } from '../src/services/messages.js';
import type { Run } from '../src/spec/wire.js';

const messageCount = Number(process.argv[2] ?? 100);
const rounds = Number(process.argv[3] ?? 200);

const WORDS = ['the', 'model', 'answered', 'thread', 'run', 'step', 'Stepwise', 'server', '1234', 'über', '中文'];
const text = (words: number) => Array.from({ length: words }, (_, index) => WORDS[(index * 7) % WORDS.length]).join(' ');

const messages = Array.from({ length: messageCount }, (_, index) =>
  messageFromRequest('thread_bench', { role: index % 2 === 0 ? 'user' : 'assistant', content: text(170) }, index),
);
const run = { id: 'run_bench', instructions: 'Answer briefly.', truncation_strategy: { type: 'auto', last_messages: null } } as Run;
const input = (budget: number): PromptInput => ({ run, messages, steps: [], images: new Map(), toolInstructions: [], budget, toolsJson: '' });

const whole = buildPrompt(input(Number.MAX_SAFE_INTEGER));
const tokens = whole.reduce((sum, message) => sum + messageTokens(message), 0) + countTokens('');
const budgets = { 'bound fits (no count)': input(Number.MAX_SAFE_INTEGER), 'counted (budget = count)': input(tokens) };

const timings = new Map<string, number>(Object.keys(budgets).map((name) => [name, 0]));
for (let round = 0; round < rounds + 10; round++) {
  // Interleaved, so both see the same machine state; the first rounds warm up.
  for (const [name, prompt] of Object.entries(budgets)) {
    const start = performance.now();
    if (buildPrompt(prompt).length !== whole.length) throw new Error(`${name}: the prompt lost messages`);
    if (round >= 10) timings.set(name, timings.get(name)! + performance.now() - start);
  }
}
const characters = messages.reduce((sum, message) => sum + JSON.stringify(message.content).length, 0);
console.log(`prompt of ${messageCount} messages (${characters} characters, ${tokens} tokens), ${rounds} rounds each`);
for (const [name, total] of timings) console.log(`${name.padEnd(28)} ${(total / rounds).toFixed(3)} ms per prompt`);
const [bound, counted] = [...timings.values()];
console.log(`ratio ${(counted! / bound!).toFixed(1)}x`);
