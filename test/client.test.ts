// createClient: defaults under each call's own options, and nothing else kept.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as library from '../lib/index.ts';
import { createClient, type RetryInfo } from '../lib/index.ts';
import { startFakeOllama, statusReply } from './support/fake-ollama.ts';
import { withFake } from './support/with-fake.ts';

const hello = { model: 'llama3.2', messages: [{ role: 'user' as const, content: 'Hi' }] };

test('createClient({ host, headers }): every kind of call reaches that host with those headers', () =>
  withFake(async (fake) => {
    const client = createClient({ host: fake.url, headers: { 'x-team': 'search', 'x-env': 'prod' } });
    await client.chat(hello);
    for await (const chunk of client.chatStream(hello)) assert.equal(typeof chunk.done, 'boolean');
    await client.listModels();
    await client.embed({ model: 'nomic-embed-text', input: ['a', 'b'] });
    assert.equal(await client.isRunning(), true);
    assert.deepEqual(
      fake.requests.map((r) => r.path),
      ['/api/chat', '/api/chat', '/api/tags', '/api/embed', '/'],
    );
    for (const request of fake.requests) {
      assert.equal(request.headers['x-team'], 'search', request.path);
      assert.equal(request.headers['x-env'], 'prod', request.path);
    }
  }));

test("per-call options override the defaults; headers merge name by name, the call's winning", async () => {
  const [first, second] = await Promise.all([startFakeOllama(), startFakeOllama()]);
  try {
    const client = createClient({ host: first.url, headers: { 'x-team': 'search', 'x-env': 'prod' } });
    await client.listModels({ host: second.url, headers: { 'X-Env': 'test' } });
    await client.listModels();
    assert.equal(first.requests.length, 1);
    assert.equal(second.requests.length, 1);
    assert.equal(second.requests[0]?.headers['x-team'], 'search');
    assert.equal(second.requests[0]?.headers['x-env'], 'test');
    assert.equal(first.requests[0]?.headers['x-env'], 'prod', 'a call does not change the client');
  } finally {
    await Promise.all([first.close(), second.close()]);
  }
});

test("a retry object of a call is merged over the client's retry object", () =>
  withFake(async (fake) => {
    fake.script(statusReply(503), statusReply(503), {});
    const waits: RetryInfo[] = [];
    const client = createClient({ host: fake.url, retry: { retries: 2, baseDelay: 40, maxDelay: 80 } });
    await client.chat(hello, { retry: { onRetry: (info) => void waits.push(info) } });
    assert.equal(fake.requests.length, 3);
    assert.deepEqual(
      waits.map((w) => w.attemptNumber),
      [1, 2],
    );
    for (const wait of waits)
      assert.ok(wait.delay >= 20 && wait.delay <= 80, `delay ${wait.delay} follows the client's baseDelay`);

    fake.script(statusReply(503), {});
    await assert.rejects(client.chat(hello, { retry: false }), { status: 503 });
  }));

test('createClient() with no argument is a client for OLLAMA_HOST, read at each call', () =>
  withFake(async (fake) => {
    const saved = process.env.OLLAMA_HOST;
    try {
      const client = createClient();
      process.env.OLLAMA_HOST = fake.url;
      assert.deepEqual(await client.version(), { version: '0.12.0' });
      assert.equal(fake.requests.length, 1);
    } finally {
      if (saved === undefined) delete process.env.OLLAMA_HOST;
      else process.env.OLLAMA_HOST = saved;
    }
  }));

test('the client has every call of the library, and bad defaults fail when it is created', () => {
  // The web calls go to ollama.com whatever the client's host is, so they are not the client's.
  const utilities = new Set([
    'createClient',
    'resolveHost',
    'isOllamaError',
    'readNdjson',
    'retry',
    'backoff',
    'webSearch',
    'webFetch',
  ]);
  const calls = Object.entries(library)
    .filter(([name, value]) => typeof value === 'function' && !utilities.has(name) && !/^[A-Z]/.test(name))
    .map(([name]) => name)
    .sort();
  assert.deepEqual(Object.keys(createClient()).sort(), calls);
  assert.ok(calls.includes('pullModel') && calls.includes('chat'));

  assert.throws(() => createClient({ readTimeout: -1 }), RangeError);
  assert.throws(() => createClient({ host: 'ftp://example.com' }), TypeError);
  assert.throws(() => createClient({ signal: AbortSignal.timeout(1000) } as never), /signal/);
  assert.throws(() => createClient('http://localhost' as never), TypeError);
});

test('changing the defaults object after createClient does not change the client', () =>
  withFake(async (fake) => {
    const defaults = { host: fake.url, headers: { 'x-team': 'search' } as Record<string, string> };
    const client = createClient(defaults);
    defaults.host = 'http://127.0.0.1:1';
    defaults.headers['x-team'] = 'other';
    await client.listModels();
    assert.equal(fake.requests[0]?.headers['x-team'], 'search');
  }));

test('every promise-returning call rejects on bad arguments instead of throwing where it is called', async () => {
  const generators = new Set(['chatStream', 'generateStream']);
  for (const [name, call] of Object.entries(createClient())) {
    if (generators.has(name)) continue;
    let result: unknown;
    assert.doesNotThrow(() => {
      result = (call as (...args: unknown[]) => unknown)(null, 'not options');
    }, name);
    assert.ok(result instanceof Promise, name);
    await assert.rejects(result as Promise<unknown>, TypeError, name);
  }
});
