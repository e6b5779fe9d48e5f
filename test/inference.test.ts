import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { after, before, describe, test } from 'node:test';
import {
  chat,
  chatStream,
  embed,
  embeddings,
  generate,
  generateStream,
  type ChatRequest,
  type ChatResponse,
  type GenerateRequest,
} from '../lib/index.ts';
import { failsWith } from './support/assertions.ts';
import { collect } from './support/chunks.ts';
import { startFakeOllama, type Behaviour, type FakeOllama, type RecordedRequest } from './support/fake-ollama.ts';

let fake: FakeOllama;
let host: string;
before(async () => {
  fake = await startFakeOllama();
  host = fake.url;
});
after(() => fake.close());

const hello: ChatRequest = { model: 'llama3.2', messages: [{ role: 'user', content: 'Hi there, llama' }] };
const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: { type: 'object', required: ['city'], properties: { city: { type: 'string' } } },
  },
};

/** What the stand-in itself answers for `stream: false`, asked with plain fetch. */
async function serverAnswer(path: string, body: object, behaviour?: Behaviour): Promise<unknown> {
  if (behaviour !== undefined) fake.script(behaviour);
  const response = await fetch(host + path, { method: 'POST', body: JSON.stringify({ ...body, stream: false }) });
  assert.equal(response.status, 200);
  return response.json();
}

/** The requests the stand-in received since `mark`. */
function since(mark: number): RecordedRequest[] {
  return fake.requests.slice(mark);
}

describe('chat() equals what Ollama answers for stream:false, field by field', () => {
  const cases: Array<[string, ChatRequest, Behaviour | undefined]> = [
    ['plain text', hello, undefined],
    ['thinking', { model: 'qwen3', messages: [{ role: 'user', content: 'Why is the sky blue?' }] }, undefined],
    ['tool calls arriving mid-stream', { ...hello, tools: [weatherTool] }, { toolCallsIn: 'middle', toolCallCount: 2 }],
    ['tool calls arriving in the final chunk', { ...hello, tools: [weatherTool] }, { toolCallsIn: 'final' }],
    ['logprobs', { ...hello, logprobs: true, top_logprobs: 2 }, undefined],
    ['text carried by the final chunk', hello, { finalText: ' the end' }],
  ];
  for (const [name, request, behaviour] of cases) {
    test(name, async () => {
      const expected = await serverAnswer('/api/chat', request, behaviour);
      if (behaviour !== undefined) fake.script(behaviour);
      const mark = fake.requests.length;
      const actual = await chat(request, { host });
      assert.deepStrictEqual(actual, expected);
      // On the wire it streamed, so the read timeout of a long answer stays meaningful.
      assert.equal((since(mark)[0]!.body as { stream?: unknown }).stream, true);
    });
  }

  test('the cases above really differ: thinking, tool calls and logprobs are present', async () => {
    const thinking = await chat({ model: 'qwen3', messages: [{ role: 'user', content: 'x' }] }, { host });
    assert.ok((thinking.message.thinking ?? '').length > 0);
    fake.script({ toolCallsIn: 'final' });
    const tools = await chat({ ...hello, tools: [weatherTool] }, { host });
    assert.deepEqual(tools.message.tool_calls?.[0]?.function.arguments, { city: 'value-city' });
    assert.equal(tools.message.tool_calls?.[0]?.function.index, 0);
    const logprobs = await chat({ ...hello, logprobs: true }, { host });
    assert.ok((logprobs.logprobs ?? []).length > 1);
  });

  test('generate() equals the stand-in, context included', async () => {
    const request: GenerateRequest = { model: 'llama3.2', prompt: 'Tell me about 漢字 and 🦙', logprobs: true };
    const expected = await serverAnswer('/api/generate', request);
    const actual = await generate(request, { host });
    assert.deepStrictEqual(actual, expected);
    assert.ok(Array.isArray(actual.context) && actual.context.length > 0);
  });

  test('generate() with thinking equals the stand-in', async () => {
    const request: GenerateRequest = { model: 'qwen3', prompt: 'Think first' };
    assert.deepStrictEqual(await generate(request, { host }), await serverAnswer('/api/generate', request));
  });

  test('load and unload requests, answered with one plain JSON object, work for all four calls', async () => {
    const load = await chat({ model: 'llama3.2' }, { host });
    assert.equal(load.done_reason, 'load');
    const unload = await generate({ model: 'llama3.2', keep_alive: 0 }, { host });
    assert.equal(unload.done_reason, 'unload');
    const streamed = await collect(chatStream({ model: 'llama3.2', messages: [] }, { host }));
    assert.equal(streamed.length, 1);
    assert.equal(streamed[0]?.done_reason, 'load');
    const generated = await collect(generateStream({ model: 'llama3.2', prompt: '' }, { host }));
    assert.equal(generated[0]?.done_reason, 'load');
  });
});

