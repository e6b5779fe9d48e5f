// The conformance suite: what the library must do in every runtime, written once. It is a plain
// module with no test runner, no `node:` import and no Node typings in use, so that Node 18–26,
// Deno, Bun and a browser page can all load it, hand it the library they loaded their own way,
// and report the outcomes. The stand-in server (test/support/fake-ollama.ts) is the other side:
// each scenario tells it how to behave with the x-fake-behaviour header, and asks it afterwards
// what it saw through GET /_fake/requests, since the server may live in another process.

import type * as Compat from '../../lib/compat/index.ts';
import type * as Library from '../../lib/index.ts';
import type * as OpenAILibrary from '../../lib/openai/index.ts';

export type LibraryModule = typeof Library;
export type CompatModule = typeof Compat;
/** The `ollama-fetch/openai` subpath, loaded the same way as the library. */
export type OpenAIModule = typeof OpenAILibrary;

/** Where the library runs. Only `node` times the connect phase apart (through undici). */
export type RuntimeKind = 'node' | 'deno' | 'bun' | 'browser';

export interface SuiteContext {
  lib: LibraryModule;
  /** The /v1 client; its scenarios fail (they are not skipped) when it is missing. */
  openai?: OpenAIModule | undefined;
  runtime: RuntimeKind;
  /** The stand-in's base URL, `http://127.0.0.1:PORT`. */
  url: string;
  /** A loopback port where nothing listens. */
  refusedUrl: string;
  /** A loopback address whose TCP handshake never completes; the scenario is skipped without it. */
  deadUrl?: string | undefined;
  /** `ollama-fetch/compat` as this runtime loaded it, for the scenarios of compat-suite.ts. */
  compat?: CompatModule | undefined;
}

export interface Scenario {
  name: string;
  /** Meaningful in a browser page (same-origin with the stand-in). */
  browser: boolean;
  /** The outcome is decided well before this; the guard only keeps a hung scenario from hanging the run. */
  limitMs?: number;
  run(ctx: SuiteContext, tag: string): Promise<void>;
}

export interface Outcome {
  scenario: string;
  ok: boolean;
  /** Wall time of the scenario, in milliseconds. */
  ms: number;
  error?: string;
}

const MODEL = 'llama3.2';

/** Thrown when the library did something else than the scenario demands. */
export class Mismatch extends Error {}

export function expect(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Mismatch(what);
}

/**
 * Call options that send one request of this scenario to the stand-in, behaving as `fields` say.
 * Header values must be Latin-1, so everything beyond ASCII is \u-escaped inside the JSON.
 */
export function on(
  ctx: SuiteContext,
  tag: string,
  fields: Record<string, unknown>,
  extra: Library.CallOptions = {},
): Library.CallOptions {
  const json = JSON.stringify({ ...fields, tag }).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return { ...extra, host: ctx.url, headers: { 'x-fake-behaviour': json } };
}

interface Seen {
  method: string;
  path: string;
  chunksWritten: number;
  closed: boolean;
  clientDisconnected: boolean;
}

/** What the stand-in saw of this scenario's requests. */
async function seen(ctx: SuiteContext, tag: string): Promise<Seen[]> {
  const response = await fetch(`${ctx.url}/_fake/requests?tag=${encodeURIComponent(tag)}`);
  return (await response.json()) as Seen[];
}

