// The differential test of ollama-fetch/compat: one program of calls, run once with ollama-js
// 0.6.4 and once with the compat class, each against a stand-in of its own (the program changes
// the models), on well-formed traffic. The results must be equal, and so must the requests the
// stand-ins recorded, but for the differences listed here, each asserted on its own:
//   - the library always streams on the wire (`stream: true`), also for a call answered as one
//     object, so its read timeout keeps meaning "the server went silent";
//   - pull, push and delete name the model as `model` as well as the older `name`;
//   - webSearch sends `max_results`, the name the server reads, where ollama-js sends `maxResults`
//     (which the server ignores: ollama-js PR #282).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Ollama as OllamaJs } from 'ollama';
import { Ollama } from '../lib/compat/index.ts';
import { type FakeOllama, type RecordedRequest, startFakeOllama } from './support/fake-ollama.ts';

const KEY = 'diff-test-key';

/** Both clients take a `fetch`: this one sends what was meant for https://ollama.com (the web
 * calls) to the stand-in, so nothing beyond loopback is contacted. */
function viaStandIn(fake: FakeOllama): typeof fetch {
  return ((input: string | URL | Request, init?: RequestInit) =>
    fetch(String(input).replace(/^https:\/\/ollama\.com(:443)?/, fake.url), init)) as typeof fetch;
}

/** The calls a program of ollama-js makes, written once against either client. */
interface Client {
  version(): Promise<unknown>;
  list(): Promise<unknown>;
  ps(): Promise<unknown>;
  show(request: object): Promise<unknown>;
  chat(request: object): Promise<unknown>;
  generate(request: object): Promise<unknown>;
  embed(request: object): Promise<unknown>;
  embeddings(request: object): Promise<unknown>;
  pull(request: object): Promise<unknown>;
  push(request: object): Promise<unknown>;
  create(request: object): Promise<unknown>;
  copy(request: object): Promise<unknown>;
  delete(request: object): Promise<unknown>;
  webSearch(request: object): Promise<unknown>;
  webFetch(request: object): Promise<unknown>;
}

const weather = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: { type: 'object', required: ['city'], properties: { city: { type: 'string' } } },
  },
};

/** Everything a stream yields, or the answer of a call that does not stream. */
async function settle(value: unknown): Promise<unknown> {
  if (typeof value === 'object' && value !== null && Symbol.asyncIterator in value) {
    const items: unknown[] = [];
    for await (const item of value as AsyncIterable<unknown>) items.push(item);
    return { streamed: items };
  }
  return value;
}

async function program(client: Client): Promise<Array<[string, unknown]>> {
  const hi = () => [{ role: 'user', content: 'Hi there, llama' }];
  const steps: Array<[string, () => Promise<unknown>]> = [
    ['version', () => client.version()],
    ['list', () => client.list()],
    ['ps', () => client.ps()],
    ['show', () => client.show({ model: 'llama3.2' })],
    ['chat', () => client.chat({ model: 'llama3.2', messages: hi() })],
    ['chat stream', () => client.chat({ model: 'llama3.2', messages: hi(), stream: true })],
    ['chat tools', () => client.chat({ model: 'llama3.2', messages: hi(), tools: [weather] })],
    ['chat tools stream', () => client.chat({ model: 'llama3.2', messages: hi(), tools: [weather], stream: true })],
    [
      'chat image',
      () =>
        client.chat({
          model: 'llama3.2',
          messages: [{ role: 'user', content: 'What is this?', images: [new Uint8Array([137, 80, 78, 71, 1, 2])] }],
        }),
    ],
    [
      'chat options',
      () =>
        client.chat({
          model: 'llama3.2',
          messages: hi(),
          options: { temperature: 0, num_ctx: 2048 },
          keep_alive: '5m',
        }),
    ],
    ['chat think', () => client.chat({ model: 'qwen3', messages: hi(), think: true })],
    ['generate', () => client.generate({ model: 'llama3.2', prompt: 'Why is the sky blue?' })],
    ['generate stream', () => client.generate({ model: 'llama3.2', prompt: 'Why?', stream: true })],
    ['generate think stream', () => client.generate({ model: 'qwen3', prompt: 'Why?', stream: true })],
    ['generate system', () => client.generate({ model: 'llama3.2', prompt: 'Hi', system: 'Be brief.' })],
    ['embed', () => client.embed({ model: 'nomic-embed-text', input: ['first text', 'second text'] })],
    ['embed one', () => client.embed({ model: 'nomic-embed-text', input: 'one text', dimensions: 4 })],
    ['embeddings', () => client.embeddings({ model: 'nomic-embed-text', prompt: 'legacy text' })],
    ['pull', () => client.pull({ model: 'llama3.2' })],
    ['pull stream', () => client.pull({ model: 'all-minilm', stream: true })],
    ['create', () => client.create({ model: 'terse', from: 'llama3.2', system: 'You are terse.' })],
    ['create stream', () => client.create({ model: 'terse2', from: 'llama3.2', stream: true })],
    ['push stream', () => client.push({ model: 'terse', stream: true })],
    ['push', () => client.push({ model: 'terse2' })],
    ['copy', () => client.copy({ source: 'terse', destination: 'terse-copy' })],
    ['delete', () => client.delete({ model: 'terse-copy' })],
    ['list after', () => client.list()],
    ['webSearch', () => client.webSearch({ query: 'llama facts', maxResults: 2 })],
    ['webFetch', () => client.webFetch({ url: 'https://example.com/llamas' })],
  ];
  const results: Array<[string, unknown]> = [];
  for (const [name, step] of steps) {
    try {
      results.push([name, await settle(await step())]);
    } catch (error) {
      results.push([name, { failed: String(error) }]);
    }
  }
  return results;
}

