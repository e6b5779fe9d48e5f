// The final chunk completes the answer (issue 12, item 1): once `{"done": true}` has arrived,
// chat() and generate() resolve and a stream ends, whatever the connection does next (a reset, a
// silence, trailing bytes), nothing after it is retried or reported, and a body that ends
// normally leaves its connection in the pool.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { describe, test } from 'node:test';
import {
  chat,
  chatStream,
  createModel,
  generate,
  listModels,
  generateStream,
  type ChatRequest,
  type GenerateRequest,
} from '../lib/index.ts';
import { collect } from './support/chunks.ts';
import { behaviourHeader, rawHead, rawStreamHead, type RawStep } from './support/fake-ollama.ts';
import { withFake } from './support/with-fake.ts';

const hello: ChatRequest = { model: 'llama3.2', messages: [{ role: 'user', content: 'Hi there, llama' }] };
const prompt: GenerateRequest = { model: 'llama3.2', prompt: 'Hi there, llama' };
const TOKENS = ['Four', ' small', ' tokens', ' here'];

function chatLine(content: string, done: boolean): string {
  const line = { model: 'llama3.2', created_at: '2026-01-01T00:00:00Z', message: { role: 'assistant', content }, done };
  return `${JSON.stringify(done ? { ...line, done_reason: 'stop', eval_count: 4 } : line)}\n`;
}
function generateLine(response: string, done: boolean): string {
  const line = { model: 'llama3.2', created_at: '2026-01-01T00:00:00Z', response, done };
  return `${JSON.stringify(done ? { ...line, done_reason: 'stop', eval_count: 4 } : line)}\n`;
}

/** Four tokens and the final chunk in one chunked body, then whatever `after` does. */
function answer(line: (text: string, done: boolean) => string, after: RawStep[]): RawStep[] {
  return [
    rawStreamHead(),
    ...TOKENS.map((token) => ({ chunk: line(token, false) })),
    { chunk: line('', true) },
    ...after,
  ];
}

/** Rejects if `promise` has not settled within `ms`: the old behaviour was to hang for good. */
function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still not settled after ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Generous for a loaded machine, and far below the 1.5 s the server waits before misbehaving. */
const PROMPTLY = 600;

const afterwards: Array<[string, RawStep[]]> = [
  ['a reset 1.5 s after it', [{ waitMs: 1500 }, { reset: true }]],
  ['a FIN 1.5 s after it, without the chunked terminator', [{ waitMs: 1500 }, { close: true }]],
  ['silence for good after it', [{ hang: true }]],
  [
    'trailing bytes and garbage after it, then the terminator',
    [{ chunk: `{"extra":1}\nnot json\n\u00ff\n` }, { last: true }],
  ],
];

// The final chunk whole but for its line break, then a reset, a FIN without the chunked
// terminator, or a silence: the held bytes were dropped, chat() sent the request again (the model
// generated it three times) and the stream lost the final chunk behind a connection error.
// Kept alive, as Ollama's answers are: with `Connection: close`, the end of the connection ends
// the body for undici, cleanly.
const keptAlive = (): RawStep =>
  rawHead(200, { 'Content-Type': 'application/x-ndjson', 'Transfer-Encoding': 'chunked' });

const unbroken: Array<[string, RawStep[], number]> = [
  ['a reset', [{ waitMs: 50 }, { reset: true }], 5000],
  ['a FIN without the chunked terminator', [{ waitMs: 50 }, { close: true }], 5000],
  ['silence past readTimeout', [{ hang: true }], 300],
];

