// Requirements 4 and 5 of the /v1 client: errors and retries as in the native calls, with the
// server's message in every body shape, the request id and rate limits as fields,
// `retry-after-ms` and `x-should-retry` obeyed; credentials only where they belong.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  type ChatCompletionRequest,
  chatCompletions,
  chatCompletionsStream,
  listModels,
  retrieveModel,
} from '../lib/openai/index.ts';
import { embeddings as nativeEmbeddings } from '../lib/index.ts';
import { retryAfterOf as retryAfterMs } from '../lib/internal/retry-after.ts';
import { durationMs, rateLimitOf } from '../lib/openai/internal/rate-limit.ts';
import { failsWith } from './support/assertions.ts';
import { type FakeOllama, startFakeOllama } from './support/fake-ollama.ts';
import { drain, v1 } from './support/v1.ts';

let fake: FakeOllama;
before(async () => {
  fake = await startFakeOllama();
});
after(() => fake.close());

const hello: ChatCompletionRequest = { model: 'llama3.2', messages: [{ role: 'user', content: 'Hi' }] };
const tagged = (tag: string) => fake.requests.filter((r) => r.headers['x-fake-behaviour']?.includes(tag));

test("http errors: Ollama's /v1 body — the server's message, the status, and the pull hint for a missing model", async () => {
  await assert.rejects(
    chatCompletions({ ...hello, model: 'nope' }, v1(fake)),
    failsWith('http', (e) => {
      assert.equal(e.status, 404);
      assert.match(
        e.message,
        /HTTP 404 Not Found to POST http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions: model "nope" not found, try pulling it first \(type not_found_error\)/,
      );
      assert.match(e.message, /ollama pull nope/);
    }),
  );
  await assert.rejects(
    chatCompletions({ ...hello, messages: [] }, v1(fake)),
    failsWith('http', (e) => assert.match(e.message, /too short/)),
  );
});

test('http errors: vLLM flat, OpenRouter 402, llama.cpp, FastAPI detail and an HTML page all keep what the server said', async () => {
  const cases: [object, RegExp][] = [
    [
      { dialect: 'vllm', errorAfter: 0, errorStatus: 400, errorText: 'max_tokens is too large' },
      /max_tokens is too large \(type BadRequestError, code 400\)/,
    ],
    [
      { dialect: 'openrouter', errorAfter: 0, errorStatus: 402, errorText: 'Insufficient credits' },
      /Insufficient credits \(code 402\)\. The account behind the API key is out of credits/,
    ],
    [
      { dialect: 'llamacpp', errorAfter: 0, errorStatus: 500, errorText: 'slot unavailable' },
      /slot unavailable \(type server_error, code 500\)/,
    ],
    [
      {
        respond: { status: 422, headers: { 'Content-Type': 'application/json' }, body: '{"detail":"field required"}' },
      },
      /422 Unprocessable Entity .*: field required/,
    ],
    [
      {
        respond: {
          status: 502,
          headers: { 'Content-Type': 'text/html' },
          body: '<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>',
        },
      },
      /an HTML page "502 Bad Gateway" \(\d+ characters\): a proxy or another server answered/,
    ],
  ];
  for (const [behaviour, pattern] of cases) {
    await assert.rejects(
      chatCompletions(hello, v1(fake, behaviour)),
      failsWith('http', (e) => assert.match(e.message, pattern)),
    );
  }
});

