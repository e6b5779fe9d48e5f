// Issue 12 items 13 and 14: messages that say what to do next (408, 429, 504, a 401 with
// `signin_url`, an HTML page where JSON was asked), `status` on every protocol error raised
// after a response arrived, and the answers real servers send that the old checks refused
// (showModel without `model_info`). On the old code: 408 and 429 had no advice, a 504 with a
// JSON body said "its log has the details", the HTML page had no hint, the protocol errors
// below had no status, and a cloud model's show answer was a protocol error.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { chat, listModels, listRunning, showModel, version } from '../lib/index.ts';
import { chatCompletions } from '../lib/openai/index.ts';
import { failsWith } from './support/assertions.ts';
import { behaviourHeader, statusReply } from './support/fake-ollama.ts';
import { withFake } from './support/with-fake.ts';

const hello = { model: 'llama3.2', messages: [{ role: 'user' as const, content: 'Hi there, llama' }] };

/** Headers that make the stand-in answer exactly this, on any path. */
function answering(status: number, body: string, type = 'application/json; charset=utf-8', extra = {}) {
  return behaviourHeader({ respond: { status, headers: { 'content-type': type, ...extra }, body } });
}

describe('each status says what to do', { concurrency: true }, () => {
  test('408: the request did not arrive in time; retried by default; a proxy timeout may be short', () =>
    withFake(async (fake) => {
      await assert.rejects(
        chat(hello, { host: fake.url, retry: false, headers: answering(408, '') }),
        failsWith('http', (error) => {
          assert.equal(error.status, 408);
          assert.match(error.message, /arrived too slowly; it is retried.*proxy's request timeout/s);
        }),
      );
    }));

  test('429: rate limited, with the Retry-After it sent or the backoff, and what to change', () =>
    withFake(async (fake) => {
      const limited = behaviourHeader(statusReply(429, '2', 'too many requests'));
      await assert.rejects(
        chat(hello, { host: fake.url, retry: false, headers: limited }),
        failsWith('http', (error) => {
          assert.equal(error.retryAfter, 2000);
          assert.match(
            error.message,
            /too many requests.*Rate limited: retries wait the 2000 ms asked for \(up to retry\.maxRetryAfter\)/s,
          );
          assert.match(error.message, /fewer requests at once/);
        }),
      );
      await assert.rejects(
        chat(hello, { host: fake.url, retry: false, headers: answering(429, '{"error":"rate limit"}') }),
        failsWith('http', (error) =>
          assert.match(error.message, /Rate limited: retries wait the backoff; send fewer requests at once/),
        ),
      );
    }));

  test("504: a gateway timed out; raise the proxy's timeout, and no word about the server's log", () =>
    withFake(async (fake) => {
      for (const headers of [
        answering(504, '{"error":"upstream request timeout"}'),
        answering(504, '<html><title>504 Gateway Time-out</title></html>', 'text/html'),
      ]) {
        await assert.rejects(
          chat(hello, { host: fake.url, retry: false, headers }),
          failsWith('http', (error) => {
            assert.match(
              error.message,
              /gateway timed out waiting for Ollama.*raise its read timeout \(nginx proxy_read_timeout\)/s,
            );
            assert.doesNotMatch(error.message, /log/);
          }),
        );
      }
    }));

  test('401 with signin_url: the URL is in the message as the next step', () =>
    withFake(async (fake) => {
      const url = 'https://ollama.com/connect?name=box&key=c3NoLWVkMjU1MTk';
      const body = JSON.stringify({ error: 'unauthorized', signin_url: url });
      await assert.rejects(
        chat({ ...hello, model: 'gpt-oss:120b-cloud' }, { host: fake.url, headers: answering(401, body) }),
        failsWith('http', (error) => {
          assert.equal(error.status, 401);
          assert.ok(error.message.includes(`open ${url}`), error.message);
          assert.match(error.message, /ollama signin/);
        }),
      );
    }));
});

describe("Ollama's own 403s", { concurrency: true }, () => {
  test('an empty 403 (its Host or CORS check): the Host advice as well as the origins one', () =>
    withFake(async (fake) => {
      await assert.rejects(
        chat(hello, { host: fake.url, retry: false, headers: answering(403, '', 'text/plain') }),
        failsWith('http', (error) => {
          assert.equal(error.status, 403);
          assert.match(error.message, /Host header/);
          assert.match(error.message, /127\.0\.0\.1 or localhost/);
          assert.match(error.message, /OLLAMA_ORIGINS/);
        }),
      );
    }));

  test('cloud turned off: says so, and no word about credentials', () =>
    withFake(async (fake) => {
      const body = '{"error":"ollama cloud is disabled: remote inference is unavailable"}';
      await assert.rejects(
        chat(
          { ...hello, model: 'gpt-oss:120b-cloud' },
          { host: fake.url, retry: false, headers: answering(403, body) },
        ),
        failsWith('http', (error) => {
          assert.match(error.message, /cloud is disabled.*cloud models turned off \(OLLAMA_NO_CLOUD/s);
          assert.doesNotMatch(error.message, /credentials|API key/);
        }),
      );
    }));

  test('a 403 with words of its own keeps the credentials and origins advice', () =>
    withFake(async (fake) => {
      await assert.rejects(
        chat(hello, { host: fake.url, retry: false, headers: answering(403, '{"error":"forbidden"}') }),
        failsWith('http', (error) => assert.match(error.message, /check the credentials.*OLLAMA_ORIGINS/s)),
      );
    }));
});

describe('an HTML page where JSON was asked', { concurrency: true }, () => {
  const page = '<!DOCTYPE html><html><head><title>Sign in · Portal</title></head><body>login</body></html>';
  for (const [name, call] of [
    ['listModels', listModels],
    ['listRunning', listRunning],
    ['version', version],
  ] as const) {
    test(`${name}: a protocol error with status 200 and a hint (host, port, prefix, a login page)`, () =>
      withFake(async (fake) => {
        await assert.rejects(
          call({ host: fake.url, headers: answering(200, page, 'text/html; charset=utf-8') }),
          failsWith('protocol', (error) => {
            assert.equal(error.status, 200);
            assert.match(
              error.message,
              /not JSON.*web page: check the host, port \(Ollama's is 11434\) and path prefix, or a proxy wants a login/s,
            );
          }),
        );
      }));
  }
});

describe('status on every protocol error raised after a response arrived', { concurrency: true }, () => {
  test('a line that is not JSON, a line over the limit, a body over the limit, not an object, no final chunk', () =>
    withFake(async (fake) => {
      const cases: Array<[() => Promise<unknown>, number]> = [
        [() => chat(hello, { host: fake.url, headers: behaviourHeader({ garbageAfter: 1 }) }), 200],
        [() => chat(hello, { host: fake.url, maxLineLength: 20 }), 200],
        [() => listModels({ host: fake.url, maxLineLength: 20 }), 200],
        [() => listModels({ host: fake.url, headers: answering(200, 'plain words', 'text/plain') }), 200],
        [() => listModels({ host: fake.url, headers: answering(200, '[1]') }), 200],
        [() => chat(hello, { host: fake.url, headers: answering(200, '[1]\n', 'application/x-ndjson') }), 200],
        [() => chat(hello, { host: fake.url, headers: behaviourHeader({ omitDone: true }) }), 200],
      ];
      for (const [index, [call, status]] of cases.entries()) {
        await assert.rejects(
          call(),
          failsWith('protocol', (error) => assert.equal(error.status, status, `case ${index}: ${error.message}`)),
        );
      }
    }));
});

describe('answers real servers send', { concurrency: true }, () => {
  test('showModel accepts a cloud model answer without model_info', () =>
    withFake(async (fake) => {
      const cloud = {
        modelfile: '# Modelfile generated by "ollama show"\nFROM gpt-oss:120b-cloud\n',
        template: '{{ .Prompt }}',
        details: { format: '', family: 'gptoss', parameter_size: '116.8B', quantization_level: 'MXFP4' },
        capabilities: ['completion', 'tools', 'thinking'],
        remote_model: 'gpt-oss:120b',
        remote_host: 'https://ollama.com:443',
        modified_at: '2026-03-03T23:25:47.655153627Z',
      };
      const shown = await showModel(
        { model: 'gpt-oss:120b-cloud' },
        { host: fake.url, headers: answering(200, JSON.stringify(cloud)) },
      );
      assert.equal(shown.model_info, undefined);
      assert.equal(shown.remote_model, 'gpt-oss:120b');
    }));

  test('showModel still refuses a 200 that has none of model_info, modelfile, template, details', () =>
    withFake(async (fake) => {
      for (const body of ['{"ok":true}', '{}', '[]', '{"capabilities":["completion"]}']) {
        await assert.rejects(
          showModel({ model: 'llama3.2' }, { host: fake.url, headers: answering(200, body) }),
          failsWith('protocol', (error) => {
            assert.equal(error.status, 200);
            assert.match(error.message, /no "model_info" or "modelfile" or "template" or "details" field/);
          }),
        );
      }
    }));

  test('a recorded ollama.com stream: tool calls without index, prompt_eval_cached_count and remote_* pass through', () =>
    withFake(async (fake) => {
      const lines = [
        {
          model: 'qwen3:latest',
          created_at: '2026-09-01T10:00:00Z',
          message: { role: 'assistant', content: '', tool_calls: [{ function: { name: 'f', arguments: { x: 1 } } }] },
          done: false,
        },
        {
          model: 'qwen3:latest',
          created_at: '2026-09-01T10:00:01Z',
          message: { role: 'assistant', content: '' },
          done: true,
          done_reason: 'stop',
          prompt_eval_count: 30,
          prompt_eval_cached_count: 24,
          remote_model: 'qwen3:480b',
          remote_host: 'https://ollama.com:443',
        },
      ];
      const body = `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`;
      const reply = await chat(hello, { host: fake.url, headers: answering(200, body, 'application/x-ndjson') });
      assert.equal(reply.prompt_eval_cached_count, 24);
      assert.equal(reply.remote_model, 'qwen3:480b');
      assert.equal(reply.message.tool_calls?.[0]?.function.index, undefined);
      assert.equal(reply.message.tool_calls?.[0]?.function.name, 'f');
    }));
});

test('a reason phrase that quotes the credential is redacted in the message, native and /v1', async () => {
  const key = 'sk-reason-phrase-0123456789';
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(401, `Rejected Bearer ${key}`, { 'content-type': 'application/json' });
      res.end('{"error":"unauthorized"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (const call of [
      () => chat(hello, { host, apiKey: key, retry: false }),
      () => chatCompletions(hello, { baseURL: `${host}/v1`, apiKey: key, retry: false }),
    ]) {
      await assert.rejects(
        call(),
        failsWith('http', (error) => {
          assert.ok(!error.message.includes(key), error.message);
          assert.match(error.message, /401 Rejected Bearer \[redacted\]/);
        }),
      );
    }
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
