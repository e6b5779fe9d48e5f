// The idle watch on a body, on its own: a plain ReadableStream stands in for the network.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { watchIdle } from '../lib/internal/idle.ts';

/** A source whose bytes the test pushes by hand. */
function source(): { stream: ReadableStream<Uint8Array>; push: (text: string) => void; cancelled: () => unknown } {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let reason: unknown = 'not cancelled';
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    cancel(why) {
      reason = why;
    },
  });
  return { stream, push: (text) => controller.enqueue(new TextEncoder().encode(text)), cancelled: () => reason };
}

test('a read that waits longer than the limit rejects with what onIdle returns', async () => {
  const { stream } = source();
  const idle = new Error('silent');
  let calls = 0;
  const reader = watchIdle(stream, 100, () => {
    calls++;
    return idle;
  }).getReader();
  const started = performance.now();
  await assert.rejects(reader.read(), (error) => error === idle);
  assert.ok(performance.now() - started >= 95);
  assert.equal(calls, 1);
});

test('bytes arriving within the limit re-arm it, however long the whole stream takes', async () => {
  const { stream, push } = source();
  const reader = watchIdle(stream, 150, () => new Error('silent')).getReader();
  for (let i = 0; i < 6; i++) {
    setTimeout(() => push(`chunk ${i}`), 80);
    const { value } = await reader.read();
    assert.equal(new TextDecoder().decode(value), `chunk ${i}`);
  }
});

test('time the consumer spends between reads is not counted as silence', async () => {
  const { stream, push } = source();
  const reader = watchIdle(stream, 100, () => new Error('silent')).getReader();
  push('a');
  assert.equal((await reader.read()).done, false);
  await new Promise((resolve) => setTimeout(resolve, 300));
  push('b');
  assert.equal(new TextDecoder().decode((await reader.read()).value), 'b');
});

test('cancelling while a read waits: the read ends, the source is cancelled, nothing throws later', async () => {
  const { stream, cancelled } = source();
  const reader = watchIdle(stream, 5000, () => new Error('silent')).getReader();
  const pending = reader.read();
  await new Promise((resolve) => setTimeout(resolve, 10));
  await reader.cancel('leaving');
  assert.deepEqual(await pending, { done: true, value: undefined });
  assert.equal(cancelled(), 'leaving');
  // An error thrown after the cancel would surface as an uncaught exception in this process.
  await new Promise((resolve) => setTimeout(resolve, 50));
});

test('an error of the source passes through unchanged', async () => {
  const failing = new ReadableStream<Uint8Array>({
    pull(controller) {
      controller.error(new TypeError('terminated'));
    },
  });
  const reader = watchIdle(failing, 1000, () => new Error('silent')).getReader();
  await assert.rejects(reader.read(), { name: 'TypeError', message: 'terminated' });
});