test('http errors: the request id and the parsed rate-limit headers are fields of a thrown 429', async () => {
  const headers = {
    'Content-Type': 'application/json',
    'x-request-id': 'req_abc123',
    'x-ratelimit-limit-requests': '60',
    'x-ratelimit-remaining-requests': '0',
    'x-ratelimit-reset-requests': '6m0s',
    'x-ratelimit-limit-tokens': '150000',
    'x-ratelimit-remaining-tokens': '149984',
    'x-ratelimit-reset-tokens': '12ms',
    'retry-after': '90',
  };
  const respond = {
    status: 429,
    headers,
    body: '{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}',
  };
  await assert.rejects(
    chatCompletions(hello, v1(fake, { respond }, { retry: 2 })),
    failsWith('http', (e) => {
      assert.equal(e.requestId, 'req_abc123');
      assert.deepEqual(e.rateLimit, {
        limitRequests: 60,
        limitTokens: 150000,
        remainingRequests: 0,
        remainingTokens: 149984,
        resetRequests: 360000,
        resetTokens: 12,
      });
      assert.equal(e.retryAfter, 90_000);
      assert.equal(e.code, 'rate_limit_exceeded');
      // 90 s is over maxRetryAfter (60 s): not retried, and said so.
      assert.match(e.message, /Rate limit reached.*longer than retry\.maxRetryAfter/);
      assert.equal(e.attempts, 1);
    }),
  );
});

test('retries: retry-after-ms beats retry-after, and the wait asked for is the wait taken', async () => {
  const tag = `ms-${Math.random()}`;
  const busy = {
    respond: {
      status: 429,
      headers: { 'retry-after-ms': '120', 'retry-after': '30' },
      body: '{"error":{"message":"slow down"}}',
    },
  };
  const waits: number[] = [];
  const answer = await chatCompletions(
    hello,
    v1(fake, { tag, sequence: [busy, {}] }, { retry: { retries: 2, onRetry: (info) => waits.push(info.delay) } }),
  );
  assert.equal(answer.choices[0]?.finish_reason, 'stop');
  assert.deepEqual(waits, [120]);
  assert.equal(tagged(tag).length, 2);
});

test('retries: x-should-retry false forbids a retry of a 503, true forces one of a 400', async () => {
  const no = `no-${Math.random()}`;
  const refused = {
    respond: { status: 503, headers: { 'x-should-retry': 'false' }, body: '{"error":{"message":"busy"}}' },
  };
  await assert.rejects(
    chatCompletions(hello, v1(fake, { tag: no, ...refused }, { retry: { retries: 2, baseDelay: 1 } })),
    failsWith('http'),
  );
  assert.equal(tagged(no).length, 1);
  const yes = `yes-${Math.random()}`;
  const forced = {
    respond: {
      status: 400,
      headers: { 'x-should-retry': 'true', 'retry-after': '0.05' },
      body: '{"error":{"message":"transient"}}',
    },
  };
  const waits: number[] = [];
  await chatCompletions(
    hello,
    v1(fake, { tag: yes, sequence: [forced, {}] }, { retry: { retries: 2, onRetry: (i) => waits.push(i.delay) } }),
  );
  assert.equal(tagged(yes).length, 2);
  assert.deepEqual(waits, [50], 'a fractional Retry-After, in seconds');
});

test('rate-limit parsing: Go durations, plain seconds, HTTP dates, and nothing guessed from junk', () => {
  assert.equal(durationMs('6m0s'), 360_000);
  assert.equal(durationMs('12ms'), 12);
  assert.equal(durationMs('1h2m3.5s'), 3_723_500);
  assert.equal(durationMs('0.5'), 500);
  assert.equal(durationMs('soon'), undefined);
  assert.equal(durationMs('5x'), undefined);
  const now = Date.parse('Tue, 01 Dec 2026 08:00:00 GMT');
  assert.equal(retryAfterMs(new Headers({ 'retry-after': 'Tue, 01 Dec 2026 08:00:30 GMT' }), now), 30_000);
  assert.equal(retryAfterMs(new Headers({ 'retry-after': '1.5' })), 1500);
  assert.equal(retryAfterMs(new Headers({ 'retry-after': '-1' })), undefined);
  assert.equal(retryAfterMs(new Headers({ 'retry-after': 'tomorrow' })), undefined);
  assert.equal(retryAfterMs(new Headers({ 'retry-after-ms': 'x', 'retry-after': '2' })), 2000);
  assert.equal(rateLimitOf(new Headers({ 'x-other': '1' })), undefined);
});

