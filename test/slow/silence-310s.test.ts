// Slow (about 5 minutes): `npm run test:slow`, run by .ci/run after `npm test`.
// Node's fetch gives up on any request that gets no byte for 300 s (undici's headersTimeout and
// bodyTimeout), whatever signal the caller passes: a cold load of a large model, or a long
// `stream: false` answer, dies there. With readTimeout: 0 the library lifts both limits.
// Plain fetch runs beside it as the control, so this test shows the limit it gets around.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chat, chatStream } from '../../lib/index.ts';
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
