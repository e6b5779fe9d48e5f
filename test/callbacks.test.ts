// The caller's callbacks and signals (issue 12, items 6 and 7): an abort settles the call within
// 200 ms whatever an async onRetry or onProgress is still doing, and no number of calls sharing one
// signal, the caller's or the library's own, gathers enough listeners for a process warning.

import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, test } from 'node:test';
import { chat, embed, pullModel, type ChatRequest } from '../lib/index.ts';
import { failsWith, TIMER_SLACK } from './support/assertions.ts';
import { behaviourHeader, statusReply } from './support/fake-ollama.ts';
import { withFake } from './support/with-fake.ts';

const hello: ChatRequest = { model: 'llama3.2', messages: [{ role: 'user', content: 'Hi there, llama' }] };
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const PROMPT = 200;

describe('item 6: an abort does not wait for a slow callback', { concurrency: true }, () => {
  test('an async onRetry sleeping 3 s: the abort rejects within 200 ms with its reason', () =>
    withFake(async (fake) => {
      const controller = new AbortController();
      const reason = new Error('the user pressed stop');
      let called = false;
      const call = chat(hello, {
        host: fake.url,
        signal: controller.signal,
        headers: behaviourHeader(statusReply(503)),
        retry: {
          onRetry: async () => {
            called = true;
            await sleep(3000);
          },
        },
      });
      while (!called) await sleep(10);
      await sleep(100);
      const abortedAt = performance.now();
      controller.abort(reason);
      await assert.rejects(call, (error) => error === reason);
      const ms = performance.now() - abortedAt;
      assert.ok(ms < PROMPT, `rejected ${Math.round(ms)} ms after the abort`);
      assert.equal(fake.requests.length, 1);
    }));

  test('an onRetry whose promise rejects after the abort changes nothing and is not left unhandled', () =>
    withFake(async (fake) => {
      const controller = new AbortController();
      const reason = new Error('stop');
      const call = chat(hello, {
        host: fake.url,
        signal: controller.signal,
        headers: behaviourHeader(statusReply(503)),
        retry: {
          onRetry: async () => {
            controller.abort(reason);
            await sleep(50);
            throw new Error('the callback failed later');
          },
        },
      });
      await assert.rejects(call, (error) => error === reason);
      await sleep(150);
    }));

  test('an async onProgress sleeping 3 s: the abort rejects within 200 ms with its reason', () =>
    withFake(async (fake) => {
      const controller = new AbortController();
      const reason = new Error('the user pressed stop');
      let events = 0;
      const call = pullModel(
        { model: 'tinyllama' },
        {
          host: fake.url,
          signal: controller.signal,
          onProgress: async () => {
            events++;
            await sleep(3000);
          },
        },
      );
      while (events === 0) await sleep(10);
      await sleep(100);
      const abortedAt = performance.now();
      controller.abort(reason);
      await assert.rejects(call, (error) => error === reason);
      const ms = performance.now() - abortedAt;
      assert.ok(ms < PROMPT, `rejected ${Math.round(ms)} ms after the abort`);
      assert.equal(events, 1);
    }));

  test('totalTimeout running out during a slow onProgress: total-timeout at once', () =>
    withFake(async (fake) => {
      const started = performance.now();
      await assert.rejects(
        pullModel({ model: 'tinyllama' }, { host: fake.url, totalTimeout: 500, onProgress: () => sleep(3000) }),
        // The first event's callback was still running: one chunk had been handed on.
        failsWith('total-timeout', (error) => assert.match(error.message, /It ran out after 1 chunk\(s\)/)),
      );
      const ms = performance.now() - started;
      assert.ok(ms >= 450 && ms < 500 + TIMER_SLACK, `settled after ${Math.round(ms)} ms`);
    }));
});

describe('item 7: no process warning for any number of calls sharing a signal', () => {
  /** Runs `body`, then reports every process warning emitted meanwhile. */
  async function warningsDuring(body: () => Promise<void>): Promise<string[]> {
    const seen: string[] = [];
    const listener = (warning: Error): void => void seen.push(`${warning.name}: ${warning.message}`);
    process.on('warning', listener);
    try {
      await body();
      // Warnings are emitted on a later tick.
      await sleep(20);
    } finally {
      process.off('warning', listener);
    }
    return seen;
  }

  for (const concurrency of [16, 64]) {
    test(`embed of 200 inputs in batches of 1 at concurrency ${concurrency}, no signal: no warning`, () =>
      withFake(async (fake) => {
        const input = Array.from({ length: 200 }, (_, i) => `text ${i}`);
        const warnings = await warningsDuring(async () => {
          const reply = await embed(
            { model: 'nomic-embed-text', input },
            { host: fake.url, batchSize: 1, concurrency },
          );
          assert.equal(reply.embeddings.length, 200);
        });
        assert.deepEqual(warnings, []);
      }));
  }

  test("the same with the caller's signal: no warning, and no listener left on it", () =>
    withFake(async (fake) => {
      const controller = new AbortController();
      const input = Array.from({ length: 100 }, (_, i) => `text ${i}`);
      const warnings = await warningsDuring(async () => {
        await embed(
          { model: 'nomic-embed-text', input },
          { host: fake.url, batchSize: 1, concurrency: 32, signal: controller.signal },
        );
      });
      assert.deepEqual(warnings, []);
      assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
    }));

  test('100 concurrent chat() calls sharing one signal: no warning, at most one listener while they run', () =>
    withFake(async (fake) => {
      const controller = new AbortController();
      let most = 0;
      const warnings = await warningsDuring(async () => {
        const calls = Array.from({ length: 100 }, () =>
          chat(hello, { host: fake.url, signal: controller.signal, headers: behaviourHeader({ chunkDelayMs: 20 }) }),
        );
        const watch = setInterval(() => {
          most = Math.max(most, getEventListeners(controller.signal, 'abort').length);
        }, 5);
        try {
          await Promise.all(calls);
        } finally {
          clearInterval(watch);
        }
      });
      assert.deepEqual(warnings, []);
      assert.ok(most <= 1, `${most} listeners on the shared signal`);
      assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
    }));
});
