// Timeouts and retry options are checked at the call, before anything is sent.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { chat, chatStream, embed, generate, generateStream, type CallOptions } from '../lib/index.ts';
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
    assert.equal(fake.requests.length, 0);
  });
});

test('0 and Infinity are valid and switch a timeout off', async () => {
  for (const value of [0, Infinity]) {
    const reply = await chat(hello, { host: fake.url, connectTimeout: value, readTimeout: value, totalTimeout: value });
    assert.equal(reply.done, true);
  }
});
