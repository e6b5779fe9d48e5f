// Slow (about 5 minutes): `npm run test:slow`, run by .ci/run after `npm test`.
// Node's fetch gives up on any request that gets no byte for 300 s (undici's headersTimeout and
// bodyTimeout), whatever signal the caller passes: a cold load of a large model, or a long
// `stream: false` answer, dies there. With readTimeout: 0 the library lifts both limits.
// Plain fetch runs beside it as the control, so this test shows the limit it gets around. The
// compat class keeps that limit by default, as ollama-js on Node has it, with a typed error.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Ollama } from '../../lib/compat/index.ts';
import { chat, chatStream, isOllamaError } from '../../lib/index.ts';
import { chatCompletions, chatCompletionsStream } from '../../lib/openai/index.ts';
import { collect } from '../support/chunks.ts';
import { behaviourHeader, startFakeOllama, type FakeOllama } from '../support/fake-ollama.ts';

const SILENCE = 310_000;
const hello = { model: 'llama3.2', messages: [{ role: 'user' as const, content: 'Hi there, llama' }] };

let fake: FakeOllama;
before(async () => {
  fake = await startFakeOllama();
});
after(() => fake.close());

test('a response withheld 310 s', { concurrency: true, timeout: 400_000 }, async (t) => {
  // Side by side, so the run takes 5 minutes and not 15.
  await Promise.all([
    t.test("plain fetch (the control): fails at Node's hidden 300 s headers limit", async () => {
      const started = performance.now();
      await assert.rejects(
        fetch(`${fake.url}/api/chat`, {
          method: 'POST',
          headers: behaviourHeader({ headersDelayMs: SILENCE }),
          body: JSON.stringify(hello),
        }),
        (error: Error & { cause?: { code?: string } }) => error.cause?.code === 'UND_ERR_HEADERS_TIMEOUT',
      );
      const ms = performance.now() - started;
      assert.ok(ms > 295_000 && ms < SILENCE, `failed after ${Math.round(ms)} ms`);
    }),

    t.test('compat, default options: a first byte after 130 s arrives (as with ollama-js)', async () => {
      const reply = await new Ollama({ host: fake.url }).chat(hello, {
        headers: behaviourHeader({ headersDelayMs: 130_000 }),
      });
      assert.equal(reply.done, true);
    }),

    t.test('compat, default options: 310 s of silence is a read-timeout at 300 s, not "fetch failed"', async () => {
      const started = performance.now();
      await assert.rejects(
        new Ollama({ host: fake.url }).chat(hello, { headers: behaviourHeader({ headersDelayMs: SILENCE }) }),
        (error: unknown) => {
          assert.ok(isOllamaError(error) && error.kind === 'read-timeout', String(error));
          assert.match(error.message, /readTimeout \(300000 ms\)/);
          return true;
        },
      );
      const ms = performance.now() - started;
      assert.ok(ms > 295_000 && ms < SILENCE, `failed after ${Math.round(ms)} ms`);
    }),

    t.test('chat with readTimeout: 0 waits it out and succeeds', async () => {
      const started = performance.now();
      const reply = await chat(hello, {
        host: fake.url,
        readTimeout: 0,
        headers: behaviourHeader({ headersDelayMs: SILENCE }),
      });
      assert.equal(reply.done, true);
      assert.ok(performance.now() - started >= SILENCE - 100);
    }),

    t.test('chatStream with readTimeout: 0 outlasts a 310 s silence in the middle of the body', async () => {
      const chunks = await collect(
        chatStream(hello, {
          host: fake.url,
          readTimeout: 0,
          headers: behaviourHeader({ stallAfter: 1, stallMs: SILENCE }),
        }),
      );
      assert.equal(chunks.at(-1)?.done, true);
    }),

    t.test('/v1 chatCompletions with readTimeout: 0 waits out 310 s without headers (openai-node #2153)', async () => {
      const started = performance.now();
      const reply = await chatCompletions(hello, {
        baseURL: `${fake.url}/v1`,
        readTimeout: 0,
        headers: behaviourHeader({ headersDelayMs: SILENCE }),
      });
      assert.equal(reply.choices[0]?.finish_reason, 'stop');
      assert.ok(performance.now() - started >= SILENCE - 100);
    }),

    t.test('/v1 chatCompletionsStream with readTimeout: 0 outlasts a 310 s silence mid-stream', async () => {
      const chunks = await collect(
        chatCompletionsStream(hello, {
          baseURL: `${fake.url}/v1`,
          readTimeout: 0,
          headers: behaviourHeader({ stallAfter: 1, stallMs: SILENCE }),
        }),
      );
      assert.equal(chunks.at(-1)?.choices[0]?.finish_reason, 'stop');
    }),
  ]);
});
