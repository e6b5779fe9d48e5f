// Which failures are retried, how long each wait is, and that no token is ever sent twice.
// Each test has a stand-in of its own, so their queues cannot mix while they run together.

import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, test } from 'node:test';
import {
  chat,
  chatStream,
  embed,
  OllamaError,
  type ChatRequest,
  type ChatResponse,
  type RetryInfo,
} from '../lib/index.ts';
import { retryDelay } from '../lib/internal/retry-policy.ts';
import { resolveOptions } from '../lib/internal/resolve-options.ts';
import { failsWith, TIMER_SLACK as SLACK } from './support/assertions.ts';
import { collect } from './support/chunks.ts';
import { startFakeOllama, statusReply, type FakeOllama } from './support/fake-ollama.ts';
import { withFake } from './support/with-fake.ts';

const hello: ChatRequest = { model: 'llama3.2', messages: [{ role: 'user', content: 'Hi there, llama' }] };

/** Every onRetry call, and when it came. */
function recorder(): { waits: Array<RetryInfo & { at: number }>; onRetry: (info: RetryInfo) => void } {
  const waits: Array<RetryInfo & { at: number }> = [];
  return { waits, onRetry: (info) => void waits.push({ ...info, at: performance.now() }) };
}

describe('statuses', { concurrency: true }, () => {
  test('503 twice then 200: 3 attempts, each wait exactly the Retry-After of 1 s', () =>
    withFake(async (fake) => {
      fake.script(statusReply(503, '1'), statusReply(503, '1'), {});
      const { waits, onRetry } = recorder();
      const reply = await chat(hello, { host: fake.url, retry: { onRetry } });
      assert.equal(reply.done, true);
      assert.equal(fake.requests.length, 3);
      assert.deepEqual(
        waits.map((w) => [w.attemptNumber, w.retriesLeft, w.delay]),
        [
          [1, 2, 1000],
          [2, 1, 1000],
        ],
      );
      for (const wait of waits) {
        assert.ok(
          failsWith('http', (error) => {
            assert.equal(error.status, 503);
            assert.equal(error.retryAfter, 1000);
          })(wait.error),
        );
      }
      // The gaps the server saw between the attempts are the waits.
      for (const k of [1, 2]) {
        const gap = fake.requests[k]!.receivedAt - fake.requests[k - 1]!.receivedAt;
        assert.ok(gap >= 990 && gap < 1000 + SLACK, `gap ${k}: ${Math.round(gap)} ms`);
      }
    }));

  test('the failed answer is read or cancelled before the retry, so its connection is freed', () =>
    withFake(async (fake) => {
      // 1 MB of error page: more than the 64 KiB the error reader keeps.
      fake.script(
        {
          respond: {
            status: 502,
            headers: { 'content-type': 'text/html' },
            body: `<title>Bad Gateway</title>${'x'.repeat(1 << 20)}`,
          },
        },
        {},
      );
      await chat(hello, { host: fake.url, retry: { baseDelay: 10 } });
      const [failed, retried] = fake.requests;
      assert.ok(failed?.closedAt !== undefined && retried !== undefined && failed.closedAt <= retried.receivedAt);
    }));

  test('Retry-After: 3600 fails at once with the http error and the wait it asked for', () =>
    withFake(async (fake) => {
      fake.script(statusReply(503, '3600'), {});
      const started = performance.now();
      await assert.rejects(
        chat(hello, { host: fake.url }),
        failsWith('http', (error) => {
          assert.equal(error.status, 503);
          assert.equal(error.retryAfter, 3_600_000);
          assert.equal(error.attempts, 1);
          assert.match(error.message, /asked to wait 3600 s .*longer than retry\.maxRetryAfter \(60 s\)/);
        }),
      );
      assert.ok(performance.now() - started < 1000);
      assert.equal(fake.requests.length, 1);
    }));

  test('Retry-After as an HTTP date is obeyed too', () =>
    withFake(async (fake) => {
      const date = new Date(Date.now() + 2000).toUTCString();
      fake.script(statusReply(429, date), {});
      const { waits, onRetry } = recorder();
      await chat(hello, { host: fake.url, retry: { onRetry } });
      assert.equal(fake.requests.length, 2);
      // HTTP dates have whole seconds, so the wait is between 1 and 2 s.
      assert.ok(waits[0]!.delay > 900 && waits[0]!.delay <= 2000, `waited ${waits[0]!.delay} ms`);
    }));

  test('a wait above maxDelay is still obeyed when the server asks for it', () =>
    withFake(async (fake) => {
      fake.script(statusReply(503, '2'), {});
      const { waits, onRetry } = recorder();
      await chat(hello, { host: fake.url, retry: { maxDelay: 100, onRetry } });
      assert.equal(waits[0]!.delay, 2000);
    }));

  for (const [status, text] of [
    [500, 'model runner has unexpectedly stopped'],
    [400, 'invalid options: foo'],
    [404, "model 'x' not found"],
  ] as const) {
    test(`${status}: one attempt`, () =>
      withFake(async (fake) => {
        fake.script(statusReply(status, undefined, text), {});
        await assert.rejects(
          chat(hello, { host: fake.url, retry: { baseDelay: 10 } }),
          failsWith('http', (error) => {
            assert.equal(error.status, status);
            assert.equal(error.attempts, 1);
          }),
        );
        assert.equal(fake.requests.length, 1);
      }));
  }

  test('statusCodes decides: 500 retried when listed, 503 not when left out', () =>
    withFake(async (fake) => {
      fake.script(statusReply(500), {});
      await chat(hello, { host: fake.url, retry: { statusCodes: [500], baseDelay: 10 } });
      assert.equal(fake.requests.length, 2);
      fake.script(statusReply(503), {});
      await assert.rejects(
        chat(hello, { host: fake.url, retry: { statusCodes: [500], baseDelay: 10 } }),
        failsWith('http'),
      );
      assert.equal(fake.requests.length, 3);
    }));

  test('without Retry-After the backoff doubles, with jitter, under maxDelay', () =>
    withFake(async (fake) => {
      fake.script(statusReply(502), statusReply(502), statusReply(502), {});
      const { waits, onRetry } = recorder();
      await chat(hello, { host: fake.url, retry: { retries: 3, baseDelay: 200, maxDelay: 500, onRetry } });
      const delays = waits.map((w) => w.delay);
      assert.ok(delays[0]! >= 100 && delays[0]! <= 200, String(delays));
      assert.ok(delays[1]! >= 200 && delays[1]! <= 400, String(delays));
      assert.ok(delays[2]! >= 250 && delays[2]! <= 500, String(delays));
    }));

  test('retry: false and retry: 0 make one attempt; retry: 1 makes two', () =>
    withFake(async (fake) => {
      for (const retry of [false, 0] as const) {
        fake.script(statusReply(503));
        await assert.rejects(chat(hello, { host: fake.url, retry }), failsWith('http'));
      }
      assert.equal(fake.requests.length, 2);
      fake.script(statusReply(503, '0'), statusReply(503, '0'), {});
      await assert.rejects(
        chat(hello, { host: fake.url, retry: 1 }),
        failsWith('http', (error) => assert.equal(error.attempts, 2)),
      );
      assert.equal(fake.requests.length, 4);
    }));
});

