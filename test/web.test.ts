// webSearch and webFetch (lib/web.ts) against the stand-in's copy of ollama.com's web API. The
// default host is checked through a `fetch` that sends what was meant for https://ollama.com to
// the stand-in instead, so nothing beyond loopback is contacted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isOllamaError } from '../lib/index.ts';
import { Ollama } from '../lib/compat/index.ts';
import { webFetch, webSearch } from '../lib/tools/index.ts';
import { behaviourHeader } from './support/fake-ollama.ts';
import { withFake } from './support/with-fake.ts';

const KEY = 'test-key-0123456789';

/** A fetch that sends requests for https://ollama.com to `base` instead, noting what it was asked. */
function toStandIn(base: string, asked: string[]) {
  return (input: string, init: RequestInit): Promise<Response> => {
    asked.push(input);
    return fetch(input.replace(/^https:\/\/ollama\.com(:443)?/, base), init);
  };
}

async function withEnvKey<T>(value: string | undefined, body: () => Promise<T>): Promise<T> {
  const saved = process.env.OLLAMA_API_KEY;
  if (value === undefined) delete process.env.OLLAMA_API_KEY;
  else process.env.OLLAMA_API_KEY = value;
  try {
    return await body();
  } finally {
    if (saved === undefined) delete process.env.OLLAMA_API_KEY;
    else process.env.OLLAMA_API_KEY = saved;
  }
}

test('webSearch: POSTs query and max_results with the key, and answers the typed results', async () => {
  await withFake(async (fake) => {
    const answer = await webSearch({ query: 'llama facts', max_results: 3 }, { host: fake.url, apiKey: KEY });
    assert.equal(answer.results.length, 3);
    assert.deepEqual(answer.results[0], {
      title: 'Result 1 for llama facts',
      url: 'https://example.com/1?q=llama%20facts',
      content: 'What page 1 says about llama facts. 🦙',
    });
    const [sent] = fake.requests;
    assert.equal(sent?.method, 'POST');
    assert.equal(sent?.path, '/api/web_search');
    assert.deepEqual(sent?.body, { query: 'llama facts', max_results: 3 });
    assert.equal(sent?.headers.authorization, `Bearer ${KEY}`);
    assert.equal(sent?.headers['content-type'], 'application/json');
  });
});

test('webFetch: POSTs the url and answers title, content and links', async () => {
  await withFake(async (fake) => {
    const page = await webFetch({ url: 'https://ollama.com/blog' }, { host: fake.url, apiKey: KEY });
    assert.deepEqual(page, {
      title: 'The page at https://ollama.com/blog',
      content: 'The main text of https://ollama.com/blog. é 漢字 🦙',
      links: ['https://ollama.com/blog/about', 'https://example.com/'],
    });
    assert.deepEqual(fake.requests[0]?.body, { url: 'https://ollama.com/blog' });
    assert.equal(fake.requests[0]?.path, '/api/web_fetch');
  });
});

test('web calls go to https://ollama.com by default (not OLLAMA_HOST), with OLLAMA_API_KEY', async () => {
  await withFake(async (fake) => {
    const asked: string[] = [];
    const saved = process.env.OLLAMA_HOST;
    process.env.OLLAMA_HOST = 'http://127.0.0.1:9';
    try {
      await withEnvKey(KEY, async () => {
        await webSearch({ query: 'q' }, { fetch: toStandIn(fake.url, asked) });
        await webFetch({ url: 'https://example.com' }, { fetch: toStandIn(fake.url, asked) });
      });
    } finally {
      if (saved === undefined) delete process.env.OLLAMA_HOST;
      else process.env.OLLAMA_HOST = saved;
    }
    assert.deepEqual(asked, ['https://ollama.com:443/api/web_search', 'https://ollama.com:443/api/web_fetch']);
    for (const request of fake.requests) assert.equal(request.headers.authorization, `Bearer ${KEY}`);
    // Without max_results the server's default applies.
    assert.deepEqual(fake.requests[0]?.body, { query: 'q' });
  });
});

