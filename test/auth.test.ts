// Credentials in the host, apiKey, and OLLAMA_API_KEY: what reaches the server, and what never
// appears in an error.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listModels, showModel, type FetchLike } from '../lib/index.ts';
import { failsWith } from './support/assertions.ts';
import { startFakeOllama } from './support/fake-ollama.ts';
import { withFake } from './support/with-fake.ts';

const basic = (pair: string): string => `Basic ${Buffer.from(pair).toString('base64')}`;

/** Sets environment variables for the length of `body`, then puts them back. */
async function withEnv(vars: Record<string, string>, body: () => Promise<void>): Promise<void> {
  const saved = Object.keys(vars).map((name) => [name, process.env[name]] as const);
  Object.assign(process.env, vars);
  try {
    await body();
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

test('user:password in the host becomes a Basic header, and an error for that host names neither', () =>
  withFake(async (fake) => {
    const host = fake.url.replace('http://', 'http://ada:s%C3%A9cr%40t@') + '/';
    await listModels({ host });
    assert.equal(fake.requests[0]?.headers.authorization, basic('ada:sécr@t'));

    await assert.rejects(
      showModel({ model: 'no-such-model' }, { host }),
      failsWith('http', (error) => {
        assert.equal(error.status, 404);
        for (const text of [error.message, error.url ?? '', error.stack ?? '']) {
          assert.doesNotMatch(text, /ada|s%C3%A9cr|sécr/, text);
        }
      }),
    );
  }));

test('a refused connection to a host with credentials names neither the user nor the password', async () => {
  const fake = await startFakeOllama();
  const port = fake.port;
  await fake.close();
  await assert.rejects(
    listModels({ host: `http://ada:hunter2@127.0.0.1:${port}`, retry: false }),
    failsWith('connection', (error) => {
      assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
      assert.doesNotMatch(`${error.message} ${error.url ?? ''}`, /ada|hunter2/);
    }),
  );
});

test('apiKey is sent as a Bearer token and takes the place of host credentials', () =>
  withFake(async (fake) => {
    await listModels({ host: fake.url, apiKey: 'key-123' });
    await listModels({ host: fake.url.replace('http://', 'http://ada:pw@'), apiKey: 'key-456' });
    assert.deepEqual(
      fake.requests.map((r) => r.headers.authorization),
      ['Bearer key-123', 'Bearer key-456'],
    );
  }));

test('an Authorization header of the caller wins over apiKey', () =>
  withFake(async (fake) => {
    await listModels({ host: fake.url, apiKey: 'key-123', headers: { authorization: 'Token mine' } });
    assert.equal(fake.requests[0]?.headers.authorization, 'Token mine');
  }));

test('a malformed apiKey is refused before anything is sent', () =>
  withFake(async (fake) => {
    for (const apiKey of ['', '  ', 'a\nb', 42]) {
      await assert.rejects(listModels({ host: fake.url, apiKey: apiKey as string }), TypeError);
    }
    assert.equal(fake.requests.length, 0);
  }));

test('OLLAMA_API_KEY is not sent to a loopback host', () =>
  withFake(async (fake) => {
    await withEnv({ OLLAMA_API_KEY: 'env-secret' }, async () => {
      await listModels({ host: fake.url });
      await listModels({ host: fake.url.replace('127.0.0.1', 'localhost') });
    });
    assert.equal(fake.requests.length, 2);
    for (const request of fake.requests) assert.equal(request.headers.authorization, undefined);
  }));

test('OLLAMA_API_KEY is sent to https://ollama.com (a fetch option carries the request to the stand-in instead)', () =>
  withFake(async (fake) => {
    const urls: string[] = [];
    // Only loopback is ever contacted: the request meant for ollama.com is redirected here.
    const redirect: FetchLike = (url, init) => {
      urls.push(url);
      return fetch(url.replace('https://ollama.com:443', fake.url), init);
    };
    await withEnv({ OLLAMA_API_KEY: ' env-secret ' }, async () => {
      await listModels({ host: 'ollama.com', fetch: redirect });
      await listModels({ host: 'https://ollama.com', fetch: redirect, apiKey: 'explicit' });
    });
    assert.deepEqual(urls, ['https://ollama.com:443/api/tags', 'https://ollama.com:443/api/tags']);
    assert.deepEqual(
      fake.requests.map((r) => r.headers.authorization),
      ['Bearer env-secret', 'Bearer explicit'],
    );
  }));