let official: FakeOllama;
let ours: FakeOllama;
let officialResults: Array<[string, unknown]>;
let ourResults: Array<[string, unknown]>;
before(async () => {
  official = await startFakeOllama();
  ours = await startFakeOllama();
  const saved = process.env.OLLAMA_API_KEY;
  process.env.OLLAMA_API_KEY = KEY; // both clients send it to ollama.com, and only there
  try {
    officialResults = await program(new OllamaJs({ host: official.url, fetch: viaStandIn(official) }) as Client);
    ourResults = await program(new Ollama({ host: ours.url, fetch: viaStandIn(ours) }) as unknown as Client);
  } finally {
    if (saved === undefined) delete process.env.OLLAMA_API_KEY;
    else process.env.OLLAMA_API_KEY = saved;
  }
});
after(async () => {
  await official.close();
  await ours.close();
});

const byName = (results: Array<[string, unknown]>): Map<string, unknown> => new Map(results);

test('differential: the program ran every call on both clients, none failed', () => {
  assert.equal(officialResults.length, 29);
  assert.deepEqual(
    ourResults.map(([name]) => name),
    officialResults.map(([name]) => name),
  );
  for (const [name, result] of [...officialResults, ...ourResults]) {
    assert.ok(
      !(typeof result === 'object' && result !== null && 'failed' in result),
      `${name}: ${JSON.stringify(result)}`,
    );
  }
  // The program did reach the interesting cases: streams, tool calls, thinking, progress.
  const theirs = byName(officialResults);
  assert.ok(((theirs.get('chat stream') as { streamed: unknown[] }).streamed.length ?? 0) > 3);
  assert.ok(JSON.stringify(theirs.get('chat tools')).includes('"tool_calls"'));
  assert.ok(JSON.stringify(theirs.get('chat think')).includes('"thinking"'));
  assert.ok(((theirs.get('pull stream') as { streamed: unknown[] }).streamed.length ?? 0) > 3);
});

test('differential: every result is the same, call by call', () => {
  const theirs = byName(officialResults);
  for (const [name, result] of ourResults) {
    if (name === 'webSearch') continue; // differs on purpose, see below
    assert.deepEqual(result, theirs.get(name), `${name} differs`);
  }
});

test('differential: webSearch honours maxResults, which ollama-js sends under a name the server ignores', () => {
  const theirs = byName(officialResults).get('webSearch') as { results: unknown[] };
  const mine = byName(ourResults).get('webSearch') as { results: unknown[] };
  assert.equal(theirs.results.length, 5, "ollama-js got the server's default");
  assert.equal(mine.results.length, 2, 'the compat class got what it asked for');
  assert.deepEqual(mine.results, theirs.results.slice(0, 2));
});

interface Seen {
  method: string;
  path: string;
  body: Record<string, unknown> | undefined;
}

function seen(request: RecordedRequest): Seen {
  return { method: request.method, path: request.path, body: request.body as Record<string, unknown> | undefined };
}

const STREAMING = new Set(['/api/chat', '/api/generate', '/api/pull', '/api/push', '/api/create']);
const NAMED = new Set(['/api/pull', '/api/push', '/api/delete']);