describe('stream: true on chat()/generate() is refused, not ignored', () => {
  // Code ported from a client where `stream: true` turns the answer into an iterator would
  // otherwise get one object and fail later with "not async iterable".
  for (const [call, instead, run] of [
    ['chat', 'chatStream', (r: object) => chat({ ...hello, ...r } as ChatRequest, { host })],
    [
      'generate',
      'generateStream',
      (r: object) => generate({ model: 'llama3.2', prompt: 'x', ...r } as GenerateRequest, { host }),
    ],
  ] as const) {
    test(`${call}({ stream: true }) rejects with a TypeError naming ${instead}, and sends nothing`, async () => {
      const mark = fake.requests.length;
      await assert.rejects(run({ stream: true }), (error: unknown) => {
        assert.ok(error instanceof TypeError, String(error));
        assert.match(error.message, new RegExp(`^${call}: request\\.stream is true.*call ${instead}\\(request\\)`));
        return true;
      });
      assert.equal(fake.requests.length, mark, 'nothing reached the server');
      // stream: false and no stream at all are what chat/generate mean, and still answer.
      assert.equal((await run({ stream: false })).done, true);
      assert.equal((await run({})).done, true);
    });
  }

  test('chatStream()/generateStream() accept stream: true as it is, and stream', async () => {
    const chunks = await collect(chatStream({ ...hello, stream: true }, { host }));
    assert.ok(chunks.length > 1 && chunks.at(-1)?.done === true);
    const parts = await collect(generateStream({ model: 'llama3.2', prompt: 'x', stream: true }, { host }));
    assert.ok(parts.length > 1 && parts.at(-1)?.done === true);
  });
});

describe('chatStream() yields every chunk as Ollama sent it', () => {
  test('the chunks equal the raw NDJSON lines of the stand-in', async () => {
    const raw = await fetch(`${host}/api/chat`, { method: 'POST', body: JSON.stringify(hello) });
    const expected = (await raw.text())
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as unknown);
    const chunks = await collect(chatStream(hello, { host }));
    assert.deepStrictEqual(chunks, expected);
    assert.ok(chunks.length > 5);
  });

  test('a 🦙 and a 漢 cut between writes arrive whole, also with CRLF, blank lines and a BOM', async () => {
    const body = new TextEncoder().encode(
      await (
        await fetch(`${host}/api/chat`, {
          method: 'POST',
          body: JSON.stringify({ ...hello, messages: [{ role: 'user', content: '🦙漢' }] }),
        })
      ).text(),
    );
    // Cut inside the first multi-byte characters of the body: one byte into them.
    const llama = body.findIndex((byte, i) => byte === 0xf0 && i > 0);
    const kanji = body.findIndex((byte, i) => byte === 0xe6 && i > 0);
    assert.ok(llama > 0 && kanji > 0);
    const request = { ...hello, messages: [{ role: 'user' as const, content: '🦙漢' }] };
    const plain = await collect(chatStream(request, { host }));
    for (const behaviour of [
      { cuts: [llama + 1, llama + 3, kanji + 2] },
      { cuts: [llama + 2], crlf: true, blankLines: true, bom: true },
    ]) {
      fake.script(behaviour);
      assert.deepStrictEqual(await collect(chatStream(request, { host })), plain, JSON.stringify(behaviour));
    }
    assert.ok(
      plain
        .map((c) => c.message.content)
        .join('')
        .includes('🦙漢'),
    );
  });

  test('a final line without a line break is delivered', async () => {
    fake.script({ noFinalNewline: true });
    const chunks = await collect(chatStream(hello, { host }));
    assert.equal(chunks.at(-1)?.done, true);
  });
});