describe('the final chunk without its line break, then the connection fails: the answer is whole', {
  concurrency: true,
}, () => {
  for (const [what, after, readTimeout] of unbroken) {
    const raw = (): RawStep[] => [
      keptAlive(),
      ...TOKENS.map((token) => ({ chunk: chatLine(token, false) })),
      { chunk: chatLine('', true).trimEnd() },
      ...after,
    ];
    test(`chat() resolves with it, one request; chatStream ends with it: ${what}`, () =>
      withFake(async (fake) => {
        const options = { host: fake.url, readTimeout, retry: { baseDelay: 10 } };
        const reply = await within(5000, chat(hello, { ...options, headers: behaviourHeader({ raw: raw() }) }));
        assert.equal(reply.message.content, TOKENS.join(''));
        assert.equal(reply.done, true);
        assert.equal(reply.eval_count, 4);
        const chunks = await within(
          5000,
          collect(chatStream(hello, { ...options, headers: behaviourHeader({ raw: raw() }) })),
        );
        assert.deepEqual(
          chunks.map((chunk) => chunk.message.content),
          [...TOKENS, ''],
        );
        assert.equal(chunks.at(-1)?.done, true);
        assert.equal(fake.requests.length, 2, 'nothing was sent again');
      }));
  }

  // A create's success line may be its base model's pull's, with the create's own steps to come:
  // one that lost its line break before a reset is no end (it once made createModel resolve for a
  // create that never happened). An error line that lost its line break is that error.
  test('a create whose success line lost its line break before a reset fails; so does an error line, with its words', () =>
    withFake(async (fake) => {
      const raw: RawStep[] = [
        keptAlive(),
        { chunk: '{"status":"pulling manifest"}\n' },
        { chunk: '{"status":"pulling 6a0746a1ec1a","digest":"sha256:6a07","total":100,"completed":100}\n' },
        { chunk: '{"status":"success"}' },
        { waitMs: 50 },
        { reset: true },
      ];
      await assert.rejects(
        createModel(
          { model: 'mine', from: 'llama3.2' },
          { host: fake.url, retry: false, headers: behaviourHeader({ raw }) },
        ),
        (error: unknown) => (error as { kind?: unknown }).kind === 'connection',
      );
      // Ended cleanly right after the pull's success: the create is incomplete, not done.
      const early: RawStep[] = [...raw.slice(0, 3), { chunk: '{"status":"success"}\n' }, { last: true }];
      await assert.rejects(
        createModel(
          { model: 'mine', from: 'llama3.2' },
          { host: fake.url, retry: false, headers: behaviourHeader({ raw: early }) },
        ),
        (error: unknown) =>
          (error as { kind?: unknown }).kind === 'protocol' && /incomplete/.test((error as Error).message),
      );
      // The create's own success, after the pull's: done at once, whatever follows (without its line
      // break before a reset, or with it before a silence).
      const whole = (last: string, after: RawStep[]): RawStep[] => [
        ...raw.slice(0, 3),
        { chunk: '{"status":"success"}\n' },
        { chunk: '{"status":"using existing layer sha256:6a07"}\n' },
        { chunk: '{"status":"writing manifest"}\n' },
        { chunk: last },
        ...after,
      ];
      for (const [last, after] of [
        ['{"status":"success"}', [{ waitMs: 50 }, { reset: true }]],
        ['{"status":"success"}\n', [{ hang: true }]],
      ] as const) {
        const lines: string[] = [];
        const done = await within(
          3000,
          createModel(
            { model: 'mine', from: 'llama3.2' },
            {
              host: fake.url,
              retry: false,
              headers: behaviourHeader({ raw: whole(last, [...after]) }),
              onProgress: (event) => void lines.push(event.status),
            },
          ),
        );
        assert.equal(done.status, 'success');
        assert.deepEqual(lines.slice(-3), ['using existing layer sha256:6a07', 'writing manifest', 'success']);
      }
      const said: RawStep[] = [
        keptAlive(),
        { chunk: chatLine('a', false) },
        { chunk: '{"error":"model runner has unexpectedly stopped"}' },
        { waitMs: 50 },
        { reset: true },
      ];
      await assert.rejects(
        chat(hello, { host: fake.url, retry: false, headers: behaviourHeader({ raw: said }) }),
        (error: unknown) =>
          (error as { kind?: unknown }).kind === 'stream' &&
          /model runner has unexpectedly stopped/.test((error as Error).message),
      );
    }));

  // A whole JSON answer (the model listing) whose body's end never came: kept, as a final chunk is.
  test('a whole JSON answer, then a reset, a cut or a silence before the end of the body: the answer, one request', () =>
    withFake(async (fake) => {
      const listing = JSON.stringify({ models: [{ name: 'llama3.2:latest', model: 'llama3.2:latest' }] });
      const head = rawHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Transfer-Encoding': 'chunked' });
      for (const [what, after] of unbroken) {
        const raw: RawStep[] = [head, { chunk: listing }, ...after];
        const answer = await within(
          5000,
          listModels({ host: fake.url, readTimeout: 300, retry: { baseDelay: 10 }, headers: behaviourHeader({ raw }) }),
        );
        assert.equal(answer.models[0]?.name, 'llama3.2:latest', what);
      }
      assert.equal(fake.requests.length, unbroken.length, 'nothing was sent again');
      const cut: RawStep[] = [head, { chunk: listing.slice(0, 20) }, { waitMs: 50 }, { reset: true }];
      await assert.rejects(
        listModels({ host: fake.url, retry: false, headers: behaviourHeader({ raw: cut }) }),
        (error: unknown) => (error as { kind?: unknown }).kind === 'connection',
      );
    }));

  test('a line that is whole but not final, then a reset: it is handed on, then the connection error', () =>
    withFake(async (fake) => {
      const raw: RawStep[] = [
        keptAlive(),
        { chunk: chatLine('a', false) },
        { chunk: chatLine('b', false).trimEnd() },
        { waitMs: 50 },
        { reset: true },
      ];
      const seen: string[] = [];
      await assert.rejects(
        (async () => {
          for await (const chunk of chatStream(hello, { host: fake.url, headers: behaviourHeader({ raw }) }))
            seen.push(chunk.message.content);
        })(),
        (error: unknown) => (error as { kind?: unknown }).kind === 'connection',
      );
      assert.deepEqual(seen, ['a', 'b']);
      // A partial line before the reset is not a chunk: the same error, after what was whole.
      const partial: RawStep[] = [
        keptAlive(),
        { chunk: chatLine('a', false) },
        { chunk: chatLine('b', false).slice(0, 30) },
        { waitMs: 50 },
        { reset: true },
      ];
      seen.length = 0;
      await assert.rejects(
        (async () => {
          for await (const chunk of chatStream(hello, { host: fake.url, headers: behaviourHeader({ raw: partial }) }))
            seen.push(chunk.message.content);
        })(),
        (error: unknown) => (error as { kind?: unknown }).kind === 'connection',
      );
      assert.deepEqual(seen, ['a']);
    }));
});

