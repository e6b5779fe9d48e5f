// Issue 12 item 9: Retry-After read strictly (delta-seconds, a fraction honoured as seconds, the
// three HTTP-date forms of RFC 9110), anything else ignored so that the backoff applies, and
// retry-after-ms honoured. On the old code `1.5`, `0.5`, `-5`, `5,5` and `2, 3` all meant a 0 ms
// wait (Date.parse read them as dates in 2001): the stand-in test below failed with delay 0.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { chat, type RetryInfo } from '../lib/index.ts';
import { httpDate, parseRetryAfter, retryAfterOf } from '../lib/internal/retry-after.ts';

const parseRetryAfterMs = (value: string): number | undefined => retryAfterOf(new Headers({ 'retry-after-ms': value }));
import { statusReply } from './support/fake-ollama.ts';
import { withFake } from './support/with-fake.ts';

const NOW = Date.UTC(1994, 10, 6, 8, 49, 0); // 37 s before the RFC's example date

describe('the parser', () => {
  const cases: Array<[string, number | undefined]> = [
    ['0', 0],
    ['120', 120_000],
    ['  7  ', 7000],
    ['1.5', 1500],
    ['0.5', 500],
    ['0.0001', 1],
    ['Sun, 06 Nov 1994 08:49:37 GMT', 37_000],
    ['Sunday, 06-Nov-94 08:49:37 GMT', 37_000],
    ['Sun Nov  6 08:49:37 1994', 37_000],
    ['Sun, 06 Nov 1994 08:48:00 GMT', 0], // in the past: retry now
    // 1*DIGIT: zeros in front, and more digits than fit, are still delta-seconds.
    ['00000000030', 30_000],
    ['10000000000', 10_000_000_000_000],
    ['9'.repeat(400), Number.MAX_SAFE_INTEGER],
    // Not delta-seconds and not an HTTP date: undefined, so the backoff applies.
    ['-5', undefined],
    ['+5', undefined],
    ['5,5', undefined],
    ['2, 3', undefined],
    ['1e3', undefined],
    ['.5', undefined],
    ['5.', undefined],
    ['0x10', undefined],
    ['Infinity', undefined],
    ['', undefined],
    ['soon', undefined],
    ['99999999999', 99_999_999_999_000], // eleven digits: a wait too long for any limit, not no wait
    ['2026-01-01T00:00:00Z', undefined],
    ['Sun, 6 Nov 1994 08:49:37 GMT', undefined], // two-digit day required
    ['Sun, 06 Nov 1994 08:49:37 UTC', undefined],
    ['sun, 06 nov 1994 08:49:37 gmt', undefined],
    ['Sun, 31 Feb 1994 08:49:37 GMT', undefined],
    ['Mon, 06 Nov 1994 08:49:37 GMT', undefined], // 6 Nov 1994 was a Sunday
    ['Sunday, 06-Nov-94 08:49:37 UTC', undefined],
    ['Sun Nov  6 08:49:37 1994 GMT', undefined],
    ['Sun, 06 Nov 1994 24:00:00 GMT', undefined],
    ['Sun Nov 6 08:49:37 1994', undefined], // asctime pads the day with a space
  ];
  for (const [value, expected] of cases) {
    test(`Retry-After ${JSON.stringify(value)} → ${expected === undefined ? 'undefined (backoff)' : `${expected} ms`}`, () => {
      assert.equal(parseRetryAfter(value, NOW), expected);
    });
  }

  test('RFC 850 two-digit years: more than 50 years ahead means the past century', () => {
    const now = Date.UTC(2026, 0, 1);
    assert.equal(new Date(httpDate('Friday, 01-Jan-27 00:00:00 GMT', now)!).getUTCFullYear(), 2027);
    assert.equal(new Date(httpDate('Friday, 01-Jan-99 00:00:00 GMT', now)!).getUTCFullYear(), 1999);
  });

  test('retry-after-ms: milliseconds, decimals rounded up, preferred over Retry-After when valid', () => {
    assert.equal(parseRetryAfterMs('250'), 250);
    assert.equal(parseRetryAfterMs('0.2'), 1);
    assert.equal(parseRetryAfterMs('-1'), undefined);
    assert.equal(parseRetryAfterMs('1,5'), undefined);
    assert.equal(retryAfterOf(new Headers({ 'retry-after-ms': '250', 'retry-after': '9' })), 250);
    assert.equal(retryAfterOf(new Headers({ 'retry-after-ms': 'nope', 'retry-after': '9' })), 9000);
    assert.equal(retryAfterOf(new Headers({ 'retry-after': '5,5' })), undefined);
    assert.equal(retryAfterOf(new Headers()), undefined);
  });
});

