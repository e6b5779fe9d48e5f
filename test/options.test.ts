// Timeouts and retry options are checked at the call, before anything is sent.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { chat, chatStream, embed, generate, generateStream, retry, type CallOptions } from '../lib/index.ts';
import { startFakeOllama, type FakeOllama } from './support/fake-ollama.ts';

let fake: FakeOllama;
before(async () => {
  fake = await startFakeOllama();
});
after(() => fake.close());

const hello = { model: 'llama3.2', messages: [{ role: 'user' as const, content: 'hi' }] };

describe('invalid values throw a RangeError before any request', () => {
  const invalid: Array<[string, CallOptions]> = [];
  for (const name of ['connectTimeout', 'readTimeout', 'totalTimeout'] as const) {
    for (const value of [-1, Number.NaN, 2 ** 31, -Infinity, '5000' as unknown as number]) {
      invalid.push([`${name}: ${String(value)}${typeof value === 'string' ? ' (a string)' : ''}`, { [name]: value }]);
    }
  }
  invalid.push(
    ['retry: -1', { retry: -1 }],
    ['retry: 1.5', { retry: 1.5 }],
    ['retry.retries: NaN', { retry: { retries: Number.NaN } }],
    ['retry.baseDelay: -5', { retry: { baseDelay: -5 } }],
    ['retry.maxDelay: 2^31', { retry: { maxDelay: 2 ** 31 } }],
    ['retry.maxRetryAfter: Infinity', { retry: { maxRetryAfter: Infinity } }],
    ['retry.statusCodes: [700]', { retry: { statusCodes: [700] } }],
  );
  for (const [name, options] of invalid) {
    test(name, async () => {
      const before = fake.requests.length;
      const all = { ...options, host: fake.url };
      await assert.rejects(chat(hello, all), RangeError);
      await assert.rejects(generate({ model: 'llama3.2', prompt: 'x' }, all), RangeError);
      await assert.rejects(embed({ model: 'nomic-embed-text', input: 'x' }, all), RangeError);
      // The streaming calls check when called, not when iterated.
      assert.throws(() => chatStream(hello, all), RangeError);
      assert.throws(() => generateStream({ model: 'llama3.2', prompt: 'x' }, all), RangeError);
      assert.equal(fake.requests.length, before);
    });
  }

  test('the message names the option, the range, and how to switch it off', async () => {
    await assert.rejects(chat(hello, { host: fake.url, readTimeout: -1 }), {
      name: 'RangeError',
      message:
        'options.readTimeout must be a number of milliseconds from 0 to 2147483647 (0 or Infinity turns it off), got number -1',
    });
  });

  test('a retry of the wrong shape, or an onRetry that is no function, is a TypeError', async () => {
    await assert.rejects(chat(hello, { host: fake.url, retry: 'yes' as never }), TypeError);
    await assert.rejects(chat(hello, { host: fake.url, retry: { onRetry: 5 as never } }), TypeError);
    // A misspelt field would silently be the default.
    await assert.rejects(chat(hello, { host: fake.url, retry: { retires: 5 } as never }), {
      name: 'TypeError',
      message:
        'options.retry has no field "retires": its fields are retries, baseDelay, maxDelay, maxRetryAfter, statusCodes, onRetry',
    });
    await assert.rejects(
      retry(() => 1, { signal: {} as never }),
      {
        name: 'TypeError',
        message: 'retry: options.signal must be an AbortSignal',
      },
    );
    assert.equal(fake.requests.length, 0);
  });
});

describe('request values that JSON or Ollama would silently change are refused before sending', () => {
  test('a number that is not finite, at the top or in options: JSON would send null, the default', async () => {
    for (const [request, field] of [
      [{ ...hello, options: { temperature: Number.NaN } }, 'request.options.temperature is NaN'],
      [{ ...hello, options: { num_ctx: Infinity } }, 'request.options.num_ctx is Infinity'],
      [{ model: 'nomic-embed-text', input: 'x', dimensions: Number.NaN }, 'request.dimensions is NaN'],
    ] as const) {
      const call = 'messages' in request ? chat(request, { host: fake.url }) : embed(request, { host: fake.url });
      await assert.rejects(call, (error: unknown) => {
        assert.ok(error instanceof TypeError);
        assert.ok(error.message.includes(field), error.message);
        assert.match(error.message, /sent as null\)\. Nothing was sent\.$/);
        return true;
      });
    }
    assert.equal(fake.requests.length, 0);
  });

  test('keep_alive: a number of seconds, a Go duration or null (the default); "5" (no unit), "forever" are refused', async () => {
    for (const keep_alive of ['5', '-1', 'forever', ' 5m', {}, true]) {
      await assert.rejects(chat({ ...hello, keep_alive } as never, { host: fake.url }), (error: unknown) => {
        assert.ok(error instanceof TypeError);
        assert.match(
          error.message,
          /^chat: request\.keep_alive must be a number of seconds or a duration such as "5m"/,
        );
        return true;
      });
    }
    assert.equal(fake.requests.length, 0);
    for (const keep_alive of [300, -1, 0, 1.5, '5m', '1h30m', '-1m', '0', '300ms', '.5s', null]) {
      assert.equal((await chat({ ...hello, keep_alive }, { host: fake.url })).done, true, String(keep_alive));
      assert.equal((fake.requests.at(-1)!.body as { keep_alive?: unknown }).keep_alive, keep_alive);
    }
  });
});

test('0 and Infinity are valid and switch a timeout off', async () => {
  for (const value of [0, Infinity]) {
    const reply = await chat(hello, { host: fake.url, connectTimeout: value, readTimeout: value, totalTimeout: value });
    assert.equal(reply.done, true);
  }
});