describe('connections', { concurrency: true }, () => {
  test('refused, then the stand-in starts listening 1.5 s later: a later attempt succeeds', async () => {
    const port = await freePort();
    const { waits, onRetry } = recorder();
    let fake: FakeOllama | undefined;
    const late = new Promise<void>((resolve, reject) => {
      setTimeout(
        () =>
          startFakeOllama({ port }).then((started) => {
            fake = started;
            resolve();
          }, reject),
        1500,
      );
    });
    try {
      const reply = await chat(hello, {
        host: `http://127.0.0.1:${port}`,
        retry: { retries: 6, baseDelay: 500, onRetry },
      });
      assert.equal(reply.done, true);
      assert.ok(waits.length >= 1);
      for (const wait of waits)
        assert.ok(failsWith('connection', (error) => assert.equal(error.code, 'ECONNREFUSED'))(wait.error));
      assert.equal(fake?.requests.length, 1);
    } finally {
      await late;
      await fake?.close();
    }
  });

  test('reset after 2 chunks: chatStream yields 2 chunks, then kind connection, and only one request was made', () =>
    withFake(async (fake) => {
      fake.script({ resetAfter: 2 }, {});
      const seen: ChatResponse[] = [];
      await assert.rejects(
        collect(chatStream(hello, { host: fake.url, retry: { baseDelay: 10 } }), seen),
        failsWith('connection', (error) => {
          assert.equal(error.attempts, 1);
          assert.match(error.message, /after 2 chunk\(s\)/);
        }),
      );
      assert.equal(seen.length, 2);
      assert.equal(fake.requests.length, 1);
    }));

  test('reset after 2 chunks: chat had handed nothing out, so it retries and succeeds', () =>
    withFake(async (fake) => {
      fake.script({ resetAfter: 2 }, {});
      const reply = await chat(hello, { host: fake.url, retry: { baseDelay: 10 } });
      assert.equal(reply.message.content, ((await fake.expected('/api/chat', hello)) as ChatResponse).message.content);
      assert.equal(fake.requests.length, 2);
    }));

  test('a stream that fails before its first chunk is retried: nothing had reached the caller', () =>
    withFake(async (fake) => {
      fake.script({ closeAfter: 0 }, statusReply(502), {});
      const chunks = await collect(chatStream(hello, { host: fake.url, retry: { baseDelay: 10 } }));
      assert.equal(chunks.at(-1)?.done, true);
      assert.equal(fake.requests.length, 3);
    }));

  test('embed, answered as one object, retries a connection dropped mid-body', () =>
    withFake(async (fake) => {
      fake.script({ closeAfter: 0 }, {});
      const reply = await embed(
        { model: 'nomic-embed-text', input: ['a', 'b'] },
        { host: fake.url, retry: { baseDelay: 10 } },
      );
      assert.equal(reply.embeddings.length, 2);
      assert.equal(fake.requests.length, 2);
    }));

  test('an error reported inside the stream, or a malformed one, is not retried', () =>
    withFake(async (fake) => {
      fake.script({ errorAfter: 2 });
      await assert.rejects(chat(hello, { host: fake.url, retry: { baseDelay: 10 } }), failsWith('stream'));
      fake.script({ garbageAfter: 1 });
      await assert.rejects(chat(hello, { host: fake.url, retry: { baseDelay: 10 } }), failsWith('protocol'));
      assert.equal(fake.requests.length, 2);
    }));
});