/** Polls the stand-in until `pred` holds for this scenario's requests, for at most `ms`. */
export async function eventually(
  ctx: SuiteContext,
  tag: string,
  pred: (s: Seen[]) => boolean,
  ms: number,
  what: string,
): Promise<Seen[]> {
  const until = Date.now() + ms;
  for (;;) {
    const requests = await seen(ctx, tag);
    if (pred(requests)) return requests;
    if (Date.now() > until) throw new Mismatch(`${what} (the stand-in saw: ${JSON.stringify(requests)})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Runs `call`, which must reject; returns what it rejected with. */
export async function rejection(call: () => Promise<unknown>): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  throw new Mismatch('the call resolved, but it should have failed');
}

function ollamaError(ctx: SuiteContext, error: unknown, kind: string): Library.OllamaError {
  expect(ctx.lib.isOllamaError(error), `expected an OllamaError of kind ${kind}, got ${String(error)}`);
  expect(error.kind === kind, `expected kind ${kind}, got ${error.kind}: ${error.message}`);
  return error;
}

function elapsed(since: number): number {
  return Date.now() - since;
}

const nativeScenarios: readonly Scenario[] = [
  {
    name: 'stream: split multi-byte characters',
    browser: true,
    async run(ctx, tag) {
      // Every character beyond ASCII reaches the client cut after its first byte.
      const tokens = ['Grüße', ' 🦙', ' 日本語', ' ok'];
      const pieces: string[] = [];
      let finals = 0;
      const options = on(ctx, tag, { tokens, splitCharacters: true, pieceDelayMs: 5 });
      for await (const chunk of ctx.lib.chatStream(
        { model: MODEL, messages: [{ role: 'user', content: 'hi' }] },
        options,
      )) {
        if (chunk.done) finals++;
        else pieces.push(chunk.message.content);
      }
      expect(
        JSON.stringify(pieces) === JSON.stringify(tokens),
        `pieces ${JSON.stringify(pieces)} differ from ${JSON.stringify(tokens)}`,
      );
      expect(finals === 1, `expected exactly one final chunk, got ${finals}`);
    },
  },
  {
    name: 'chat: tool calls, not streamed',
    browser: true,
    async run(ctx, tag) {
      const tools = [
        {
          type: 'function' as const,
          function: {
            name: 'get_weather',
            description: 'Weather in a city',
            parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
          },
        },
      ];
      const response = await ctx.lib.chat(
        { model: MODEL, messages: [{ role: 'user', content: 'Weather in Lima?' }], tools },
        on(ctx, tag, { toolCallCount: 2 }),
      );
      const calls = response.message.tool_calls ?? [];
      expect(calls.length === 2, `expected 2 tool calls, got ${JSON.stringify(calls)}`);
      for (const call of calls) {
        expect(call.function.name === 'get_weather', `unexpected tool ${call.function.name}`);
        expect(
          typeof call.function.arguments === 'object' && call.function.arguments !== null,
          'arguments are not an object',
        );
      }
      expect(response.done, 'the answer is not marked done');
    },
  },
  {
    name: 'embed: one vector per input, in order',
    browser: true,
    async run(ctx, tag) {
      const input = ['first', 'second', 'third'];
      const response = await ctx.lib.embed({ model: 'nomic-embed-text', input }, on(ctx, tag, {}));
      expect(response.embeddings.length === 3, `expected 3 vectors, got ${response.embeddings.length}`);
      const width = response.embeddings[0]?.length ?? 0;
      expect(
        width > 0 && response.embeddings.every((v) => v.length === width && v.every(Number.isFinite)),
        'vectors are ragged or not numbers',
      );
      const again = await ctx.lib.embed({ model: 'nomic-embed-text', input: 'third' }, on(ctx, tag, {}));
      expect(
        JSON.stringify(again.embeddings[0]) === JSON.stringify(response.embeddings[2]),
        'the third vector is not the vector of the third input',
      );
    },
  },
  {
    name: 'stream: in-band error after 2 chunks',
    browser: true,
    async run(ctx, tag) {
      const got: string[] = [];
      const error = await rejection(async () => {
        const options = on(ctx, tag, { errorAfter: 2, errorText: 'model runner has unexpectedly stopped' });
        for await (const chunk of ctx.lib.chatStream(
          { model: MODEL, messages: [{ role: 'user', content: 'hi' }] },
          options,
        )) {
          if (!chunk.done) got.push(chunk.message.content);
        }
      });
      const e = ollamaError(ctx, error, 'stream');
      expect(e.status === 200, `status ${e.status}, expected 200`);
      expect(e.message.includes('model runner has unexpectedly stopped'), `the server's text is missing: ${e.message}`);
      expect(got.length === 2, `expected the 2 chunks before the error, got ${got.length}`);
    },
  },
  {
    name: 'stream: connection closed mid-body',
    browser: true,
    async run(ctx, tag) {
      let chunks = 0;
      const yieldedAtRetry: number[] = [];
      const error = await rejection(async () => {
        // The pause lets both chunks reach the page before the cut: a cut that lands with them may
        // make the runtime drop them (Bun and Chromium do), and then there is nothing to test.
        const options = on(
          ctx,
          tag,
          { stallAfter: 2, stallMs: 300, closeAfter: 2 },
          {
            retry: {
              baseDelay: 50,
              onRetry: () => {
                yieldedAtRetry.push(chunks);
              },
            },
          },
        );
        for await (const chunk of ctx.lib.chatStream(
          { model: MODEL, messages: [{ role: 'user', content: 'hi' }] },
          options,
        )) {
          if (!chunk.done) chunks++;
        }
      });
      const e = ollamaError(ctx, error, 'connection');
      expect(chunks === 2, `expected 2 chunks before the cut, got ${chunks}`);
      // Once a chunk has been handed over, a retry would hand it over twice. Before that, a retry
      // is right, even after the headers: the runtime may have dropped the bytes it received.
      expect(
        yieldedAtRetry.every((n) => n === 0),
        `retried after yielding: ${JSON.stringify(yieldedAtRetry)}`,
      );
      const requests = await seen(ctx, tag);
      expect(
        requests.length === e.attempts,
        `the error counts ${e.attempts} attempt(s), the stand-in saw ${requests.length}`,
      );
    },
  },
  {
    name: 'chat: final chunk without its line break, then a reset',
    browser: true,
    async run(ctx, tag) {
      const line = (content: string, done: boolean): string =>
        JSON.stringify({
          model: MODEL,
          created_at: '2026-01-01T00:00:00Z',
          message: { role: 'assistant', content },
          done,
        });
      const frame = (text: string): string => `${text.length.toString(16)}\r\n${text}\r\n`;
      // Kept alive, as Ollama's answers are; the pause lets the bytes reach the client before the cut.
      const raw = [
        {
          write:
            'HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n' +
            frame(`${line('Hel', false)}\n`) +
            frame(line('lo', true)),
        },
        { waitMs: 300 },
        { reset: true },
      ];
      const reply = await ctx.lib.chat(
        { model: MODEL, messages: [{ role: 'user', content: 'hi' }] },
        on(ctx, tag, { raw }, { retry: { baseDelay: 50 } }),
      );
      expect(reply.message.content === 'Hello' && reply.done, `the answer was ${JSON.stringify(reply.message)}`);
      const requests = await seen(ctx, tag);
      expect(
        requests.length === 1,
        `the finished answer was asked for again: the stand-in saw ${requests.length} requests`,
      );
    },
  },
  {
    name: 'chat: truncated stream, no final chunk',
    browser: true,
    async run(ctx, tag) {
      const error = await rejection(() =>
        ctx.lib.chat({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }, on(ctx, tag, { omitDone: true })),
      );
      const e = ollamaError(ctx, error, 'protocol');
      expect(/final chunk/.test(e.message), `the message does not say the final chunk is missing: ${e.message}`);
    },
  },
  {
    name: 'HTTP 404: one attempt, actionable',
    browser: true,
    async run(ctx, tag) {
      const error = await rejection(() =>
        ctx.lib.chat({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }, on(ctx, tag, {})),
      );
      const e = ollamaError(ctx, error, 'http');
      expect(e.status === 404, `status ${e.status}`);
      expect(e.attempts === 1, `a 404 must not be retried (attempts ${e.attempts})`);
      expect(e.message.includes('ollama pull no-such-model'), `no advice in: ${e.message}`);
    },
  },
  {
    name: 'HTTP 503 then 200: retried',
    browser: true,
    async run(ctx, tag) {
      const busy = {
        respond: {
          status: 503,
          headers: { 'Content-Type': 'application/json; charset=utf-8' },
          body: '{"error":"server busy, please try again.  maximum pending requests exceeded"}',
        },
      };
      const retries: number[] = [];
      const response = await ctx.lib.chat(
        { model: MODEL, messages: [{ role: 'user', content: 'again' }] },
        on(
          ctx,
          tag,
          { sequence: [busy, {}] },
          {
            retry: {
              baseDelay: 100,
              onRetry: (info) => {
                retries.push(info.attemptNumber);
              },
            },
          },
        ),
      );
      expect(response.message.content.length > 0, 'empty answer');
      expect(JSON.stringify(retries) === '[1]', `onRetry saw ${JSON.stringify(retries)}, expected [1]`);
      const requests = await seen(ctx, tag);
      expect(requests.length === 2, `expected 2 requests, the stand-in saw ${requests.length}`);
    },
  },
  {
    // Each runtime words the refusal its own way (undici, Deno, Bun); a browser says only
    // "Failed to fetch", which can be told from a failure of the network by nothing, so there it
    // is a connection error. Either way the redirect is not followed.
    name: 'redirect: not followed, one request',
    browser: true,
    async run(ctx, tag) {
      const elsewhere = {
        respond: {
          status: 308,
          headers: { Location: 'https://127.0.0.1:1/api/chat', 'Content-Length': '0' },
          body: '',
        },
      };
      const error = await rejection(() =>
        ctx.lib.chat(
          { model: MODEL, messages: [{ role: 'user', content: 'hi' }] },
          on(ctx, tag, elsewhere, { retry: false }),
        ),
      );
      if (ctx.runtime === 'browser') ollamaError(ctx, error, 'connection');
      else {
        const e = ollamaError(ctx, error, 'protocol');
        expect(/answered with a redirect/.test(e.message), `the message does not name the redirect: ${e.message}`);
      }
      const requests = await seen(ctx, tag);
      expect(requests.length === 1, `the redirect was followed: the stand-in saw ${requests.length} requests`);
    },
  },
  {
    name: 'connection refused: typed, actionable',
    browser: true,
    async run(ctx) {
      const error = await rejection(() =>
        ctx.lib.chat(
          { model: MODEL, messages: [{ role: 'user', content: 'hi' }] },
          { host: ctx.refusedUrl, retry: false },
        ),
      );
      const e = ollamaError(ctx, error, 'connection');
      expect(e.url?.startsWith(ctx.refusedUrl) === true, `url ${e.url}`);
      // A browser hides the reason from the page ("Failed to fetch"); every other runtime names it.
      if (ctx.runtime !== 'browser') expect(e.code === 'ECONNREFUSED', `code ${e.code}: ${e.message}`);
      expect(e.message.includes(ctx.refusedUrl), `the message does not name the host: ${e.message}`);
    },
  },
  {
    name: 'read timeout: headers withheld',
    browser: true,
    async run(ctx, tag) {
      const started = Date.now();
      const error = await rejection(() =>
        ctx.lib.chat(
          { model: MODEL, messages: [{ role: 'user', content: 'hi' }] },
          on(ctx, tag, { headersDelayMs: 8000 }, { connectTimeout: 1000, readTimeout: 1000, retry: false }),
        ),
      );
      ollamaError(ctx, error, 'read-timeout');
      // Node: 1 s, plus undici's coarse timers on Node 20+. Elsewhere fetch cannot tell connecting
      // from waiting, so one deadline covers both (2 s). Plus slack.
      expect(elapsed(started) < 4500, `took ${elapsed(started)} ms for a 1000 ms read timeout (+ 1000 ms connect)`);
      await eventually(
        ctx,
        tag,
        (s) => s.length === 1 && s[0]?.clientDisconnected === true,
        3000,
        'the stand-in never saw the client leave',
      );
    },
  },
  {
    name: 'abort while waiting for the first byte',
    browser: true,
    async run(ctx, tag) {
      const controller = new AbortController();
      const reason = new Error('the user gave up');
      const timer = setTimeout(() => controller.abort(reason), 300);
      const started = Date.now();
      try {
        const error = await rejection(() =>
          ctx.lib.chat(
            { model: MODEL, messages: [{ role: 'user', content: 'hi' }] },
            on(ctx, tag, { headersDelayMs: 8000 }, { signal: controller.signal }),
          ),
        );
        expect(error === reason, `rejected with ${String(error)}, not with the signal's reason`);
      } finally {
        clearTimeout(timer);
      }
      expect(elapsed(started) < 3000, `the abort took ${elapsed(started)} ms to land`);
      await eventually(
        ctx,
        tag,
        (s) => s.length === 1 && s[0]?.clientDisconnected === true,
        3000,
        'the stand-in never saw the client leave',
      );
    },
  },
  {
    name: 'break out of a stream closes the connection',
    browser: true,
    async run(ctx, tag) {
      const tokens = Array.from({ length: 40 }, (_, i) => ` t${i}`);
      let got = 0;
      const options = on(ctx, tag, { tokens, chunkDelayMs: 100 });
      for await (const chunk of ctx.lib.chatStream(
        { model: MODEL, messages: [{ role: 'user', content: 'hi' }] },
        options,
      )) {
        if (!chunk.done) got++;
        if (got === 2) break;
      }
      const requests = await eventually(
        ctx,
        tag,
        (s) => s.length === 1 && s[0]?.closed === true,
        3000,
        'the connection stayed open after break',
      );
      expect(requests[0]?.clientDisconnected === true, 'the stand-in did not see the client leave');
      expect(
        (requests[0]?.chunksWritten ?? 0) < 20,
        `the model kept generating: ${requests[0]?.chunksWritten} chunks written`,
      );
    },
  },
  {
    name: 'connect timeout: dead host',
    browser: true,
    limitMs: 20_000,
    async run(ctx) {
      if (ctx.deadUrl === undefined) throw new Mismatch('no dead host was given to this run');
      const started = Date.now();
      const error = await rejection(() =>
        ctx.lib.chat(
          { model: MODEL, messages: [{ role: 'user', content: 'hi' }] },
          { host: ctx.deadUrl, connectTimeout: 1000, readTimeout: 1000, retry: false },
        ),
      );
      const took = elapsed(started);
      if (ctx.runtime === 'node') {
        // undici times the connection itself: the failure names the phase.
        ollamaError(ctx, error, 'connect-timeout');
        expect(took < 3500, `took ${took} ms for a 1000 ms connect timeout`);
      } else {
        // fetch cannot show the connect phase here: one deadline covers connect + read (2 s).
        const e = ollamaError(ctx, error, 'read-timeout');
        expect(/connect/i.test(e.message), `the message does not say the connect time is included: ${e.message}`);
        expect(took >= 1900 && took < 4500, `took ${took} ms for a 1000 + 1000 ms deadline`);
      }
    },
  },
];