// `"error": null` (a proxy that writes every field) reported a `stream` error whose message was
// "null"; an empty error field reports nothing, as the /v1 reader and openai-node read it.
test('a chunk with "error": null, false or "" is an ordinary chunk', () =>
  withFake(async (fake) => {
    for (const empty of [null, false, '']) {
      const line = (content: string, done: boolean) => {
        const chunk = JSON.parse(chatLine(content, done)) as Record<string, unknown>;
        return `${JSON.stringify({ ...chunk, error: empty })}\n`;
      };
      const raw: RawStep[] = [
        rawStreamHead(),
        ...TOKENS.map((token) => ({ chunk: line(token, false) })),
        { chunk: line('', true) },
        { last: true },
      ];
      const reply = await chat(hello, { host: fake.url, headers: behaviourHeader({ raw }) });
      assert.equal(reply.message.content, TOKENS.join(''), String(empty));
    }
  }));

describe('the final chunk completes the answer, whatever the connection does next', { concurrency: true }, () => {
  for (const [what, after] of afterwards) {
    test(`chat() and generate() resolve at once with the whole answer: ${what}; one request each`, () =>
      withFake(async (fake) => {
        for (const readTimeout of [5000, 0]) {
          const started = performance.now();
          const reply = await within(
            5000,
            chat(hello, {
              host: fake.url,
              readTimeout,
              retry: { baseDelay: 10 },
              headers: behaviourHeader({ raw: answer(chatLine, after) }),
            }),
          );
          const ms = performance.now() - started;
          assert.equal(reply.message.content, TOKENS.join(''));
          assert.equal(reply.done, true);
          assert.equal(reply.eval_count, 4);
          assert.ok(ms < PROMPTLY, `chat() settled ${Math.round(ms)} ms after it started (readTimeout ${readTimeout})`);

          const begun = performance.now();
          const generated = await within(
            5000,
            generate(prompt, {
              host: fake.url,
              readTimeout,
              retry: { baseDelay: 10 },
              headers: behaviourHeader({ raw: answer(generateLine, after) }),
            }),
          );
          assert.equal(generated.response, TOKENS.join(''));
          assert.ok(performance.now() - begun < PROMPTLY, 'generate() settled at once');
        }
        assert.equal(fake.requests.length, 4, 'nothing was sent again');
      }));

    test(`chatStream and generateStream end cleanly right after the final chunk: ${what}`, () =>
      withFake(async (fake) => {
        const started = performance.now();
        const chunks = await within(
          5000,
          collect(chatStream(hello, { host: fake.url, headers: behaviourHeader({ raw: answer(chatLine, after) }) })),
        );
        assert.ok(performance.now() - started < PROMPTLY, 'the stream ended at once');
        assert.deepEqual(
          chunks.map((chunk) => chunk.message.content),
          [...TOKENS, ''],
        );
        assert.equal(chunks.at(-1)?.done, true);
        const pieces = await within(
          5000,
          collect(
            generateStream(prompt, { host: fake.url, headers: behaviourHeader({ raw: answer(generateLine, after) }) }),
          ),
        );
        assert.equal(pieces.length, 5);
        assert.equal(pieces.at(-1)?.done, true);
        assert.equal(fake.requests.length, 2);
      }));
  }

  test('the final chunk and, in the same read, the start of a line past maxLineLength: the answer is whole', () =>
    withFake(async (fake) => {
      const raw: RawStep[] = [
        rawStreamHead(),
        ...TOKENS.map((token) => ({ chunk: chatLine(token, false) })),
        { chunk: chatLine('', true) + 'x'.repeat(2000) },
        { last: true },
      ];
      const options = { host: fake.url, maxLineLength: 1000, headers: behaviourHeader({ raw }) };
      const reply = await within(5000, chat(hello, options));
      assert.equal(reply.message.content, TOKENS.join(''));
      const chunks = await within(5000, collect(chatStream(hello, options)));
      assert.deepEqual(
        chunks.map((chunk) => chunk.message.content),
        [...TOKENS, ''],
      );
      // And before the final chunk: the tokens before the runaway line are delivered, then the error.
      const cut: RawStep[] = [
        rawStreamHead(),
        { chunk: chatLine('a', false) + chatLine('b', false) + 'x'.repeat(2000) },
      ];
      const seen: string[] = [];
      await assert.rejects(async () => {
        for await (const chunk of chatStream(hello, { ...options, headers: behaviourHeader({ raw: cut }) }))
          seen.push(chunk.message.content);
      }, /grew past the limit of 1000 bytes/);
      assert.deepEqual(seen, ['a', 'b']);
    }));

  test('_debug_render_only: the one chunk Ollama answers (not done, with _debug_info) is the whole answer', () =>
    withFake(async (fake) => {
      const render = { rendered_template: '<|user|>Hi there, llama<|assistant|>', image_count: 0 };
      const reply = (body: object) =>
        behaviourHeader({
          respond: {
            status: 200,
            headers: { 'content-type': 'application/json; charset=utf-8' },
            body: JSON.stringify(body),
          },
        });
      const created_at = '2026-01-01T00:00:00Z';
      const chatBody = {
        model: 'llama3.2',
        created_at,
        message: { role: '', content: '' },
        done: false,
        _debug_info: render,
      };
      const asked: ChatRequest = { ...hello, _debug_render_only: true };
      const answer = await chat(asked, { host: fake.url, headers: reply(chatBody) });
      assert.deepEqual(answer, chatBody);
      assert.equal(answer._debug_info?.rendered_template, render.rendered_template);
      assert.deepEqual(await collect(chatStream(asked, { host: fake.url, headers: reply(chatBody) })), [chatBody]);
      const generateBody = { model: 'llama3.2', created_at, response: '', done: false, _debug_info: render };
      const rendered = await generate({ ...prompt, _debug_render_only: true } satisfies GenerateRequest, {
        host: fake.url,
        headers: reply(generateBody),
      });
      assert.deepEqual(rendered, generateBody);
      assert.equal(rendered._debug_info?.image_count, 0);
      // Without the rendering, one chunk that is not done is still an answer cut short.
      const { _debug_info: _, ...cut } = chatBody;
      await assert.rejects(chat(hello, { host: fake.url, headers: reply(cut) }), /without its final chunk/);
    }));

  test('a consumer that breaks on the final chunk gets control back at once, however the server goes on', () =>
    withFake(async (fake) => {
      const started = performance.now();
      for await (const chunk of chatStream(hello, {
        host: fake.url,
        readTimeout: 0,
        headers: behaviourHeader({ raw: answer(chatLine, [{ hang: true }]) }),
      })) {
        if (chunk.done) break;
      }
      assert.ok(performance.now() - started < PROMPTLY);
    }));
});

describe('a body that ends normally after its final chunk leaves the connection reusable', () => {
  /** A bare server answering every chat as Ollama does: each line written and flushed, then the
   * end of the body in a write of its own; it counts the connections it accepts. */
  async function ollamaLike(): Promise<{ host: string; connections: () => number; close: () => void }> {
    let connections = 0;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.setHeader('content-type', 'application/x-ndjson');
        for (const token of TOKENS) res.write(chatLine(token, false));
        res.write(chatLine('', true));
        setImmediate(() => res.end());
      });
    });
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    return {
      host: `http://127.0.0.1:${port}`,
      connections: () => connections,
      close: () => {
        server.closeAllConnections();
        server.close();
      },
    };
  }

  test('8 chat() calls and 8 chatStream loops one after another use at most 2 connections', async () => {
    const server = await ollamaLike();
    try {
      for (let i = 0; i < 8; i++) {
        const reply = await chat(hello, { host: server.host });
        assert.equal(reply.message.content, TOKENS.join(''));
        await collect(chatStream(hello, { host: server.host }));
        // undici returns a socket to its pool a moment after the body ends.
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.ok(server.connections() <= 2, `${server.connections()} connections for 16 calls`);
    } finally {
      server.close();
    }
  });
});