describe('errors inside and around the stream', () => {
  const inBand = 'an error was encountered while running the model: CUDA error: out of memory';

  test('{"error"} after 3 chunks: chatStream yields the 3 chunks, then throws kind stream with the server text', async () => {
    fake.script({ errorAfter: 3, errorText: inBand });
    const chunks: ChatResponse[] = [];
    await assert.rejects(
      collect(chatStream(hello, { host }), chunks),
      failsWith('stream', (error) => {
        assert.equal(error.status, 200);
        assert.ok(error.message.includes(inBand));
        assert.equal(error.url, `${host}/api/chat`);
      }),
    );
    assert.equal(chunks.length, 3);
    assert.ok(chunks.every((chunk) => chunk.done === false));
  });

  test('the same in-band error makes chat() and generate() throw the same kind and text', async () => {
    fake.script({ errorAfter: 3, errorText: inBand }, { errorAfter: 3, errorText: inBand });
    await assert.rejects(
      chat(hello, { host }),
      failsWith('stream', (error) => assert.ok(error.message.includes(inBand))),
    );
    await assert.rejects(generate({ model: 'llama3.2', prompt: 'x' }, { host }), failsWith('stream'));
  });

  test('a stream that ends without done: kind protocol for chatStream and chat, after the chunks it had', async () => {
    fake.script({ omitDone: true }, { omitDone: true });
    const chunks: ChatResponse[] = [];
    await assert.rejects(
      collect(chatStream(hello, { host }), chunks),
      failsWith('protocol', (error) => {
        assert.match(error.message, /without its final chunk/);
      }),
    );
    assert.ok(chunks.length > 0);
    await assert.rejects(chat(hello, { host }), failsWith('protocol'));
  });

  test('a garbage line: kind protocol, with the line on the error', async () => {
    fake.script({ garbageAfter: 2 });
    const chunks: ChatResponse[] = [];
    await assert.rejects(
      collect(chatStream(hello, { host }), chunks),
      failsWith('protocol', (error) => {
        assert.equal(error.line, '<html>this is not json</html>');
      }),
    );
    assert.equal(chunks.length, 2);
  });

  test('a line over maxLineLength: kind protocol', async () => {
    fake.script({ tokens: ['x'.repeat(5000)] });
    await assert.rejects(
      chat(hello, { host, maxLineLength: 1000 }),
      failsWith('protocol', (error) => {
        assert.match(error.message, /limit of 1000 bytes/);
      }),
    );
  });

  test('a connection reset after 2 chunks: kind connection, the 2 chunks stay delivered, one request made', async () => {
    fake.script({ resetAfter: 2 });
    const mark = fake.requests.length;
    const chunks: ChatResponse[] = [];
    await assert.rejects(
      collect(chatStream(hello, { host }), chunks),
      failsWith('connection', (error) => {
        assert.match(error.message, /after 2 chunk/);
      }),
    );
    assert.equal(chunks.length, 2);
    assert.equal(since(mark).length, 1);
  });

  test('a connection closed mid-body (FIN without the last chunk): kind connection', async () => {
    fake.script({ closeAfter: 2 });
    // chat() would retry this (nothing had reached the caller); one attempt shows the error.
    await assert.rejects(chat(hello, { host, retry: false }), failsWith('connection'));
  });

  test('a reset before any byte: kind connection naming the host', async () => {
    fake.script({ resetAfter: 0 });
    await assert.rejects(
      chat(hello, { host, retry: false }),
      failsWith('connection', (error) => {
        assert.ok(error.message.includes(host));
      }),
    );
  });
});