/** A request as ollama-js would have sent it: the listed differences taken back. */
function asOfficial(request: Seen): Seen {
  const body = request.body === undefined ? undefined : { ...request.body };
  if (body !== undefined && STREAMING.has(request.path)) delete body.stream;
  if (body !== undefined && NAMED.has(request.path)) delete body.model;
  if (body !== undefined && request.path === '/api/web_search' && 'max_results' in body) {
    body.maxResults = body.max_results;
    delete body.max_results;
  }
  return { ...request, body };
}

test('differential: the requests are the same, but for the listed differences', () => {
  const theirs = official.requests.map(seen);
  const mine = ours.requests.map(seen);
  assert.equal(mine.length, theirs.length);
  assert.equal(mine.length, 29);
  for (const [index, request] of mine.entries()) {
    const other = theirs[index]!;
    const normalised = { ...other, body: other.body === undefined ? undefined : { ...other.body } };
    if (normalised.body !== undefined && STREAMING.has(other.path)) delete normalised.body.stream;
    assert.deepEqual(asOfficial(request), normalised, `request ${index + 1} (${other.method} ${other.path})`);
  }
});

test('differential: each listed difference is there, and only where listed', () => {
  for (const [index, request] of ours.requests.entries()) {
    const body = request.body as Record<string, unknown> | undefined;
    const other = official.requests[index]!.body as Record<string, unknown> | undefined;
    if (STREAMING.has(request.path)) {
      assert.equal(body?.stream, true, `${request.path} streams on the wire`);
      assert.ok(other?.stream === true || other?.stream === false, 'ollama-js always sends stream');
    }
    if (NAMED.has(request.path)) {
      assert.equal(body?.model, body?.name, `${request.path} names the model twice`);
      assert.equal(other?.model, undefined, 'ollama-js sends only name');
      assert.equal(other?.name, body?.name);
    }
  }
  const search = ours.requests.find((r) => r.path === '/api/web_search');
  const theirSearch = official.requests.find((r) => r.path === '/api/web_search');
  assert.deepEqual(search?.body, { query: 'llama facts', max_results: 2 });
  assert.deepEqual(theirSearch?.body, { query: 'llama facts', maxResults: 2 });
});

test('differential: both send JSON, and the API key to ollama.com only', () => {
  for (const requests of [official.requests, ours.requests]) {
    for (const request of requests) {
      if (request.method === 'POST' || request.method === 'DELETE') {
        assert.match(String(request.headers['content-type']), /^application\/json/, request.path);
      }
      const web = request.path.startsWith('/api/web_');
      assert.equal(request.headers.authorization, web ? `Bearer ${KEY}` : undefined, request.path);
    }
  }
});

test('differential: where a stream fails is where ollama-js fails: a first line that is an error throws in the loop, not at the await; an abort before the loop yields nothing', async () => {
  const fake = await startFakeOllama();
  type Streams = { chat(request: object): Promise<AsyncIterable<unknown> & { abort(): void }> };
  const makers: Array<[string, (headers?: Record<string, string>) => Streams]> = [
    ['ollama-js', (headers) => new OllamaJs({ host: fake.url, ...(headers && { headers }) }) as unknown as Streams],
    ['compat', (headers) => new Ollama({ host: fake.url, ...(headers && { headers }) }) as unknown as Streams],
  ];
  const request = { model: 'llama3.2', messages: [{ role: 'user', content: 'Hi' }], stream: true };
  try {
    const inBand = {
      'x-fake-behaviour': JSON.stringify({
        respond: {
          status: 200,
          headers: { 'content-type': 'application/x-ndjson' },
          body: '{"error":"model crashed"}\n',
        },
      }),
    };
    for (const [name, make] of makers) {
      const stream = await make(inBand).chat(request);
      const seen: unknown[] = [];
      await assert.rejects(
        (async () => {
          for await (const chunk of stream) seen.push(chunk);
        })(),
        (error: Error) => /model crashed/.test(`${error.message} ${(error as { error?: string }).error}`),
        name,
      );
      assert.deepEqual(seen, [], name);
      const early = await make().chat(request);
      early.abort();
      const before: unknown[] = [];
      await assert.rejects(
        (async () => {
          for await (const chunk of early) before.push(chunk);
        })(),
        (error: Error) => error.name === 'AbortError',
        name,
      );
      assert.deepEqual(before, [], `${name}: nothing after the abort`);
    }
  } finally {
    await fake.close();
  }
});