const hello = { model: 'llama3.2', messages: [{ role: 'user' as const, content: 'Hi there, llama' }] };

describe('against the stand-in', { concurrency: true }, () => {
  for (const value of ['-5', '5,5', '2, 3', 'soon']) {
    test(`Retry-After ${JSON.stringify(value)} is ignored: the retry waits the backoff, not 0 ms`, () =>
      withFake(async (fake) => {
        fake.script(statusReply(429, value), {});
        const delays: number[] = [];
        const reply = await chat(hello, {
          host: fake.url,
          retry: { baseDelay: 400, onRetry: (info: RetryInfo) => void delays.push(info.delay) },
        });
        assert.equal(reply.done, true);
        assert.equal(fake.requests.length, 2);
        // Equal jitter over the upper half of 400 ms.
        assert.ok(delays[0]! >= 200 && delays[0]! <= 400, `waited ${delays[0]} ms`);
        const gap = fake.requests[1]!.receivedAt - fake.requests[0]!.receivedAt;
        assert.ok(gap >= 190, `the server saw the retry ${Math.round(gap)} ms later`);
      }));
  }

  for (const [value, wait] of [
    ['1.5', 1500],
    ['0.5', 500],
  ] as const) {
    test(`Retry-After ${value} is honoured as ${wait} ms`, () =>
      withFake(async (fake) => {
        fake.script(statusReply(503, value), {});
        const delays: number[] = [];
        await chat(hello, { host: fake.url, retry: { onRetry: (info: RetryInfo) => void delays.push(info.delay) } });
        assert.deepEqual(delays, [wait]);
        const gap = fake.requests[1]!.receivedAt - fake.requests[0]!.receivedAt;
        assert.ok(gap >= wait - 10, `the server saw the retry ${Math.round(gap)} ms later`);
      }));
  }

  test('retry-after-ms (OpenAI-compatible servers) is honoured, and wins over Retry-After', () =>
    withFake(async (fake) => {
      const busy = statusReply(429);
      busy.respond!.headers = { ...busy.respond!.headers, 'retry-after-ms': '300', 'retry-after': '30' };
      fake.script(busy, {});
      const delays: number[] = [];
      await chat(hello, { host: fake.url, retry: { onRetry: (info: RetryInfo) => void delays.push(info.delay) } });
      assert.deepEqual(delays, [300]);
    }));

  test('an RFC 850 date is obeyed like an IMF-fixdate', () =>
    withFake(async (fake) => {
      const at = new Date(Date.now() + 2000);
      const day = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'][at.getUTCDay()];
      const [, dd, mon, yyyy, time] = at.toUTCString().split(' ');
      fake.script(statusReply(429, `${day}, ${dd}-${mon}-${yyyy!.slice(2)} ${time} GMT`), {});
      const delays: number[] = [];
      await chat(hello, { host: fake.url, retry: { onRetry: (info: RetryInfo) => void delays.push(info.delay) } });
      assert.ok(delays[0]! > 900 && delays[0]! <= 2000, `waited ${delays[0]} ms`);
    }));
});