describe('HTTP errors say what happened and what to do', () => {
  const missing = 'llama9-missing';
  const endpoints: Array<[string, () => Promise<unknown>, string]> = [
    [
      'chat',
      () => chat({ model: missing, messages: [{ role: 'user', content: 'x' }] }, { host }),
      `model '${missing}' not found`,
    ],
    [
      'chatStream',
      () => collect(chatStream({ model: missing, messages: [{ role: 'user', content: 'x' }] }, { host })),
      `model '${missing}' not found`,
    ],
    ['generate', () => generate({ model: missing, prompt: 'x' }, { host }), `model '${missing}' not found`],
    [
      'embed',
      () => embed({ model: missing, input: 'x' }, { host }),
      `model "${missing}" not found, try pulling it first`,
    ],
    [
      'embeddings',
      () => embeddings({ model: missing, prompt: 'x' }, { host }),
      `model "${missing}" not found, try pulling it first`,
    ],
  ];
  for (const [name, call, serverText] of endpoints) {
    test(`${name}: a missing model is kind http, 404, with the server's own text and the ollama pull hint`, async () => {
      await assert.rejects(
        call(),
        failsWith('http', (error) => {
          assert.equal(error.status, 404);
          assert.ok(error.message.includes(serverText), error.message);
          assert.ok(error.message.includes(`ollama pull ${missing}`), error.message);
        }),
      );
    });
  }

  test('an HTML 502 from a proxy is summarised by its title, not dumped whole', async () => {
    const page = `<!DOCTYPE html><html><head><title>502 Bad Gateway</title><style>body{color:red}</style></head><body>${'<p>nginx details</p>'.repeat(500)}</body></html>`;
    fake.script({ respond: { status: 502, headers: { 'content-type': 'text/html' }, body: page } });
    await assert.rejects(
      chat(hello, { host, retry: false }),
      failsWith('http', (error) => {
        assert.equal(error.status, 502);
        assert.ok(error.message.includes('502 Bad Gateway'));
        assert.ok(!error.message.includes('<p>'), 'no markup in the message');
        assert.ok(error.message.length < 500, `message of ${error.message.length} characters`);
        assert.equal(error.body, page);
      }),
    );
  });

  test('a page without a title is summarised by its text, scripts and styles left out; a hostile one in linear time', async () => {
    const page =
      '<html><head><style>p{x:1}</style><script>var a = "<b>";</script></head><body><h1>Bad</h1> <p>gateway here</p></body></html>';
    fake.script({ respond: { status: 502, headers: { 'content-type': 'text/html' }, body: page } });
    await assert.rejects(
      chat(hello, { host, retry: false }),
      failsWith('http', (error) => {
        assert.match(error.message, /an HTML page "Bad gateway here"/);
      }),
    );
    for (const hostile of ['<'.repeat(65_536), '<title'.repeat(10_000), '<script'.repeat(9_000)]) {
      fake.script({ respond: { status: 502, headers: { 'content-type': 'text/html' }, body: hostile } });
      const started = performance.now();
      await assert.rejects(chat(hello, { host, retry: false }), failsWith('http'));
      const ms = performance.now() - started;
      assert.ok(ms < 300, `${hostile.slice(0, 7)}…: the error took ${Math.round(ms)} ms`);
    }
  });

  test('a 500 with a JSON error before the stream: the server text, status 500', async () => {
    fake.script({ errorAfter: 0, errorText: 'option "stop" must be of type array' });
    await assert.rejects(
      chat(hello, { host }),
      failsWith('http', (error) => {
        assert.equal(error.status, 500);
        assert.ok(error.message.includes('option "stop" must be of type array'));
      }),
    );
  });

  test('an empty model is refused before any request, with a TypeError naming the fix', async () => {
    const mark = fake.requests.length;
    await assert.rejects(chat({ model: '' }, { host }), TypeError);
    assert.throws(() => chatStream({ model: '' }, { host }), TypeError);
    assert.equal(since(mark).length, 0);
  });

  test('a refused connection is kind connection, names the host and says to start Ollama', async () => {
    const closed = await startFakeOllama();
    const deadHost = closed.url;
    await closed.close();
    await assert.rejects(
      chat(hello, { host: deadHost, retry: { baseDelay: 10 } }),
      failsWith('connection', (error) => {
        assert.ok(error.message.includes(deadHost));
        assert.match(error.message, /connection refused/);
        assert.match(error.message, /ollama serve/);
        assert.equal(error.status, undefined);
        assert.equal(error.code, 'ECONNREFUSED');
        // Ollama restarting refuses for a moment, so a refusal is retried before it is reported.
        assert.equal(error.attempts, 3);
        assert.match(error.message, /Gave up after 3 attempts\./);
      }),
    );
  });
});