/** The /v1 module of this run, or a failed scenario saying it is missing. */
function v1Lib(ctx: SuiteContext): OpenAIModule {
  if (ctx.openai === undefined) throw new Mismatch('no ollama-fetch/openai module was given to this run');
  return ctx.openai;
}

/** Options for one /v1 call of this scenario: the stand-in's /v1 base, behaving as `fields` say. */
function onV1(
  ctx: SuiteContext,
  tag: string,
  fields: Record<string, unknown>,
  extra: Library.CallOptions = {},
): OpenAILibrary.OpenAIOptions {
  const { host: _host, ...options } = on(ctx, tag, fields, extra);
  return { ...options, baseURL: `${ctx.url}/v1` };
}

const HELLO_V1 = { model: MODEL, messages: [{ role: 'user' as const, content: 'hi' }] };

const v1Scenarios: readonly Scenario[] = [
  {
    name: 'v1 stream: split multi-byte characters',
    browser: true,
    async run(ctx, tag) {
      const tokens = ['Grüße', ' 🦙', ' 日本語', ' ok'];
      const pieces: string[] = [];
      let finish: string | null | undefined;
      const options = onV1(ctx, tag, { tokens, splitCharacters: true, crlf: true, pieceDelayMs: 5 });
      for await (const chunk of v1Lib(ctx).chatCompletionsStream(HELLO_V1, options)) {
        const choice = chunk.choices[0];
        if (typeof choice?.delta.content === 'string') pieces.push(choice.delta.content);
        if (choice?.finish_reason != null) finish = choice.finish_reason;
      }
      expect(JSON.stringify(pieces) === JSON.stringify(tokens), `pieces ${JSON.stringify(pieces)} differ`);
      expect(finish === 'stop', `finish_reason ${String(finish)}`);
    },
  },
  {
    name: 'v1 stream: in-band error (OpenAI, vLLM, OpenRouter, llama.cpp shapes)',
    browser: true,
    async run(ctx, tag) {
      for (const dialect of ['openai', 'vllm', 'openrouter', 'llamacpp']) {
        let got = 0;
        const errorText = `${dialect} worker died`;
        const error = await rejection(async () => {
          const options = onV1(ctx, tag, { dialect, errorAfter: 2, errorText });
          for await (const _chunk of v1Lib(ctx).chatCompletionsStream(HELLO_V1, options)) got++;
        });
        const e = ollamaError(ctx, error, 'stream');
        expect(e.message.includes(errorText), `${dialect}: the server's text is missing: ${e.message}`);
        expect(got === 2, `${dialect}: expected the 2 chunks before the error, got ${got}`);
      }
    },
  },
  {
    name: 'v1 stream: cut mid-stream',
    browser: true,
    async run(ctx, tag) {
      let got = 0;
      const yieldedAtRetry: number[] = [];
      const error = await rejection(async () => {
        const options = onV1(
          ctx,
          tag,
          { stallAfter: 2, stallMs: 300, closeAfter: 2 },
          { retry: { baseDelay: 50, onRetry: () => void yieldedAtRetry.push(got) } },
        );
        for await (const _chunk of v1Lib(ctx).chatCompletionsStream(HELLO_V1, options)) got++;
      });
      const e = ollamaError(ctx, error, 'connection');
      expect(got === 2, `expected 2 chunks before the cut, got ${got}`);
      expect(
        yieldedAtRetry.every((n) => n === 0),
        `retried after yielding: ${JSON.stringify(yieldedAtRetry)}`,
      );
      const requests = await seen(ctx, tag);
      expect(requests.length === e.attempts, `${e.attempts} attempt(s) counted, ${requests.length} seen`);
    },
  },
  {
    name: 'v1 stream: truncated without [DONE]',
    browser: true,
    async run(ctx, tag) {
      let got = 0;
      const error = await rejection(async () => {
        for await (const _chunk of v1Lib(ctx).chatCompletionsStream(HELLO_V1, onV1(ctx, tag, { omitDone: true })))
          got++;
      });
      const e = ollamaError(ctx, error, 'protocol');
      expect(/\[DONE\]/.test(e.message), `the message does not name the missing end: ${e.message}`);
      expect(got === 5, `expected the 5 chunks delivered, got ${got}`);
      const folded = await rejection(() => v1Lib(ctx).chatCompletions(HELLO_V1, onV1(ctx, tag, { omitDone: true })));
      ollamaError(ctx, folded, 'protocol');
    },
  },
  {
    name: 'v1 break out of a stream closes the connection',
    browser: true,
    async run(ctx, tag) {
      const tokens = Array.from({ length: 40 }, (_, i) => ` t${i}`);
      let got = 0;
      for await (const _chunk of v1Lib(ctx).chatCompletionsStream(
        HELLO_V1,
        onV1(ctx, tag, { tokens, chunkDelayMs: 100 }),
      )) {
        if (++got === 2) break;
      }
      const requests = await eventually(
        ctx,
        tag,
        (s) => s.length === 1 && s[0]?.closed === true,
        3000,
        'the connection stayed open after break',
      );
      expect(requests[0]?.clientDisconnected === true, 'the stand-in did not see the client leave');
      expect((requests[0]?.chunksWritten ?? 0) < 20, `the model kept generating: ${requests[0]?.chunksWritten} chunks`);
    },
  },
];