describe('totalTimeout and the waits', { concurrency: true }, () => {
  test('totalTimeout 2500 against 503 with Retry-After 1: total-timeout, without starting a wait that ends too late', () =>
    withFake(async (fake) => {
      fake.script(...Array.from({ length: 6 }, () => statusReply(503, '1')));
      const started = performance.now();
      await assert.rejects(
        chat(hello, { host: fake.url, totalTimeout: 2500, retry: { retries: 5 } }),
        failsWith('total-timeout', (error) => {
          assert.equal(error.attempts, 3);
          assert.ok(error.cause instanceof OllamaError && error.cause.status === 503);
          assert.match(error.message, /within totalTimeout \(2500 ms\)\. The last attempt failed \(http 503\)/);
        }),
      );
      const ms = performance.now() - started;
      // Attempts at 0, 1 and 2 s; a third wait would end at 3 s, past the deadline, so it fails at 2 s.
      assert.ok(ms >= 1900 && ms < 2500 + SLACK, `failed after ${Math.round(ms)} ms`);
      assert.equal(fake.requests.length, 3);
    }));
});

describe('which failures are worth another attempt (the decision alone)', () => {
  const policy = resolveOptions({}).retry;
  const connection = (code: string | undefined, cause?: unknown) =>
    new OllamaError({ kind: 'connection', message: 'x', code, cause });
  const cases: Array<[string, unknown, boolean]> = [
    ['ECONNREFUSED', connection('ECONNREFUSED'), true],
    ['ECONNRESET', connection('ECONNRESET'), true],
    ['UND_ERR_SOCKET (closed before the response)', connection('UND_ERR_SOCKET'), true],
    ['EAI_AGAIN (temporary DNS failure)', connection('EAI_AGAIN'), true],
    ['a browser\'s bare "Failed to fetch"', connection(undefined, new TypeError('Failed to fetch')), true],
    ['ENOTFOUND', connection('ENOTFOUND'), false],
    [
      'a port fetch refuses',
      connection(undefined, Object.assign(new TypeError('fetch failed'), { cause: new Error('bad port') })),
      false,
    ],
    ['connect-timeout', new OllamaError({ kind: 'connect-timeout', message: 'x' }), true],
    ['read-timeout', new OllamaError({ kind: 'read-timeout', message: 'x' }), false],
    ['stream', new OllamaError({ kind: 'stream', message: 'x', status: 200 }), false],
    ['protocol', new OllamaError({ kind: 'protocol', message: 'x' }), false],
    ['http 408', new OllamaError({ kind: 'http', message: 'x', status: 408 }), true],
    ['http 429', new OllamaError({ kind: 'http', message: 'x', status: 429 }), true],
    ['http 504', new OllamaError({ kind: 'http', message: 'x', status: 504 }), true],
    ['http 500', new OllamaError({ kind: 'http', message: 'x', status: 500 }), false],
    ['http 401', new OllamaError({ kind: 'http', message: 'x', status: 401 }), false],
    ['a user abort (not an OllamaError)', new DOMException('stop', 'AbortError'), false],
  ];
  for (const [name, error, retried] of cases) {
    test(`${name}: ${retried ? 'retried' : 'not retried'}`, () => {
      assert.equal(retryDelay(error, 1234, policy), retried ? 1234 : false);
    });
  }
});

/** A loopback port that nothing listens on (just now). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