describe('cancellation is real', () => {
  test('break after the first chunk: the stand-in sees the connection close within 1 s with chunks left to send', async () => {
    fake.script({ chunkDelayMs: 100 });
    const mark = fake.requests.length;
    let brokeAt = 0;
    for await (const chunk of chatStream(hello, { host })) {
      assert.equal(chunk.done, false);
      brokeAt = performance.now();
      break;
    }
    await fake.waitFor(() => since(mark)[0]?.closedAt !== undefined, 1000);
    const record = since(mark)[0]!;
    assert.equal(record.clientDisconnected, true);
    assert.ok(record.pendingChunks > 0, 'the stand-in still had chunks to send');
    assert.ok(record.closedAt! - brokeAt < 1000, `closed ${record.closedAt! - brokeAt} ms after break`);
  });

  // `await using stream = chatStream(…)` (explicit resource management): leaving the block leaves
  // the stream, as a break does. The streams had no Symbol.asyncDispose, so `await using` threw, and
  // TypeScript with the ESNext library refused the copied lib/ (an AsyncGenerator has it there).
  test('Symbol.asyncDispose, as `await using` calls it: the connection closes, as after break', async () => {
    const dispose = (Symbol as { asyncDispose?: symbol }).asyncDispose;
    assert.equal(typeof dispose, 'symbol', 'this Node has Symbol.asyncDispose');
    fake.script({ chunkDelayMs: 100 });
    const mark = fake.requests.length;
    const stream = chatStream(hello, { host });
    const first = await stream.next();
    assert.equal(first.done, false);
    const disposed = (stream as unknown as Record<symbol, () => Promise<void>>)[dispose!]!();
    assert.equal(await disposed, undefined);
    await fake.waitFor(() => since(mark)[0]?.closedAt !== undefined, 1000);
    assert.equal(since(mark)[0]!.clientDisconnected, true);
    assert.deepEqual(await stream.next(), { value: undefined, done: true });
  });

  test('return() called from outside while the loop waits for a chunk (a Stop button): the loop ends quietly', async () => {
    fake.script({ chunkDelayMs: 100, tokens: Array.from({ length: 40 }, (_, i) => `t${i}`) });
    const mark = fake.requests.length;
    const stream = chatStream(hello, { host });
    const stop = setTimeout(() => void stream.return(), 250);
    const seen: string[] = [];
    for await (const chunk of stream) seen.push(chunk.message.content);
    clearTimeout(stop);
    assert.ok(seen.length > 0 && seen.length < 40, `${seen.length} chunks before the stop`);
    await fake.waitFor(() => since(mark)[0]?.clientDisconnected === true, 1000);
    // A Stop while the server is silent (between chunks, or before the first one while the model
    // loads): return() does not wait for the server, and the loop ends quietly at once.
    for (const silent of [{ chunkDelayMs: 3000 }, { headersDelayMs: 3000 }]) {
      fake.script(silent);
      const mark2 = fake.requests.length;
      const waiting = chatStream(hello, { host });
      const loop = (async () => {
        const got: string[] = [];
        for await (const chunk of waiting) got.push(chunk.message.content);
        return got;
      })();
      await new Promise((resolve) => setTimeout(resolve, 300));
      const stopped = performance.now();
      await waiting.return();
      const got = await loop;
      const ms = performance.now() - stopped;
      assert.ok(ms < 500, `${JSON.stringify(silent)}: the loop ended ${Math.round(ms)} ms after return()`);
      assert.ok(got.length <= 1, JSON.stringify(got));
      await fake.waitFor(() => since(mark2)[0]?.closedAt !== undefined, 1000);
    }
    // By hand: the read under way when return() came is cut short, and a next() made after it ends
    // the stream too. (Nothing is scripted for it: the request may be stopped before it is sent.)
    const byHand = chatStream(hello, { host });
    const pending = byHand.next();
    const left = byHand.return();
    const after = byHand.next();
    assert.deepEqual(await pending, { value: undefined, done: true });
    assert.deepEqual(await left, { value: undefined, done: true });
    assert.deepEqual(await after, { value: undefined, done: true });
  });

  test('a stream made and read later: the request goes out when the loop starts, and totalTimeout counts from there', async () => {
    fake.script({});
    const mark = fake.requests.length;
    const stream = chatStream(hello, { host, totalTimeout: 300 });
    await new Promise((resolve) => setTimeout(resolve, 450));
    assert.equal(since(mark).length, 0, 'nothing was sent before the loop');
    const chunks = await collect(stream);
    assert.equal(chunks.at(-1)?.done, true);
  });

  test('throwing out of the loop also closes the connection', async () => {
    fake.script({ chunkDelayMs: 100 });
    const mark = fake.requests.length;
    await assert.rejects(
      (async () => {
        for await (const _ of generateStream({ model: 'llama3.2', prompt: 'x' }, { host }))
          throw new Error('consumer failed');
      })(),
      /consumer failed/,
    );
    await fake.waitFor(() => since(mark)[0]?.clientDisconnected === true, 1000);
  });

  test('an abort while the first byte is withheld rejects within 200 ms with the reason, and the stand-in sees it', async () => {
    for (const call of [
      (signal: AbortSignal) => chat(hello, { host, signal }),
      (signal: AbortSignal) => collect(chatStream(hello, { host, signal })),
    ]) {
      fake.script({ headersDelayMs: 5000 });
      const mark = fake.requests.length;
      const controller = new AbortController();
      const reason = new Error('user pressed stop');
      const pending = call(controller.signal);
      await fake.waitFor(() => since(mark).length === 1, 2000);
      const abortedAt = performance.now();
      controller.abort(reason);
      await assert.rejects(pending, (error) => error === reason);
      assert.ok(performance.now() - abortedAt < 200, `rejected after ${performance.now() - abortedAt} ms`);
      await fake.waitFor(() => since(mark)[0]?.clientDisconnected === true, 1000);
    }
  });

  test('an abort mid-stream rejects with the reason after the chunks already yielded', async () => {
    fake.script({ chunkDelayMs: 50 });
    const controller = new AbortController();
    const chunks: ChatResponse[] = [];
    await assert.rejects(
      (async () => {
        for await (const chunk of chatStream(hello, { host, signal: controller.signal })) {
          chunks.push(chunk);
          if (chunks.length === 2) controller.abort('stop here');
        }
      })(),
      (error) => error === 'stop here',
    );
    assert.equal(chunks.length, 2);
  });

  test('an already-aborted signal rejects at once and sends nothing', async () => {
    const mark = fake.requests.length;
    const reason = new Error('too late');
    await assert.rejects(chat(hello, { host, signal: AbortSignal.abort(reason) }), (error) => error === reason);
    assert.equal(since(mark).length, 0);
  });

  test('a long-lived signal keeps no listener after calls end, however they end', async () => {
    const controller = new AbortController();
    for (let i = 0; i < 15; i++) await chat(hello, { host, signal: controller.signal });
    fake.script({ errorAfter: 1 });
    await assert.rejects(chat(hello, { host, signal: controller.signal }));
    for await (const _ of chatStream(hello, { host, signal: controller.signal })) break;
    await embed({ model: 'nomic-embed-text', input: 'x' }, { host, signal: controller.signal });
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  });
});

