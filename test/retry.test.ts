// The retry primitive on its own: no HTTP, just an async function that fails.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backoff, retry, type RetryInfo } from '../lib/index.ts';

const fail = (label: string) => () => Promise.reject(new Error(label));
const timers = (): number => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;

describe('retry()', () => {
  test('counts attempts from 1 and retries left down to 0, then rejects with the last error', async () => {
    const seen: Array<[number, number]> = [];
    await assert.rejects(
      retry(
        ({ attemptNumber, retriesLeft }) => {
          seen.push([attemptNumber, retriesLeft]);
          return Promise.reject(new Error(`attempt ${attemptNumber}`));
        },
        { retries: 3, baseDelay: 1 },
      ),
      { message: 'attempt 4' },
    );
    assert.deepEqual(seen, [
      [1, 3],
      [2, 2],
      [3, 1],
      [4, 0],
    ]);
  });

  test('returns the first success, and a plain value works as well as a promise', async () => {
    let calls = 0;
    assert.equal(await retry(() => (++calls < 3 ? Promise.reject(new Error('no')) : 'yes'), { baseDelay: 1 }), 'yes');
    assert.equal(calls, 3);
  });

  test('shouldRetry: false stops, a number is the exact wait, a throw replaces the error', async () => {
    let calls = 0;
    await assert.rejects(
      retry(
        () => {
          calls++;
          return Promise.reject(new Error('fatal'));
        },
        { shouldRetry: () => false },
      ),
      { message: 'fatal' },
    );
    assert.equal(calls, 1);

    const waits: number[] = [];
    await assert.rejects(
      retry(fail('x'), { retries: 2, shouldRetry: () => 5, onRetry: (info) => void waits.push(info.delay) }),
    );
    assert.deepEqual(waits, [5, 5]);

    await assert.rejects(
      retry(fail('x'), {
        shouldRetry: () => {
          throw new Error('replaced');
        },
      }),
      { message: 'replaced' },
    );
  });

  test('onRetry gets the failed attempt, the retries left, the wait and the error; shouldRetry sees the proposed wait', async () => {
    const infos: RetryInfo[] = [];
    const proposed: number[] = [];
    await assert.rejects(
      retry(fail('boom'), {
        retries: 2,
        baseDelay: 10,
        random: () => 0.5,
        shouldRetry: (_error, info) => {
          proposed.push(info.delay);
          return true;
        },
        onRetry: (info) => void infos.push(info),
      }),
    );
    assert.deepEqual(proposed, [8, 15]);
    assert.deepEqual(
      infos.map(({ attemptNumber, retriesLeft, delay }) => [attemptNumber, retriesLeft, delay]),
      [
        [1, 2, 8],
        [2, 1, 15],
      ],
    );
    assert.ok(infos.every((info) => (info.error as Error).message === 'boom'));
  });

  test('an abort during a wait rejects at once with the reason, and leaves no timer behind', async () => {
    const controller = new AbortController();
    const reason = new Error('stop');
    const before = timers();
    let calls = 0;
    const running = retry(
      () => {
        calls++;
        return Promise.reject(new Error('x'));
      },
      {
        baseDelay: 60_000,
        signal: controller.signal,
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(timers(), before + 1, 'waiting on one timer');
    const started = performance.now();
    controller.abort(reason);
    await assert.rejects(running, (error) => error === reason);
    assert.ok(performance.now() - started < 100);
    assert.equal(timers(), before, "the wait's timer is cleared");
    assert.equal(calls, 1);
  });

  test('an already aborted signal: no attempt at all', async () => {
    let calls = 0;
    const reason = new Error('stop');
    await assert.rejects(
      retry(() => ++calls, { signal: AbortSignal.abort(reason) }),
      (error) => error === reason,
    );
    assert.equal(calls, 0);
  });

  test('invalid options are RangeErrors', async () => {
    await assert.rejects(
      retry(() => 1, { retries: -1 }),
      RangeError,
    );
    await assert.rejects(
      retry(() => 1, { baseDelay: Number.NaN }),
      RangeError,
    );
    await assert.rejects(retry(fail('x'), { shouldRetry: () => -3 }), RangeError);
  });
});

describe('backoff()', () => {
  test('doubles from baseDelay, spread over the upper half, never above maxDelay', () => {
    for (let attempt = 1; attempt <= 40; attempt++) {
      const ceiling = Math.min(8000, 1000 * 2 ** (attempt - 1));
      assert.equal(
        backoff(attempt, 1000, 8000, () => 0),
        ceiling / 2,
      );
      assert.equal(
        backoff(attempt, 1000, 8000, () => 0.999999),
        ceiling,
      );
      const random = backoff(attempt, 1000, 8000);
      assert.ok(random >= ceiling / 2 && random <= 8000);
    }
  });
});
