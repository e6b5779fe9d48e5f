// createOpenAI as a drop-in for openai-node 7.59.0, where a differential test found it apart:
// streams that reject `await create()` on an HTTP or connection failure and are openai-node's
// `Stream` (once, controller, tee, toReadableStream), the constructor and request options
// openai-node takes, `models.list()` as a page promise, and APIError's fields on `http` errors.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  type ChatCompletionChunk,
  type ChatCompletionRequest,
  ConflictError,
  chatCompletions,
  chatCompletionsStream,
  createOpenAI,
  InternalServerError,
  listModels,
  NotFoundError,
  type OpenAIHttpError,
  PermissionDeniedError,
  RateLimitError,
  retrieveModel,
  UnprocessableEntityError,
} from '../lib/openai/index.ts';
import { failsWith } from './support/assertions.ts';
import { type FakeOllama, startFakeOllama } from './support/fake-ollama.ts';
import type { V1Behaviour } from './support/fake-ollama/v1.ts';
import { v1 } from './support/v1.ts';

let fake: FakeOllama;
before(async () => {
  fake = await startFakeOllama();
});
after(() => fake.close());

const hello: ChatCompletionRequest & { stream?: false } = {
  model: 'llama3.2',
  messages: [{ role: 'user', content: 'Hi' }],
};
const streaming = { ...hello, stream: true as const };
const tagged = (tag: string) => fake.requests.filter((r) => r.headers['x-fake-behaviour']?.includes(tag));
const text = (chunks: ChatCompletionChunk[]) => chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
const client = (behaviour: V1Behaviour = {}, extra: Parameters<typeof createOpenAI>[0] = {}) =>
  createOpenAI({ ...v1(fake, behaviour), ...extra });