test('no key is a TypeError before any request; OLLAMA_API_KEY is not sent to another host', async () => {
  await withFake(async (fake) => {
    await withEnvKey(undefined, async () => {
      const asked: string[] = [];
      await assert.rejects(webSearch({ query: 'q' }, { fetch: toStandIn(fake.url, asked) }), (error) => {
        assert.ok(error instanceof TypeError);
        assert.match(error.message, /^webSearch: no API key for https:\/\/ollama\.com:443: set OLLAMA_API_KEY/);
        assert.match(error.message, /options\.apiKey/);
        return true;
      });
      assert.deepEqual(asked, []);
    });
    await withEnvKey(KEY, async () => {
      await assert.rejects(webFetch({ url: 'https://x.test' }, { host: fake.url }), (error) => {
        assert.ok(error instanceof TypeError);
        assert.match(error.message, /sent to https:\/\/ollama\.com only/);
        assert.doesNotMatch(error.message, new RegExp(KEY));
        return true;
      });
    });
    // An Authorization header of the caller's own counts as a key.
    await webSearch({ query: 'q' }, { host: fake.url, headers: { Authorization: `Bearer ${KEY}` } });
    assert.equal(fake.requests.length, 1);
  });
});

test('web calls: a refused key is an http error, a foreign answer a protocol error, silence a read timeout', async () => {
  await withFake(async (fake) => {
    fake.script({
      respond: { status: 401, headers: { 'content-type': 'application/json' }, body: '{"error":"unauthorized"}' },
    });
    await assert.rejects(webSearch({ query: 'q' }, { host: fake.url, apiKey: 'wrong' }), (error) => {
      assert.ok(isOllamaError(error));
      assert.equal(error.kind, 'http');
      assert.equal(error.status, 401);
      assert.match(error.message, /credentials or API key/);
      assert.doesNotMatch(error.message, /wrong/);
      return true;
    });
    fake.script({ respond: { status: 200, headers: { 'content-type': 'application/json' }, body: '{"hits":[]}' } });
    await assert.rejects(
      webSearch({ query: 'q' }, { host: fake.url, apiKey: KEY }),
      (error) => isOllamaError(error) && error.kind === 'protocol' && /no "results" field/.test(error.message),
    );
    await assert.rejects(
      webFetch(
        { url: 'https://x.test' },
        { host: fake.url, apiKey: KEY, readTimeout: 300, headers: behaviourHeader({ headersDelayMs: 5000 }) },
      ),
      (error) => isOllamaError(error) && error.kind === 'read-timeout',
    );
  });
});

test('web calls: the stand-in itself refuses a request without a key, so the tests above could fail', async () => {
  await withFake(async (fake) => {
    const response = await fetch(`${fake.url}/api/web_search`, { method: 'POST', body: '{"query":"q"}' });
    assert.equal(response.status, 401);
    // And it reads max_results only: ollama-js's maxResults is ignored (ollama-js PR #282).
    const ignored = await fetch(`${fake.url}/api/web_search`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}` },
      body: '{"query":"q","maxResults":2}',
    });
    assert.equal(((await ignored.json()) as { results: unknown[] }).results.length, 5);
  });
});

test('web calls: bad requests are refused before any request', async () => {
  await withFake(async (fake) => {
    const options = { host: fake.url, apiKey: KEY };
    await assert.rejects(webSearch({ query: '' }, options), TypeError);
    await assert.rejects(webSearch({ query: '  ' }, options), TypeError);
    await assert.rejects(webSearch(undefined as never, options), TypeError);
    await assert.rejects(webSearch({ query: 'q', max_results: 0 }, options), RangeError);
    await assert.rejects(webSearch({ query: 'q', max_results: 2.5 }, options), RangeError);
    await assert.rejects(webFetch({ url: '' }, options), TypeError);
    await assert.rejects(webFetch({} as never, options), TypeError);
    assert.equal(fake.requests.length, 0);
  });
});

test('webFetch: a page without links is answered without `links`, as ollama.com sends it; compat gives []', async () => {
  await withFake(async (fake) => {
    const bare = { title: 'Plain', content: 'No links here.' };
    const headers = behaviourHeader({
      respond: { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(bare) },
    });
    const page = await webFetch({ url: 'https://example.com/plain' }, { host: fake.url, apiKey: KEY, headers });
    assert.deepEqual(page, bare);
    const compat = new Ollama({ webHost: fake.url, apiKey: KEY });
    assert.deepEqual(await compat.webFetch({ url: 'https://example.com/plain' }, { headers }), { ...bare, links: [] });
    const linked = await compat.webFetch({ url: 'https://example.com/linked' });
    assert.equal(linked.links.length, 2, 'links that are there are kept');
  });
});
