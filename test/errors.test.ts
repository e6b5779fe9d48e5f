import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connectionError, failureCode } from '../lib/internal/connection-error.ts';
import { readEnv } from '../lib/host.ts';
import { chat, chatStream, embed, isOllamaError, OllamaError } from '../lib/index.ts';
import { failsWith } from './support/assertions.ts';
import { collect } from './support/chunks.ts';
import { startFakeOllama, type FakeOllama } from './support/fake-ollama.ts';

let fake: FakeOllama;
before(async () => {
  fake = await startFakeOllama();
});
after(() => fake.close());

const hello = { model: 'llama3.2', messages: [{ role: 'user' as const, content: 'hi' }] };

function answer(status: number, body: string, type = 'application/json; charset=utf-8'): void {
  fake.script({ respond: { status, headers: { 'content-type': type }, body } });
}

describe('how each runtime reports a failed connection is recognised', () => {
  // The shapes measured in runtime-feasibility.md §1.3: undici puts the code on `cause`,
  // Bun on the error itself, Deno only says it in words.
  const cases: Array<[string, unknown, string]> = [
    [
      'undici refused',
      Object.assign(new TypeError('fetch failed'), {
        cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      }),
      'ECONNREFUSED',
    ],
    ['Bun reset', Object.assign(new TypeError('socket closed'), { code: 'ECONNRESET' }), 'ECONNRESET'],
    [
      'Deno refused',
      new TypeError('error sending request: tcp connect error: Connection refused (os error 111)'),
      'ECONNREFUSED',
    ],
    [
      'Deno reset',
      new TypeError('error reading a body from connection: Connection reset by peer (os error 104)'),
      'ECONNRESET',
    ],
    ['Deno closed', new TypeError('client error: connection closed before message completed'), 'UND_ERR_SOCKET'],
    [
      'Deno DNS',
      new TypeError('dns error: failed to lookup address information: Name or service not known'),
      'ENOTFOUND',
    ],
    ['Deno DNS temporary', new TypeError('dns error: Temporary failure in name resolution'), 'EAI_AGAIN'],
    ['Deno timeout', new TypeError('tcp connect error: Connection timed out (os error 110)'), 'ETIMEDOUT'],
    [
      'undici socket',
      Object.assign(new TypeError('terminated'), {
        cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
      }),
      'UND_ERR_SOCKET',
    ],
  ];
  for (const [name, error, code] of cases) {
    test(`${name} → ${code}`, () => assert.equal(failureCode(error), code));
  }

  test('an unrecognised failure keeps its innermost message', () => {
    const error = connectionError(new TypeError('fetch failed', { cause: new Error('something odd') }), {
      method: 'POST',
      url: 'http://h:1/api/chat',
      base: 'http://h:1',
      local: false,
      model: undefined,
      notFound: undefined,
    });
    assert.match(error.message, /something odd/);
    assert.equal(failureCode('not an error'), undefined);
  });

  const context = {
    method: 'POST',
    url: 'http://gpu-box:11434/api/chat',
    base: 'http://gpu-box:11434',
    local: false,
    model: undefined,
    notFound: undefined,
  };
  test('a remote host that refuses gets firewall advice, not `ollama serve`', () => {
    const error = connectionError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), context);
    assert.match(error.message, /OLLAMA_HOST=0\.0\.0\.0/);
    assert.doesNotMatch(error.message, /ollama serve/);
  });
  test('an unknown host name says to check the host', () => {
    const error = connectionError(Object.assign(new Error('x'), { code: 'ENOTFOUND' }), context);
    assert.match(error.message, /host name not found.*Check the host name/s);
  });
  test('a failure mid-body says how many chunks had arrived', () => {
    const error = connectionError(Object.assign(new Error('x'), { code: 'ECONNRESET' }), context, 7);
    assert.match(error.message, /after 7 chunk\(s\).*incomplete/s);
    const whole = connectionError(Object.assign(new Error('x'), { code: 'ECONNRESET' }), context, 0);
    assert.match(whole.message, /failed while reading the answer to POST \S+ \(connection reset/);
  });
});