describe('requests on the wire', () => {
  test('images given as bytes are sent as base64; strings pass unchanged; the caller object is untouched', async () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff]);
    const request: ChatRequest = {
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'see', images: [png, png.buffer, 'AAAA'] }],
    };
    const mark = fake.requests.length;
    await chat(request, { host });
    const sent = since(mark)[0]?.body as { messages: Array<{ images: string[] }> };
    const b64 = Buffer.from(png).toString('base64');
    assert.deepEqual(sent.messages[0]?.images, [b64, b64, 'AAAA']);
    assert.ok(request.messages?.[0]?.images?.[0] instanceof Uint8Array);
    await generate({ model: 'llama3.2', prompt: 'see', images: [png] }, { host });
    assert.deepEqual((since(mark)[1]!.body as { images: string[] }).images, [b64]);
  });

  test('the request body keeps Ollama field names as given', async () => {
    const mark = fake.requests.length;
    await chat(
      {
        ...hello,
        keep_alive: '5m',
        options: { num_ctx: 4096, temperature: 0, stop: ['\n'] },
        format: 'json',
        think: false,
      },
      { host },
    );
    const sent = since(mark)[0]?.body as Record<string, unknown>;
    assert.deepEqual(sent.options, { num_ctx: 4096, temperature: 0, stop: ['\n'] });
    assert.equal(sent.keep_alive, '5m');
    assert.equal(sent.format, 'json');
    assert.equal(sent.think, false);
  });

  test("default headers, and the caller's headers win", async () => {
    const mark = fake.requests.length;
    await chat(hello, { host, headers: { 'User-Agent': 'my-app/2', 'X-Trace': 'abc' } });
    await embed({ model: 'nomic-embed-text', input: ['a', 'b'] }, { host });
    const [chatRequest, embedRequest] = since(mark);
    assert.equal(chatRequest?.headers['user-agent'], 'my-app/2');
    assert.equal(chatRequest?.headers['x-trace'], 'abc');
    assert.equal(chatRequest?.headers['content-type'], 'application/json');
    assert.equal(chatRequest?.headers.accept, 'application/x-ndjson');
    assert.equal(embedRequest?.headers.accept, 'application/json');
    assert.match(embedRequest?.headers['user-agent'] ?? '', /^ollama-fetch\//);
  });

  test('OLLAMA_HOST is read at call time when no host is given', async () => {
    const saved = process.env.OLLAMA_HOST;
    process.env.OLLAMA_HOST = `  "${host}/"  `;
    try {
      const mark = fake.requests.length;
      await chat(hello);
      assert.equal(since(mark).length, 1);
    } finally {
      if (saved === undefined) delete process.env.OLLAMA_HOST;
      else process.env.OLLAMA_HOST = saved;
    }
  });

  test('a host with credentials sends Basic auth and never shows them in errors', async () => {
    const mark = fake.requests.length;
    const withAuth = host.replace('http://', 'http://ada:s3cret@');
    await chat(hello, { host: withAuth });
    assert.equal(since(mark)[0]?.headers.authorization, `Basic ${Buffer.from('ada:s3cret').toString('base64')}`);
    await assert.rejects(
      chat({ model: 'nope', messages: [] }, { host: withAuth }),
      failsWith('http', (error) => {
        assert.ok(!error.message.includes('s3cret') && !error.message.includes('ada'));
        assert.ok(!error.url?.includes('s3cret'));
      }),
    );
  });

  test('a replacement fetch is used, and called as a plain function', async () => {
    const seen: string[] = [];
    const spy = function (this: unknown, input: string, init: RequestInit) {
      assert.equal(this, undefined);
      seen.push(input);
      return fetch(input, init);
    };
    await chat(hello, { host, fetch: spy });
    assert.deepEqual(seen, [`${host}/api/chat`]);
  });

  test('malformed options throw before any request', async () => {
    const mark = fake.requests.length;
    await assert.rejects(chat(hello, { host: 42 as unknown as string }), TypeError);
    await assert.rejects(chat(hello, { host, signal: {} as AbortSignal }), TypeError);
    await assert.rejects(chat(hello, { host, fetch: 'no' as unknown as typeof fetch }), TypeError);
    await assert.rejects(chat(hello, { host, maxLineLength: -1 }), RangeError);
    await assert.rejects(chat(hello, { host, headers: { 'bad header': 'x' } }), TypeError);
    await assert.rejects(chat(hello, { host: 'ftp://example.com' }), TypeError);
    await assert.rejects(chat(hello, 'http://x' as unknown as object), TypeError);
    await assert.rejects(chat({ ...hello, messages: 'hi' as unknown as [] }, { host }), TypeError);
    await assert.rejects(generate({ model: 'llama3.2', images: [42 as unknown as string] }, { host }), TypeError);
    await assert.rejects(embed({ model: 'nomic-embed-text', input: [1 as unknown as string] }, { host }), TypeError);
    assert.equal(since(mark).length, 0);
  });
});