test('credentials: apiKey goes as Bearer to the configured base, and never into a message', async () => {
  const tag = `key-${Math.random()}`;
  await chatCompletions(hello, v1(fake, { tag }, { apiKey: 'sk-test-123' }));
  assert.equal(tagged(tag)[0]?.headers.authorization, 'Bearer sk-test-123');
  await assert.rejects(
    chatCompletions(
      hello,
      v1(fake, { errorAfter: 0, errorStatus: 401, errorText: 'invalid key' }, { apiKey: 'sk-test-123' }),
    ),
    failsWith('http', (e) => {
      assert.doesNotMatch(e.message + String(e.body), /sk-test-123/);
      assert.match(e.message, /refused the API key/);
    }),
  );
});

test('credentials: OPENAI_API_KEY goes only to OPENAI_BASE_URL, never to the default Ollama base or a caller-named one', async () => {
  const saved = { ...process.env };
  try {
    process.env.OPENAI_API_KEY = 'sk-env-456';
    process.env.OLLAMA_HOST = fake.url;
    delete process.env.OPENAI_BASE_URL;
    const cases: [string, Record<string, unknown>, string | undefined][] = [
      ['default base', {}, undefined],
      ['host option', { host: fake.url }, undefined],
      ['baseURL option', { baseURL: `${fake.url}/v1` }, undefined],
    ];
    for (const [name, options, expected] of cases) {
      const tag = `env-${Math.random()}`;
      await chatCompletions(hello, { ...options, headers: { 'x-fake-behaviour': JSON.stringify({ tag }) } });
      assert.equal(tagged(tag)[0]?.headers.authorization, expected, name);
      assert.equal(tagged(tag)[0]?.path, '/v1/chat/completions', name);
    }
    process.env.OPENAI_BASE_URL = `${fake.url}/v1`;
    const tag = `env-base-${Math.random()}`;
    await chatCompletions(hello, { headers: { 'x-fake-behaviour': JSON.stringify({ tag }) } });
    assert.equal(tagged(tag)[0]?.headers.authorization, 'Bearer sk-env-456');
    const own = `env-own-${Math.random()}`;
    await chatCompletions(hello, { apiKey: 'sk-mine', headers: { 'x-fake-behaviour': JSON.stringify({ tag: own }) } });
    assert.equal(tagged(own)[0]?.headers.authorization, 'Bearer sk-mine');
  } finally {
    for (const key of ['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'OLLAMA_HOST']) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  }
});

test('options: baseURL must be a full http(s) URL; a path prefix is kept; bad options fail before sending', async () => {
  const count = fake.requests.length;
  await assert.rejects(
    listModels({ baseURL: 'openrouter.ai/api/v1' }),
    /options\.baseURL must be a full http:\/\/ or https:\/\/ URL/,
  );
  await assert.rejects(listModels({ baseURL: 'ftp://x/v1' }), TypeError);
  // A password in a refused base is not shown; a query is pointed to options.query, by name.
  await assert.rejects(listModels({ baseURL: 'ftp://ada:hunter2-secret@x/v1' }), (error: unknown) => {
    assert.ok(error instanceof TypeError);
    assert.doesNotMatch(error.message, /hunter2/);
    return true;
  });
  await assert.rejects(
    listModels({ baseURL: `${fake.url}/v1?api-version=1` }),
    /^TypeError: options\.baseURL must not carry a query or a fragment .*options\.query/,
  );
  await assert.rejects(chatCompletions(hello, { baseURL: `${fake.url}/v1`, readTimeout: -1 }), RangeError);
  assert.equal(fake.requests.length, count);
  await assert.rejects(
    listModels({ baseURL: `${fake.url}/proxy/v1`, retry: false }),
    failsWith('http', (e) => {
      assert.equal(e.url, `${fake.url}/proxy/v1/models`);
      assert.match(e.message, /ends with the API prefix/);
    }),
  );
});

test('connection errors name the URL, and are retried as the native calls are', async () => {
  const closed = await startFakeOllama();
  const url = closed.url;
  await closed.close();
  await assert.rejects(
    chatCompletions(hello, { baseURL: `${url}/v1`, retry: { retries: 1, baseDelay: 1 } }),
    failsWith('connection', (e) => {
      assert.equal(e.attempts, 2);
      assert.match(e.message, new RegExp(`${url}/v1/chat/completions`));
    }),
  );
});

test('x-request-id that echoes the key (a gateway) is redacted in requestId and requestID, in http and stream errors', async () => {
  const key = 'sk-gateway-0123456789';
  const respond = {
    status: 401,
    headers: { 'x-request-id': `Bearer ${key}` },
    body: '{"error":{"message":"no","type":"auth"}}',
  };
  const clean = (e: { requestId?: string | undefined; message: string }) => {
    assert.equal(e.requestId, 'Bearer [redacted]');
    assert.equal((e as { requestID?: unknown }).requestID ?? e.requestId, 'Bearer [redacted]');
    assert.doesNotMatch(JSON.stringify(e), /0123456789/);
  };
  await assert.rejects(chatCompletions(hello, v1(fake, { respond }, { apiKey: key })), failsWith('http', clean));
  const { error } = await drain(
    chatCompletionsStream(
      hello,
      v1(fake, { dialect: 'openai', errorAfter: 1, requestId: `Bearer ${key}` }, { apiKey: key }),
    ),
  );
  assert.ok(failsWith('stream', clean)(error));
});

test("/v1 403s of Ollama's own: the Host check (empty) and cloud turned off, without the API-key advice", async () => {
  const answering = (status: number, body: string, type = 'application/json') =>
    v1(fake, { respond: { status, headers: { 'content-type': type }, body } });
  await assert.rejects(
    chatCompletions(hello, answering(403, '', 'text/plain')),
    failsWith('http', (e) => {
      assert.match(e.message, /Host header/);
      assert.doesNotMatch(e.message, /refused the API key/);
    }),
  );
  await assert.rejects(
    chatCompletions(hello, answering(403, '{"error":"ollama cloud is disabled: remote inference is unavailable"}')),
    failsWith('http', (e) => {
      assert.match(e.message, /cloud models turned off/);
      assert.doesNotMatch(e.message, /API key/);
    }),
  );
});

test('retrieveModel of a name with a "/": Ollama\'s router cannot route it, and the advice says what to use', async () => {
  const notRouted = v1(fake, {
    respond: { status: 404, headers: { 'content-type': 'text/plain' }, body: '404 page not found' },
  });
  await assert.rejects(
    retrieveModel('hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M', notRouted),
    failsWith('http', (e) => {
      assert.equal(e.status, 404);
      assert.match(e.message, /cannot look up a name with a "\/" in it/);
      assert.match(e.message, /showModel/);
      assert.doesNotMatch(e.message, /API prefix/);
    }),
  );
  // Without a "/", the same 404 is still a path the server does not serve.
  await assert.rejects(
    retrieveModel('llama3.2', notRouted),
    failsWith('http', (e) => assert.match(e.message, /API prefix/)),
  );
});

test("a 200 that is not the answer (an error object, a portal's JSON) is a protocol error, not an empty answer", async () => {
  const replying = (body: string) =>
    v1(fake, { respond: { status: 200, headers: { 'content-type': 'application/json' }, body } });
  for (const body of [
    '{"error":{"message":"upstream model registry unavailable","type":"server_error"}}',
    '{"portal":"Accept the terms of use to continue"}',
  ]) {
    const words = body.includes('upstream') ? /it says "upstream model registry unavailable"/ : /terms of use/;
    await assert.rejects(
      listModels(replying(body)),
      failsWith('protocol', (e) => {
        assert.match(e.message, /has no "data" field/);
        assert.match(e.message, words);
      }),
    );
    await assert.rejects(
      chatCompletions({ ...hello, stream: false }, replying(body)),
      failsWith('protocol', (e) => assert.match(e.message, /has no "choices" field/)),
    );
    await assert.rejects(
      nativeEmbeddings(
        { model: 'nomic-embed-text', prompt: 'hi' },
        { host: fake.url, headers: replying(body).headers as Record<string, string> },
      ),
      failsWith('protocol', (e) => assert.match(e.message, /has no "embedding" field/)),
    );
  }
});