/** A loopback port nothing listens on: connecting is refused at once. */
async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}/v1`;
}

/** Resolves once the request tagged `tag` has been left by the client. */
const leftBy = (tag: string) =>
  fake.waitFor((r) => r.some((q) => q.headers['x-fake-behaviour']?.includes(tag) && q.clientDisconnected), 5000);

test('stream create: an HTTP error or a refused connection rejects the await of create() itself', async () => {
  await assert.rejects(
    client().chat.completions.create({ ...streaming, model: 'nope' }),
    failsWith('http', (e) => assert.equal(e.status, 404)),
  );
  const respond = { status: 401, headers: { 'Content-Type': 'application/json' }, body: '{"error":{"message":"no"}}' };
  await assert.rejects(
    client({ respond }).completions.create({ model: 'llama3.2', prompt: 'Once', stream: true }),
    failsWith('http', (e) => assert.equal(e.status, 401)),
  );
  const refused = createOpenAI({ baseURL: await closedPort(), maxRetries: 0 });
  await assert.rejects(refused.chat.completions.create(streaming), failsWith('connection'));
  // A bad option rejects too: a call of the client never throws.
  const bad = client().chat.completions.create(streaming, { timeout: 'soon' as never });
  await assert.rejects(bad, /options\.timeout must be a number/);
});

test('stream create: failures before the first chunk are retried as before; the stream then has every chunk', async () => {
  const tag = `retry-${Math.random()}`;
  const busy = { respond: { status: 503, headers: { 'retry-after-ms': '10' }, body: '{"error":{"message":"busy"}}' } };
  // v1() turns retries off with `retry: false`; `retry` given beats `maxRetries`, so it is taken out.
  const stream = await client(
    { tag, sequence: [busy, {}] },
    { retry: undefined, maxRetries: 2 },
  ).chat.completions.create(streaming);
  assert.equal(tagged(tag).length, 2);
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  assert.equal(text(chunks), 'Hello from the stand-in.');
  assert.ok(chunks.at(-1)?.choices[0]?.finish_reason === 'stop');
});

test('stream: iterated once — a second loop throws a TypeError, as openai-node refuses a consumed stream', async () => {
  const stream = await client().chat.completions.create(streaming);
  for await (const _ of stream);
  await assert.rejects(
    async () => {
      for await (const _ of stream);
    },
    (e: unknown) => e instanceof TypeError && /consumed stream/.test(e.message),
  );
  assert.throws(() => stream.tee(), TypeError);
});

test('stream: controller.abort() ends the loop quietly and closes the connection', async () => {
  const tag = `controller-${Math.random()}`;
  const stream = await client({ tag, tokens: Array(50).fill('x'), chunkDelayMs: 20 }).chat.completions.create(
    streaming,
  );
  assert.ok(stream.controller instanceof AbortController);
  assert.equal(stream.constructor.name, 'Stream', "named as openai-node's class, in the minified build too");
  let seen = 0;
  for await (const _ of stream) if (++seen === 2) stream.controller.abort();
  assert.equal(seen, 2);
  await leftBy(tag);
  assert.ok(tagged(tag)[0]!.pendingChunks > 0, 'the script was cut short');
});

test("stream: an abort of the request's own signal ends the loop quietly too; before the first chunk it rejects", async () => {
  const tag = `signal-${Math.random()}`;
  const controller = new AbortController();
  const stream = await client({ tag, tokens: Array(50).fill('x'), chunkDelayMs: 20 }).chat.completions.create(
    streaming,
    { signal: controller.signal },
  );
  let seen = 0;
  // Aborted while the loop waits for the next chunk.
  for await (const _ of stream) if (++seen === 2) setTimeout(() => controller.abort(new Error('mine')), 5);
  assert.ok(seen >= 2 && seen < 50);
  await leftBy(tag);
  // The function API keeps rejecting with the reason, as documented.
  const other = new AbortController();
  const chunks = chatCompletionsStream(hello, { ...v1(fake, { chunkDelayMs: 20 }), signal: other.signal });
  await chunks.next();
  other.abort(new Error('theirs'));
  await assert.rejects(chunks.next(), /theirs/);
  // Before the first chunk, the await of create() rejects with the reason.
  const early = new AbortController();
  const pending = client({ headersDelayMs: 2000 }).chat.completions.create(streaming, { signal: early.signal });
  setTimeout(() => early.abort(new Error('early')), 20);
  await assert.rejects(pending, /early/);
});

test('stream: break still closes the connection; un-awaited iteration of create() still works', async () => {
  const tag = `break-${Math.random()}`;
  let seen = 0;
  for await (const _ of client({ tag, tokens: Array(50).fill('x'), chunkDelayMs: 20 }).chat.completions.create(
    streaming,
  )) {
    if (++seen === 2) break;
  }
  await leftBy(tag);
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of client().chat.completions.create(streaming)) chunks.push(chunk);
  assert.equal(text(chunks), 'Hello from the stand-in.');
});

test('stream: toReadableStream gives each chunk as JSON and a newline; tee gives both branches every chunk', async () => {
  const expected: ChatCompletionChunk[] = [];
  for await (const chunk of await client().chat.completions.create(streaming)) expected.push(chunk);

  const readable = (await client().chat.completions.create(streaming)).toReadableStream();
  let bytes = '';
  const decoder = new TextDecoder();
  for await (const piece of readable as unknown as AsyncIterable<Uint8Array>) {
    assert.ok(piece instanceof Uint8Array);
    bytes += decoder.decode(piece, { stream: true });
  }
  assert.equal(bytes, expected.map((c) => `${JSON.stringify(c)}\n`).join(''));

  const [left, right] = (await client().chat.completions.create(streaming)).tee();
  const seen: ChatCompletionChunk[][] = [[], []];
  // The left branch runs ahead, the right one takes what it buffered.
  for await (const chunk of left) seen[0]!.push(chunk);
  for await (const chunk of right) seen[1]!.push(chunk);
  assert.deepEqual(seen, [expected, expected]);
  assert.equal(left.controller, right.controller);

  // Leaving one branch leaves the other running; leaving both closes the connection.
  const tag = `tee-${Math.random()}`;
  const [a, b] = (
    await client({ tag, tokens: Array(30).fill('x'), chunkDelayMs: 10 }).chat.completions.create(streaming)
  ).tee();
  for await (const _ of a) break;
  let rest = 0;
  for await (const _ of b) if (++rest === 5) break;
  assert.equal(rest, 5);
  await leftBy(tag);
});

test("createOpenAI: openai-node's defaultHeaders, organization, project and per-request headers reach the server", async () => {
  const tag = `headers-${Math.random()}`;
  const openai = createOpenAI({
    baseURL: `${fake.url}/v1`,
    organization: 'org-1',
    project: 'proj-1',
    defaultHeaders: { 'x-fake-behaviour': JSON.stringify({ tag }), 'x-a': 'default', 'x-gone': undefined },
    headers: { 'x-b': 'ours' },
  });
  await openai.models.list();
  await openai.chat.completions.create(hello, { headers: { 'x-a': 'request', 'OpenAI-Project': 'proj-2' } });
  // As in openai-node, null removes a header the client sends by default; undefined changes nothing.
  await openai.chat.completions.create(hello, {
    headers: { 'x-a': null, 'OpenAI-Organization': null, 'x-b': undefined },
  });
  const [first, second, third] = tagged(tag);
  assert.equal(first?.headers['openai-organization'], 'org-1');
  assert.equal(first?.headers['openai-project'], 'proj-1');
  assert.equal(first?.headers['x-a'], 'default');
  assert.equal(first?.headers['x-b'], 'ours');
  assert.equal(first?.headers['x-gone'], undefined);
  assert.equal(second?.headers['x-a'], 'request');
  assert.equal(second?.headers['openai-project'], 'proj-2');
  assert.equal(second?.headers['openai-organization'], 'org-1');
  assert.equal(third?.headers['x-a'], undefined);
  assert.equal(third?.headers['openai-organization'], undefined);
  assert.equal(third?.headers['openai-project'], 'proj-1');
  assert.equal(third?.headers['x-b'], 'ours');
  const unset = createOpenAI({
    baseURL: `${fake.url}/v1`,
    organization: 'org-1',
    defaultHeaders: { 'x-fake-behaviour': JSON.stringify({ tag: `${tag}-2` }), 'OpenAI-Organization': null },
  });
  await unset.models.list();
  assert.equal(tagged(`${tag}-2`)[0]?.headers['openai-organization'], undefined);
});

test('query: defaultQuery and per-request query reach the URL after the path, encoded, undefined left out', async () => {
  const openai = createOpenAI({ baseURL: `${fake.url}/v1`, defaultQuery: { 'api-version': '2024-10-21', x: '1' } });
  const expect = (queryIs: string) => ({ headers: v1(fake, { queryIs }).headers });
  const answer = await openai.chat.completions.create(hello, expect('api-version=2024-10-21&x=1'));
  assert.equal(answer.object, 'chat.completion');
  const stream = await openai.chat.completions.create(streaming, {
    ...expect('api-version=2024-10-21&x=2&q=a%20b%26c%3D&empty=&flag=true'),
    query: { x: 2, q: 'a b&c=', empty: null, flag: true, gone: undefined },
  });
  for await (const _ of stream);
  assert.ok((await openai.models.list(expect('api-version=2024-10-21&x=1'))).data.length > 0);
  assert.equal(
    (await openai.models.retrieve('llama3.2:latest', expect('api-version=2024-10-21&x=1'))).id,
    'llama3.2:latest',
  );
  // The function API takes `query` as well; the error names the URL with it.
  await chatCompletions(hello, v1(fake, { queryIs: 'v=1' }, { query: { v: 1 } }));
  await assert.rejects(
    listModels(v1(fake, { queryIs: 'other' }, { query: { v: 1 } })),
    failsWith('http', (e) => {
      assert.match(e.message, /GET http:\/\/127\.0\.0\.1:\d+\/v1\/models\?v=1: query was "v=1"/);
      assert.match(e.url ?? '', /\/v1\/models\?v=1$/);
    }),
  );
  await retrieveModel('llama3.2:latest', v1(fake, { queryIs: 'v=%2F' }, { query: { v: '/' } }));
});

test('timeout and maxRetries: taken as readTimeout and retry, unless those are given too, per client or per request', async () => {
  const stall = { stallAfter: 0, stallMs: 3000 };
  await assert.rejects(
    client(stall, { timeout: 100 }).chat.completions.create(hello),
    failsWith('read-timeout', (e) => assert.match(e.message, /100 ?ms/)),
  );
  await assert.rejects(
    client(stall, { timeout: 5000 }).chat.completions.create(hello, { timeout: 100 }),
    failsWith('read-timeout'),
  );
  // readTimeout wins over timeout: the 5 s stall ends first... here the answer waits 300 ms.
  const slow = { stallAfter: 0, stallMs: 300 };
  const answer = await client(slow, { timeout: 50, readTimeout: 5000 }).chat.completions.create(hello);
  assert.equal(answer.choices[0]?.message.content, 'Hello from the stand-in.');

  const busy = { respond: { status: 503, headers: { 'retry-after-ms': '5' }, body: '{"error":{"message":"busy"}}' } };
  const tag = `retries-${Math.random()}`;
  const base = { baseURL: `${fake.url}/v1`, headers: v1(fake, { tag, ...busy }).headers };
  await assert.rejects(createOpenAI({ ...base, maxRetries: 3 }).models.list(), failsWith('http'));
  assert.equal(tagged(tag).length, 4);
  await assert.rejects(createOpenAI({ ...base, maxRetries: 3 }).models.list({ maxRetries: 0 }), failsWith('http'));
  assert.equal(tagged(tag).length, 5);
  await assert.rejects(createOpenAI({ ...base, maxRetries: 3, retry: 1 }).models.list(), failsWith('http'));
  assert.equal(tagged(tag).length, 7);
});

test('createOpenAI: a bad type for an openai-node option is a TypeError naming it, never showing a header value', () => {
  const secret = 'sk-secret-value-1234';
  const cases: [object, RegExp][] = [
    [{ defaultHeaders: 5 }, /createOpenAI: defaultHeaders must be an object/],
    [
      { defaultHeaders: { 'x-key': `Bearer ${secret}\nx: y` } },
      /createOpenAI: defaultHeaders\["x-key"\] contains U\+000A/,
    ],
    [
      { defaultHeaders: { [`Authorization: ${secret}`]: 'x' } },
      /createOpenAI: defaultHeaders: header 1 has no valid name/,
    ],
    [{ organization: 5 }, /createOpenAI: organization must be a string, got number/],
    [{ project: `${secret}\rx` }, /createOpenAI: project contains U\+000D/],
    [{ defaultQuery: 'api-version=1' }, /createOpenAI: defaultQuery must be an object/],
    [{ timeout: '10s' }, /createOpenAI: timeout must be a number/],
    [{ maxRetries: 'two' }, /createOpenAI: maxRetries must be a number/],
  ];
  for (const [options, pattern] of cases) {
    assert.throws(
      () => createOpenAI(options as never),
      (e: unknown) => {
        assert.ok(e instanceof TypeError, String(e));
        assert.match(e.message, pattern);
        assert.ok(!e.message.includes(secret), e.message);
        return true;
      },
    );
  }
  assert.throws(() => createOpenAI({ maxRetries: -1 }), RangeError);
});

test('options: bad per-request values reject with the option named; a bad query value too', async () => {
  const openai = client();
  await assert.rejects(openai.models.list({ maxRetries: '1' as never }), /options\.maxRetries must be a number/);
  await assert.rejects(openai.models.list({ query: 'a=1' as never }), /options\.query must be an object/);
  await assert.rejects(openai.models.list({ query: { a: {} as never } }), /options\.query must be.*"a" is object/);
  await assert.rejects(openai.models.retrieve('x', { headers: { 'x-k': 'a\u0000b' } }), /options\.headers\["x-k"\]/);
  await assert.rejects(listModels({ ...v1(fake), query: [1] as never }), TypeError);
});

test('models.list(): awaited it is the listing, iterated it is the models', async () => {
  const openai = client();
  const listing = await openai.models.list();
  const ids: string[] = [];
  for await (const model of openai.models.list()) ids.push(model.id);
  assert.deepEqual(
    ids,
    listing.data.map((m) => m.id),
  );
  assert.ok(ids.includes('llama3.2:latest'));
});

test("http errors: openai-node's APIError fields — error, headers, type, param, requestID — as openai-node reads them", async () => {
  const behaviour = { requestId: 'req-7' };
  const own = async (run: () => Promise<unknown>): Promise<OpenAIHttpError> => {
    const error = await run().then(
      () => assert.fail('expected a failure'),
      (e: unknown) => e,
    );
    assert.ok(failsWith('http')(error));
    return error as OpenAIHttpError;
  };
  const theirs = async (run: (o: OpenAI) => Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> => {
    const openai = new OpenAI({
      baseURL: `${fake.url}/v1`,
      apiKey: 'sk-x',
      maxRetries: 0,
      defaultHeaders: v1(fake, behaviour).headers as Record<string, string>,
    });
    const error = await run(openai).then(
      () => assert.fail('expected a failure'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof OpenAI.APIError);
    return error;
  };
  const ours = createOpenAI({ ...v1(fake, behaviour), apiKey: 'sk-x' });
  const mine = [
    await own(() => ours.chat.completions.create({ ...hello, model: 'nope' })),
    await own(() => ours.chat.completions.create({ ...streaming, model: 'nope' })),
    await own(async () => {
      for await (const _ of chatCompletionsStream({ ...hello, model: 'nope' }, v1(fake, behaviour)));
    }),
    await own(() => ours.models.retrieve('missing')),
    await own(() => ours.embeddings.create({ model: 'nope', input: 'x' })),
  ];
  const messages = [{ role: 'user' as const, content: 'Hi' }];
  const reference = [
    await theirs((o) => o.chat.completions.create({ model: 'nope', messages })),
    await theirs((o) => o.chat.completions.create({ model: 'nope', messages, stream: true })),
    await theirs((o) => o.chat.completions.create({ model: 'nope', messages, stream: true })),
    await theirs((o) => o.models.retrieve('missing')),
    await theirs((o) => o.embeddings.create({ model: 'nope', input: 'x' })),
  ];
  for (const [index, error] of mine.entries()) {
    const other = reference[index]!;
    assert.deepEqual(error.error, other.error);
    assert.equal(error.type, other.type);
    assert.equal(error.param, other.param);
    assert.equal(error.requestID, other.requestID);
    assert.equal(error.code, other.code);
    assert.equal(error.requestID, error.requestId);
    assert.ok(error.headers instanceof Headers);
    assert.equal(error.headers.get('content-type'), other.headers?.get('content-type'));
    // Not enumerable: an error logs and serialises as it did.
    assert.ok(!Object.keys(error).some((key) => ['error', 'headers', 'type', 'param', 'requestID'].includes(key)));
  }
  assert.deepEqual(mine[0]!.error, {
    message: 'model "nope" not found, try pulling it first',
    type: 'not_found_error',
    param: null,
    code: null,
  });
  // The fields survive the retries (the error the caller gets is a copy that counts them).
  const busy = {
    respond: {
      status: 429,
      headers: { 'retry-after-ms': '5', 'x-ratelimit-remaining-requests': '0', 'x-request-id': 'r-9' },
      body: '{"error":{"message":"slow down","type":"requests","param":"model","code":"rate_limit_exceeded"}}',
    },
  };
  const limited = await own(() => client(busy, { retry: undefined, maxRetries: 1 }).chat.completions.create(hello));
  assert.equal(limited.attempts, 2);
  assert.equal(limited.headers.get('x-ratelimit-remaining-requests'), '0');
  assert.equal(limited.type, 'requests');
  assert.equal(limited.param, 'model');
  assert.equal(limited.requestID, 'r-9');
  assert.equal(limited.code, 'rate_limit_exceeded');
  // Ollama's /v1 sends `"code": null`, and openai-node has it so.
  assert.equal(mine[0]!.code, null);
});

// openai-node's `withResponse()`, on every call of the client: the answer, the Response it came in,
// and its x-request-id, as openai-node gives them. It was missing (a TypeError at run time).
test("withResponse(): the answer, the response and its request_id, on every call, as openai-node's", async () => {
  const behaviour: V1Behaviour = { requestId: 'req-w' };
  const ours = client(behaviour);
  const openai = new OpenAI({
    baseURL: `${fake.url}/v1`,
    apiKey: 'sk-x',
    maxRetries: 0,
    defaultHeaders: v1(fake, behaviour).headers as Record<string, string>,
  });
  const messages = [{ role: 'user' as const, content: 'Hi' }];
  const pairs = [
    [() => ours.chat.completions.create(hello), () => openai.chat.completions.create({ model: 'llama3.2', messages })],
    [
      () => ours.embeddings.create({ model: 'nomic-embed-text', input: 'x' }),
      () => openai.embeddings.create({ model: 'nomic-embed-text', input: 'x' }),
    ],
    [() => ours.models.list(), () => openai.models.list()],
    [() => ours.models.retrieve('llama3.2'), () => openai.models.retrieve('llama3.2')],
    [
      () => ours.completions.create({ model: 'llama3.2', prompt: 'p' }),
      () => openai.completions.create({ model: 'llama3.2', prompt: 'p' }),
    ],
  ] as const;
  for (const [mine, theirs] of pairs) {
    const a = await mine().withResponse();
    const b = await theirs().withResponse();
    assert.ok(a.response instanceof Response);
    assert.equal(a.response.status, b.response.status);
    assert.equal(a.request_id, 'req-w');
    assert.equal(a.request_id, b.request_id);
    assert.equal(typeof a.data, 'object');
    assert.equal((a.data as { object?: unknown }).object, (b.data as { object?: unknown }).object);
  }
  // A stream: the response arrived with the first chunk; the stream is read as usual.
  const { data: stream, response, request_id } = await ours.chat.completions.create(streaming).withResponse();
  assert.equal(response.headers.get('content-type')?.startsWith('text/event-stream'), true);
  assert.equal(request_id, 'req-w');
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  assert.ok(text(chunks).length > 0);
  // The plain await is unchanged, and an error rejects withResponse() as it rejects the await.
  assert.equal((await ours.chat.completions.create(hello)).object, 'chat.completion');
  await assert.rejects(ours.chat.completions.create({ ...hello, model: 'nope' }).withResponse(), failsWith('http'));
});

// A failure reported inside a stream that has begun: the same fields, as openai-node reads them
// from the event (it throws an APIError with the response's headers). They were undefined, so
// `error.headers.get(…)` threw inside the caller's catch.
test("stream errors: openai-node's APIError fields — error, headers, type, param, code, requestID — from the event", async () => {
  for (const dialect of ['openai', 'vllm', 'openrouter'] as const) {
    const behaviour: V1Behaviour = { dialect, errorAfter: 2, requestId: 'req-s' };
    const messages = [{ role: 'user' as const, content: 'Hi' }];
    const mine = await (async () => {
      for await (const _ of await client(behaviour).chat.completions.create(streaming));
    })().then(
      () => assert.fail(`${dialect}: expected a failure`),
      (e: unknown) => e as OpenAIHttpError,
    );
    assert.ok(failsWith('stream')(mine), dialect);
    const openai = new OpenAI({
      baseURL: `${fake.url}/v1`,
      apiKey: 'sk-x',
      maxRetries: 0,
      defaultHeaders: v1(fake, behaviour).headers as Record<string, string>,
    });
    assert.ok(mine.headers instanceof Headers, dialect);
    assert.equal(mine.headers.get('x-request-id'), 'req-s', dialect);
    assert.equal(mine.requestID, 'req-s', dialect);
    // openai-node reads only an `error` member; vLLM's flat `{"object":"error",…}` it passes on as
    // a chunk, so there it has nothing to compare.
    if (dialect !== 'vllm') {
      const other = await (async () => {
        for await (const _ of await openai.chat.completions.create({ model: 'llama3.2', messages, stream: true }));
      })().then(
        () => assert.fail(`${dialect}: openai-node expected a failure`),
        (e: unknown) => e as InstanceType<typeof OpenAI.APIError>,
      );
      assert.ok(other instanceof OpenAI.APIError, dialect);
      assert.deepEqual(mine.error, other.error, dialect);
      assert.equal(mine.type, other.type, dialect);
      assert.equal(mine.param, other.param, dialect);
    } else {
      assert.equal(mine.type, 'InternalServerError');
      assert.equal(mine.param, null);
    }
    assert.ok(!Object.keys(mine).some((key) => ['error', 'headers', 'type', 'param', 'requestID'].includes(key)));
  }
});

test('http errors: a vLLM flat body is the error as openai-node reads it; a body that is not JSON gives none', async () => {
  const flat = await chatCompletions(hello, v1(fake, { dialect: 'vllm', errorAfter: 0, errorStatus: 400 })).catch(
    (e: unknown) => e as OpenAIHttpError,
  );
  assert.equal((flat as OpenAIHttpError).type, 'BadRequestError');
  assert.equal(((flat as OpenAIHttpError).error as { object?: string }).object, 'error');
  const html = { respond: { status: 502, headers: { 'Content-Type': 'text/html' }, body: '<html>bad gateway</html>' } };
  const page = (await chatCompletions(hello, v1(fake, html)).catch((e: unknown) => e)) as OpenAIHttpError;
  assert.equal(page.error, undefined);
  assert.equal(page.type, undefined);
  assert.equal(page.headers.get('content-type'), 'text/html');
});

test('http errors: the key never appears in the new fields, even written with JSON escapes or echoed in a header', async () => {
  const key = 'sk-proj/abcdef123456';
  const respond = {
    status: 401,
    headers: { 'Content-Type': 'application/json', 'x-echo': `Bearer ${key}` },
    // JSON may escape the slash: the raw body then does not contain the key, its parse does.
    body: JSON.stringify({ error: { message: `Incorrect API key provided: ${key}`, param: key } }).replace('/', '\\/'),
  };
  const error = (await client({ respond }, { apiKey: key })
    .chat.completions.create(hello)
    .catch((e: unknown) => e)) as OpenAIHttpError;
  assert.ok(failsWith('http')(error));
  const seen = [JSON.stringify(error.error), String(error.param), [...error.headers].join(';'), error.message].join(
    '\n',
  );
  assert.ok(!seen.includes(key), seen);
  assert.ok(!seen.includes('abcdef123456'), seen);
  // And the body as the server wrote it, escape and all.
  assert.ok(!(error.body ?? '').includes('abcdef123456'), error.body);
  assert.match(String(error.param), /\[redacted\]/);
  assert.equal(error.headers.get('x-echo'), 'Bearer [redacted]');
});

test('http errors: the APIError fields survive every copy of the error, a batched embeddings call included', async () => {
  const body = JSON.stringify({
    error: { message: 'too long', type: 'invalid_request_error', param: 'input', code: 'context_length_exceeded' },
  });
  const behaviour = {
    requestId: 'req-9',
    respond: { status: 400, headers: { 'content-type': 'application/json' }, body },
  };
  const input = Array.from({ length: 3 }, (_, i) => `text ${i}`);
  for (const batchSize of [512, 1]) {
    const error = (await client(behaviour)
      .embeddings.create({ model: 'all-minilm', input }, { batchSize })
      .then(
        () => assert.fail('expected a failure'),
        (e: unknown) => e,
      )) as OpenAIHttpError;
    assert.ok(failsWith('http')(error));
    assert.equal(error.type, 'invalid_request_error', `batchSize ${batchSize}`);
    assert.equal(error.param, 'input');
    assert.equal((error.error as { message?: unknown } | undefined)?.message, 'too long');
    assert.equal(typeof error.headers?.get, 'function');
  }
});

test("openai-node's error classes: instanceof holds for the errors openai-node would have thrown as them", async () => {
  const failure = async (run: () => Promise<unknown>): Promise<unknown> => {
    try {
      await run();
    } catch (error) {
      return error;
    }
    throw new Error('it did not fail');
  };
  const classes = {
    APIError,
    BadRequestError,
    AuthenticationError,
    PermissionDeniedError,
    NotFoundError,
    ConflictError,
    UnprocessableEntityError,
    RateLimitError,
    InternalServerError,
    APIConnectionError,
    APIConnectionTimeoutError,
    APIUserAbortError,
  };
  const which = (error: unknown): string[] =>
    Object.entries(classes)
      .filter(([, type]) => error instanceof type)
      .map(([name]) => name);
  const statusOf = async (status: number): Promise<unknown> =>
    failure(() =>
      client({
        respond: { status, headers: { 'content-type': 'application/json' }, body: '{"error":{"message":"no"}}' },
      }).chat.completions.create(hello),
    );
  assert.deepEqual(which(await failure(() => client().chat.completions.create({ ...hello, model: 'nope' }))), [
    'APIError',
    'NotFoundError',
  ]);
  const expected: Record<number, string> = {
    400: 'BadRequestError',
    401: 'AuthenticationError',
    403: 'PermissionDeniedError',
    409: 'ConflictError',
    422: 'UnprocessableEntityError',
    429: 'RateLimitError',
    500: 'InternalServerError',
    503: 'InternalServerError',
  };
  for (const [status, name] of Object.entries(expected)) {
    const error = await statusOf(Number(status));
    assert.deepEqual(which(error), ['APIError', name], `HTTP ${status}`);
    if (error instanceof APIError) assert.equal(error.status, Number(status), 'narrowed to the fields');
  }
  const refused = await failure(async () => createOpenAI({ baseURL: await closedPort(), maxRetries: 0 }).models.list());
  assert.deepEqual(which(refused), ['APIError', 'APIConnectionError']);
  const silent = await failure(() => client({ headersDelayMs: 3000 }, { timeout: 100 }).chat.completions.create(hello));
  assert.deepEqual(which(silent), ['APIError', 'APIConnectionError', 'APIConnectionTimeoutError']);
  assert.deepEqual(which(new TypeError('not ours')), []);
  assert.deepEqual(which(new DOMException('stopped', 'AbortError')), []);
});

test('client.withOptions(), client.baseURL and client.apiKey, as in openai-node', async () => {
  const base = client();
  assert.equal(base.baseURL, `${fake.url}/v1`);
  assert.equal(base.apiKey, undefined);
  const keyed = base.withOptions({ apiKey: 'sk-with-options-123' });
  assert.equal(keyed.apiKey, 'sk-with-options-123');
  assert.equal(keyed.baseURL, base.baseURL, 'the rest of the options kept');
  const before = fake.requests.length;
  await keyed.chat.completions.create(hello);
  assert.equal(fake.requests[before]?.headers.authorization, 'Bearer sk-with-options-123');
  assert.equal(base.apiKey, undefined, 'the first client unchanged');
});

test('stream create: an error event first resolves the await and throws in the loop, as with openai-node', async () => {
  const failing: V1Behaviour = {
    respond: {
      status: 200,
      headers: { 'content-type': 'text/event-stream' },
      body: 'event: error\ndata: {"error":{"message":"model overloaded","type":"server_error"}}\n\n',
    },
  };
  const { baseURL, headers } = v1(fake, failing);
  const theirs = new OpenAI({
    baseURL,
    defaultHeaders: headers as Record<string, string>,
    apiKey: 'unused',
    maxRetries: 0,
  });
  for (const [name, made] of [
    ['openai-node', () => theirs.chat.completions.create(streaming as never)],
    ['ollama-fetch', () => client(failing).chat.completions.create(streaming)],
  ] as const) {
    const stream = await made(); // resolves
    await assert.rejects(
      (async () => {
        for await (const _ of stream as AsyncIterable<unknown>);
      })(),
      (error: Error) => /model overloaded/.test(error.message),
      name,
    );
  }
});

test("an object answer of the client carries openai-node's _request_id, not enumerable", async () => {
  const answer = await client({ requestId: 'req_123' }).chat.completions.create(hello);
  assert.equal((answer as { _request_id?: unknown })._request_id, 'req_123');
  assert.ok(!Object.keys(answer).includes('_request_id'), 'it does not show in the answer as sent');
  const listing = await client({ requestId: 'req_456' }).models.list();
  assert.equal((listing as { _request_id?: unknown })._request_id, 'req_456');
  const none = await client().chat.completions.create(hello);
  assert.equal((none as { _request_id?: unknown })._request_id, null);
});

test("openai-node's fetchOptions is refused with what to write instead, not ignored", async () => {
  assert.throws(
    () => createOpenAI({ ...v1(fake), fetchOptions: { keepalive: true } } as never),
    (error: Error) => error instanceof TypeError && /fetchOptions is not taken: pass a fetch/.test(error.message),
  );
  await assert.rejects(
    client().chat.completions.create(hello, { fetchOptions: { keepalive: true } } as never),
    (error: Error) => error instanceof TypeError && /options\.fetchOptions is not taken/.test(error.message),
  );
});