describe('embeddings', () => {
  test('embed with a string and with an array; embeddings with a prompt', async () => {
    const one = await embed({ model: 'nomic-embed-text', input: 'hello' }, { host });
    assert.equal(one.embeddings.length, 1);
    const many = await embed({ model: 'nomic-embed-text', input: ['a', 'b', 'c'], dimensions: 4 }, { host });
    assert.equal(many.embeddings.length, 3);
    assert.equal(many.embeddings[0]?.length, 4);
    const norm = Math.hypot(...many.embeddings[0]!);
    assert.ok(Math.abs(norm - 1) < 1e-6, `norm ${norm}`); // float32 vectors, as Ollama's
    const legacy = await embeddings({ model: 'nomic-embed-text', prompt: 'hello' }, { host });
    assert.ok(legacy.embedding.length > 0);
  });

  test('a non-JSON 200 body is a protocol error', async () => {
    fake.script({
      respond: { status: 200, headers: { 'content-type': 'application/json' }, body: '{"embeddings": [[0.1,' },
    });
    await assert.rejects(embed({ model: 'nomic-embed-text', input: 'x' }, { host }), failsWith('protocol'));
  });
});

describe('one stream, two consumers', () => {
  test('next() calls are answered in the order they were made, and neither consumer is starved', async () => {
    const tokens = Array.from({ length: 40 }, (_, i) => `t${i} `);
    const headers = { 'x-fake-behaviour': JSON.stringify({ tokens, chunkDelayMs: 2 }) };
    const stream = chatStream(hello, { host, headers });
    // Made one after another, before any has settled: each gets the next chunk in turn.
    const [a, b, c] = [stream.next(), stream.next(), stream.next()];
    const firstThree = await Promise.all([a, b, c]);
    assert.deepEqual(
      firstThree.map((step) => (step.done ? '(end)' : step.value.message.content)),
      ['t0 ', 't1 ', 't2 '],
    );
    const got: Record<string, string[]> = { one: [], two: [] };
    const worker = async (name: string): Promise<void> => {
      for (;;) {
        const step = await stream.next();
        if (step.done) return;
        got[name]?.push(step.value.message.content);
      }
    };
    await Promise.all([worker('one'), worker('two')]);
    const all = [...(got.one ?? []), ...(got.two ?? [])];
    assert.equal(all.filter((text) => text !== '').length, 37, 'every other chunk exactly once');
    assert.deepEqual(all.filter((text) => text !== '').sort(), tokens.slice(3).sort());
    assert.ok((got.two?.length ?? 0) >= 10 && (got.one?.length ?? 0) >= 10, JSON.stringify(got));
  });
});
