// The read timeout's timer on its own: a plain ReadableStream stands in for the network, read the
// way the body readers read it (begin, read, end).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { idleTimer } from '../lib/internal/idle.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A source whose bytes the test pushes by hand, read under an IdleTimer that cancels it. */
function watched(ms: number): {
  read: () => Promise<ReadableStreamReadResult<Uint8Array>>;
  push: (text: string) => void;
  idle: ReturnType<typeof idleTimer>;
  fired: () => number;
} {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const reader = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
  }).getReader();
  let fired = 0;
  const idle = idleTimer(ms, () => {
    fired++;
    void reader.cancel();
  });
  const read = async (): Promise<ReadableStreamReadResult<Uint8Array>> => {
    idle.begin();
    try {
      return await reader.read();
    } finally {
      idle.end();
    }
  };
  return { read, push: (text) => controller.enqueue(new TextEncoder().encode(text)), idle, fired: () => fired };
}

test('a read that waits longer than the limit is ended by onIdle, once, after the limit', async () => {
  const { read, idle, fired } = watched(100);
  const started = performance.now();
  const result = await read();
  assert.equal(result.done, true);
  assert.equal(idle.fired, true);
  assert.ok(performance.now() - started >= 95);
  assert.equal(fired(), 1);
  idle.dispose();
});

test('bytes arriving within the limit keep it from firing, however long the whole stream takes', async () => {
  const { read, push, idle, fired } = watched(150);
  for (let i = 0; i < 8; i++) {
    setTimeout(() => push(`chunk ${i}`), 80);
    const { value } = await read();
    assert.equal(new TextDecoder().decode(value), `chunk ${i}`);
  }
  assert.equal(fired(), 0);
  idle.dispose();
});

test('time the consumer spends between reads is not counted as silence', async () => {
  const { read, push, idle, fired } = watched(100);
  push('a');
  assert.equal((await read()).done, false);
  await sleep(300);
  push('b');
  assert.equal(new TextDecoder().decode((await read()).value), 'b');
  // A read that began late is timed from its own start: 80 ms in, it has not run out.
  setTimeout(() => push('c'), 80);
  assert.equal(new TextDecoder().decode((await read()).value), 'c');
  assert.equal(fired(), 0);
  idle.dispose();
});

test('one timer for many reads: it fires at most once per limit while reads keep coming', async () => {
  let timers = 0;
  const original = globalThis.setTimeout;
  globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
    timers++;
    return original(...args);
  }) as typeof setTimeout;
  try {
    const { read, push, idle } = watched(10_000);
    for (let i = 0; i < 1000; i++) {
      push('x');
      await read();
    }
    idle.dispose();
  } finally {
    globalThis.setTimeout = original;
  }
  assert.equal(timers, 1);
});

test('dispose clears the timer: nothing fires after the body is done with', async () => {
  const { read, push, idle, fired } = watched(50);
  push('a');
  await read();
  idle.dispose();
  await sleep(120);
  assert.equal(fired(), 0);
});