/**
 * Runs the scenarios one after another (they share one stand-in) and reports each outcome as
 * it lands. A scenario that hangs is cut off at its limit and reported, and the run goes on.
 * `list` is this file's scenarios unless another list (compat-suite.ts) is given.
 */
export const scenarios: readonly Scenario[] = [...nativeScenarios, ...v1Scenarios];

export async function runSuite(
  ctx: SuiteContext,
  report: (outcome: Outcome) => void = () => {},
  include: (scenario: Scenario) => boolean = (s) => ctx.runtime !== 'browser' || s.browser,
  list: readonly Scenario[] = scenarios,
): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  let n = 0;
  for (const scenario of list) {
    if (!include(scenario)) continue;
    const tag = `${ctx.runtime}-${++n}-${Math.random().toString(36).slice(2, 10)}`;
    const started = Date.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const limit = scenario.limitMs ?? 15_000;
    const outcome: Outcome = { scenario: scenario.name, ok: true, ms: 0 };
    try {
      await Promise.race([
        scenario.run(ctx, tag),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Mismatch(`no outcome after ${limit} ms`)), limit);
        }),
      ]);
    } catch (error) {
      outcome.ok = false;
      outcome.error =
        error instanceof Mismatch
          ? error.message
          : `unexpected ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
    } finally {
      clearTimeout(timer);
    }
    outcome.ms = Date.now() - started;
    outcomes.push(outcome);
    report(outcome);
  }
  return outcomes;
}
