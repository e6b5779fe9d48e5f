// The conformance rows of `ollama-fetch/compat`: the basic behaviour of the drop-in class, in
// every runtime of the matrix, written like suite.ts (no test runner, no `node:` import) and run
// by the same `runSuite` with this list. Each scenario builds its own `Ollama` on the stand-in,
// with the scenario's behaviour in its headers, as code written for ollama-js would configure it.
import type * as Compat from '../../lib/compat/index.ts';
import { eventually, expect, Mismatch, on, rejection, type Scenario, type SuiteContext } from './suite.ts';

const MODEL = 'llama3.2';

/** The compat module this run loaded, or a clear failure when the runner gave none. */
function compatOf(ctx: SuiteContext): typeof Compat {
  if (ctx.compat === undefined) throw new Mismatch('the runner loaded no ollama-fetch/compat module');
  return ctx.compat;
}

/** An `Ollama` instance whose every request carries this scenario's behaviour. */
function client(ctx: SuiteContext, tag: string, fields: Record<string, unknown>, extra: object = {}): Compat.Ollama {
  const { headers } = on(ctx, tag, fields);
  return new (compatOf(ctx).Ollama)({ host: ctx.url, headers, ...extra });
}

const hi = { model: MODEL, messages: [{ role: 'user', content: 'hi' }] };

export const compatScenarios: readonly Scenario[] = [
  {
    name: 'compat: chat, streamed and not',
    browser: true,
    async run(ctx, tag) {
      const tokens = ['Grüße', ' 🦙', ' ok'];
      const ollama = client(ctx, tag, { tokens });
      let streamed = '';
      let finals = 0;
      const stream = await ollama.chat({ ...hi, stream: true });
      expect(typeof stream.abort === 'function', 'the stream has no abort()');
      for await (const chunk of stream) {
        streamed += chunk.message.content;
        if (chunk.done) finals++;
      }
      const whole = await ollama.chat(hi);
      expect(streamed === tokens.join(''), `streamed ${JSON.stringify(streamed)}`);
      expect(whole.message.content === streamed, `answered ${JSON.stringify(whole.message.content)}`);
      expect(finals === 1 && whole.done, 'the final chunk is missing or repeated');
    },
  },
  {
    name: 'compat: HTTP 404 with error and status_code',
    browser: true,
    async run(ctx, tag) {
      const error = await rejection(() => client(ctx, tag, {}).chat({ model: 'no-such-model', messages: [] }));
      const compat = compatOf(ctx);
      expect(compat.isOllamaError(error), `expected an OllamaError, got ${String(error)}`);
      const { status_code, error: said } = error as Compat.ResponseError;
      expect(status_code === 404, `status_code is ${status_code}`);
      expect(said === "model 'no-such-model' not found", `error is ${JSON.stringify(said)}`);
    },
  },
  {
    name: 'compat: abort() of the instance stops its streams',
    browser: true,
    async run(ctx, tag) {
      const tokens = Array.from({ length: 40 }, (_, i) => ` t${i}`);
      const ollama = client(ctx, tag, { tokens, chunkDelayMs: 100 });
      let got = 0;
      const error = await rejection(async () => {
        for await (const chunk of await ollama.generate({ model: MODEL, prompt: 'hi', stream: true })) {
          void chunk;
          if (++got === 2) ollama.abort();
        }
      });
      expect((error as Error)?.name === 'AbortError', `expected an AbortError, got ${String(error)}`);
      const requests = await eventually(ctx, tag, (s) => s[0]?.closed === true, 3000, 'the stream stayed open');
      expect(requests[0]?.clientDisconnected === true, 'the stand-in did not see the client leave');
    },
  },
  {
    name: 'compat: break closes the connection',
    browser: true,
    async run(ctx, tag) {
      const tokens = Array.from({ length: 40 }, (_, i) => ` t${i}`);
      for await (const chunk of await client(ctx, tag, { tokens, chunkDelayMs: 100 }).chat({ ...hi, stream: true })) {
        void chunk;
        break;
      }
      const requests = await eventually(ctx, tag, (s) => s[0]?.closed === true, 3000, 'the connection stayed open');
      expect(requests[0]?.clientDisconnected === true, 'the stand-in did not see the client leave');
      expect((requests[0]?.chunksWritten ?? 0) < 20, `${requests[0]?.chunksWritten} chunks were written`);
    },
  },
  {
    name: "compat: the constructor's timeouts apply",
    browser: true,
    async run(ctx, tag) {
      const started = Date.now();
      const ollama = client(ctx, tag, { headersDelayMs: 10_000 }, { readTimeout: 500, connectTimeout: 500 });
      const error = await rejection(() => ollama.chat(hi));
      const compat = compatOf(ctx);
      expect(compat.isOllamaError(error), `expected an OllamaError, got ${String(error)}`);
      expect(error.kind === 'read-timeout', `expected kind read-timeout, got ${error.kind}: ${error.message}`);
      const took = Date.now() - started;
      expect(took < 4000, `took ${took} ms for a 500 ms read timeout`);
    },
  },
];