describe('HTTP statuses each get their own next step', () => {
  test("401 and an empty 403 (Ollama's CORS and host checks) point at credentials and OLLAMA_ORIGINS", async () => {
    // Without signin_url: a proxy's or a server's own 401 (with one, see advice.test.ts).
    answer(401, '{"error":"unauthorized"}');
    await assert.rejects(
      chat(hello, { host: fake.url }),
      failsWith('http', (error) => {
        assert.equal(error.status, 401);
        assert.match(error.message, /unauthorized.*credentials/s);
      }),
    );
    answer(403, '', 'text/plain');
    await assert.rejects(
      chat(hello, { host: fake.url }),
      failsWith('http', (error) => {
        assert.match(error.message, /empty body.*OLLAMA_ORIGINS/s);
      }),
    );
  });

  test("a wrong path prefix gives gin's plain 404, explained as a path problem", async () => {
    await assert.rejects(
      chat(hello, { host: `${fake.url}/not-ollama` }),
      failsWith('http', (error) => {
        assert.equal(error.status, 404);
        assert.match(error.message, /404 page not found.*path/s);
        assert.doesNotMatch(error.message, /ollama pull/);
      }),
    );
  });

  test('503 server busy, 400 bad request, and the /v1 nested error shape', async () => {
    answer(503, '{"error":"server busy, please try again.  maximum pending requests exceeded"}');
    // One attempt: the message is the subject here, not the retry (retries.test.ts).
    await assert.rejects(
      chat(hello, { host: fake.url, retry: false }),
      failsWith('http', (error) => assert.match(error.message, /server busy.*try again shortly/s)),
    );
    answer(400, '{"error":"top_logprobs must be between 0 and 20"}');
    await assert.rejects(
      chat(hello, { host: fake.url }),
      failsWith('http', (error) => assert.match(error.message, /top_logprobs.*invalid/s)),
    );
    answer(400, '{"error":{"message":"invalid tool call arguments","type":"invalid_request_error"}}');
    await assert.rejects(
      chat(hello, { host: fake.url }),
      failsWith('http', (error) => assert.match(error.message, /invalid tool call arguments/)),
    );
  });

  test('a long plain-text error body is shortened in the message and kept whole on the error', async () => {
    const text = `upstream failure: ${'detail '.repeat(200)}`;
    answer(500, text, 'text/plain');
    await assert.rejects(
      chat(hello, { host: fake.url }),
      failsWith('http', (error) => {
        assert.ok(error.message.length < 500);
        assert.equal(error.body, text);
      }),
    );
  });

  test('an HTML page without a title is reduced to its words', async () => {
    answer(
      504,
      `<html><body><script>var x = 1;</script><h1>Gateway Timeout</h1>${'<div></div>'.repeat(300)}</body></html>`,
      'text/html',
    );
    await assert.rejects(
      chat(hello, { host: fake.url, retry: false }),
      failsWith('http', (error) => {
        assert.match(error.message, /Gateway Timeout/);
        assert.doesNotMatch(error.message, /var x|<h1>/);
      }),
    );
  });
});

describe('a 200 answer that is not what Ollama sends', () => {
  test('a JSON value that is not an object is a protocol error', async () => {
    answer(200, '[1,2]\n', 'application/x-ndjson');
    await assert.rejects(
      chat(hello, { host: fake.url }),
      failsWith('protocol', (error) => assert.match(error.message, /not a JSON object/)),
    );
  });

  test('data after the final done chunk is a protocol error', async () => {
    const done = '{"model":"m","created_at":"t","message":{"role":"assistant","content":""},"done":true}';
    answer(200, `${done}\n${done}\n`, 'application/x-ndjson');
    const chunks: unknown[] = [];
    await assert.rejects(
      collect(chatStream(hello, { host: fake.url }), chunks),
      failsWith('protocol', (error) => assert.match(error.message, /after its final chunk/)),
    );
    assert.equal(chunks.length, 1);
  });

  test('a 204 with no body is a stream without its final chunk', async () => {
    fake.script({ respond: { status: 204 } });
    await assert.rejects(chat(hello, { host: fake.url }), failsWith('protocol'));
  });

  test('an {"error"} object as the whole application/json answer is a stream error', async () => {
    answer(200, '{"error":"model runner has unexpectedly stopped"}');
    await assert.rejects(
      chat(hello, { host: fake.url }),
      failsWith('stream', (error) => assert.match(error.message, /unexpectedly stopped/)),
    );
  });

  test('a JSON body over maxLineLength is a protocol error, not unbounded memory', async () => {
    await assert.rejects(
      embed({ model: 'nomic-embed-text', input: ['a', 'b', 'c'] }, { host: fake.url, maxLineLength: 50 }),
      failsWith('protocol', (error) => assert.match(error.message, /larger than the limit of 50 bytes/)),
    );
  });
});

describe('small guarantees', () => {
  test('isOllamaError recognises an error from another copy of the library by its shape', () => {
    assert.equal(isOllamaError(new OllamaError({ kind: 'http', message: 'x' })), true);
    assert.equal(isOllamaError(Object.assign(new Error('x'), { name: 'OllamaError', kind: 'http' })), true);
    assert.equal(isOllamaError(new Error('x')), false);
    assert.equal(isOllamaError(null), false);
  });

  test('readEnv asks Deno only when env access is granted, and never throws', () => {
    const scope = globalThis as { Deno?: unknown };
    try {
      scope.Deno = {
        env: { get: (name: string) => `deno:${name}` },
        permissions: { querySync: () => ({ state: 'granted' }) },
      };
      assert.equal(readEnv('OLLAMA_HOST'), 'deno:OLLAMA_HOST');
      scope.Deno = { env: { get: () => 'secret' }, permissions: { querySync: () => ({ state: 'prompt' }) } };
      assert.equal(readEnv('OLLAMA_HOST'), undefined);
      scope.Deno = {
        env: {
          get: () => {
            throw new Error('NotCapable');
          },
        },
      };
      assert.equal(readEnv('OLLAMA_HOST'), undefined);
    } finally {
      delete scope.Deno;
    }
    const saved = process.env.OLLAMA_FETCH_TEST;
    process.env.OLLAMA_FETCH_TEST = 'node';
    assert.equal(readEnv('OLLAMA_FETCH_TEST'), 'node');
    if (saved === undefined) delete process.env.OLLAMA_FETCH_TEST;
  });
});
