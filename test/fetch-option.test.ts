// A `fetch` option whose Response is not a web one: node-fetch 2's body is a Node stream (async
// iterable, no `getReader`); React Native's has no body at all and a working `arrayBuffer()`. Each
// gets the same answers as the runtime's own fetch; a body of another kind is a TypeError that
// says so, made once, never retried. The responses come from the stand-in over loopback: the
// option wraps the real fetch's Response, it does not invent one.

import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeWebStream } from 'node:stream/web';
import { after, before, describe, test } from 'node:test';
import { chat, chatStream, type ChatRequest, embed, type FetchLike, listModels } from '../lib/index.ts';
import { chatCompletionsStream } from '../lib/openai/index.ts';
import { failsWith } from './support/assertions.ts';
import { collect } from './support/chunks.ts';
import { behaviourHeader, type FakeOllama, startFakeOllama } from './support/fake-ollama.ts';

let fake: FakeOllama;
before(async () => {
  fake = await startFakeOllama();
});
after(() => fake.close());

const hello: ChatRequest = { model: 'llama3.2', messages: [{ role: 'user', content: 'Hi there, llama' }] };

/** The fields a library reads of a Response, with `body` replaced. */
function shaped(response: Response, body: unknown): Response {
  return {
    ok: response.ok,
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
    url: response.url,
    body,
    text: () => response.text(),
    json: () => response.json(),
    arrayBuffer: () => response.arrayBuffer(),
  } as unknown as Response;
}

/** node-fetch 2's shape: the body a Node Readable. The streams made are kept, to look at. */
function nodeStyle(made: Readable[] = []): FetchLike {
  return async (input, init) => {
    const response = await fetch(input, init);
    const body = response.body === null ? null : Readable.fromWeb(response.body as NodeWebStream<Uint8Array>);
    if (body !== null) made.push(body);
    return shaped(response, body);
  };
}

/** React Native's shape: no body; the whole of it from `arrayBuffer()` or `text()`. */
const noBody: FetchLike = async (input, init) => shaped(await fetch(input, init), undefined);

describe('a fetch option whose body is a Node stream (node-fetch 2)', () => {
  test('chatStream gives every chunk the runtime fetch gives, in order', async () => {
    const expected = await collect(chatStream(hello, { host: fake.url }));
    const seen = await collect(chatStream(hello, { host: fake.url, fetch: nodeStyle() }));
    assert.ok(expected.length > 2);
    assert.deepEqual(seen, expected);
  });

  test('chat, embed and listModels give what the runtime fetch gives', async () => {
    const options = { host: fake.url, fetch: nodeStyle() };
    assert.deepEqual(await chat(hello, options), await chat(hello, { host: fake.url }));
    const input = { model: 'llama3.2', input: ['one', 'two'] };
    assert.deepEqual((await embed(input, options)).embeddings, (await embed(input, { host: fake.url })).embeddings);
    assert.deepEqual(await listModels(options), await listModels({ host: fake.url }));
  });

  test('an HTTP 400 is kind http with the server words, from the Node stream', async () => {
    const headers = behaviourHeader({ errorAfter: 0, errorStatus: 400, errorText: 'invalid options: num_ctx' });
    await assert.rejects(
      chat(hello, { host: fake.url, fetch: nodeStyle(), headers }),
      failsWith('http', (error) => {
        assert.equal(error.status, 400);
        assert.match(error.message, /invalid options: num_ctx/);
      }),
    );
  });

  test('a /v1 event stream reads the same', async () => {
    const request = { model: 'llama3.2', messages: [{ role: 'user' as const, content: 'Hi' }] };
    const expected = await collect(chatCompletionsStream(request, { host: fake.url }));
    const seen = await collect(chatCompletionsStream(request, { host: fake.url, fetch: nodeStyle() }));
    assert.ok(expected.length > 1);
    assert.deepEqual(seen, expected);
  });

  test('a break destroys the Node stream (the connection is not read on)', async () => {
    const made: Readable[] = [];
    const headers = behaviourHeader({ chunkDelayMs: 20 });
    for await (const _ of chatStream(hello, { host: fake.url, fetch: nodeStyle(made), headers })) break;
    assert.equal(made.length, 1);
    const [body] = made as [Readable];
    for (let i = 0; i < 50 && !body.destroyed; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(body.destroyed, true);
  });
});

describe('a fetch option whose Response has no body (React Native)', () => {
  test('chatStream gives every chunk, at once at the end', async () => {
    const expected = await collect(chatStream(hello, { host: fake.url }));
    assert.deepEqual(await collect(chatStream(hello, { host: fake.url, fetch: noBody })), expected);
  });

  test('chat gives the answer; an HTTP 500 keeps its words', async () => {
    assert.deepEqual(await chat(hello, { host: fake.url, fetch: noBody }), await chat(hello, { host: fake.url }));
    const headers = behaviourHeader({ errorAfter: 0, errorText: 'model runner crashed' });
    await assert.rejects(
      chat(hello, { host: fake.url, fetch: noBody, headers, retry: { retries: 0 } }),
      failsWith('http', (error) => assert.match(error.message, /model runner crashed/)),
    );
  });

  test('with text() only, the same answer', async () => {
    const textOnly: FetchLike = async (input, init) => {
      const response = await fetch(input, init);
      return { ...shaped(response, null), arrayBuffer: undefined } as unknown as Response;
    };
    assert.deepEqual(await chat(hello, { host: fake.url, fetch: textOnly }), await chat(hello, { host: fake.url }));
  });
});

test('a body of another kind is a TypeError naming it, after one request, not retried', async () => {
  let calls = 0;
  const odd: FetchLike = async (input, init) => {
    calls++;
    const response = await fetch(input, init);
    await response.body?.cancel();
    return shaped(response, { chunks: [] });
  };
  await assert.rejects(chat(hello, { host: fake.url, fetch: odd }), (error: unknown) => {
    assert.ok(error instanceof TypeError);
    assert.match(error.message, /whose body \(object\) is neither a ReadableStream nor async iterable/);
    return true;
  });
  assert.equal(calls, 1);
});
