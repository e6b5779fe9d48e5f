// Run as a child process (with --expose-gc) by callback-waits.test.ts: calls whose only pending
// work is a promise of the caller's that never settles and holds nothing (a tool, onProgress,
// onRetry), or a `fetch` of the caller's own whose body stalls on a promise that nothing holds,
// with full collections every 20 ms. An abort must still settle each, and so must a totalTimeout
// without any signal, the process staying alive for it, and a read timeout. Prints how each ended.

import { chat, chatStream, isOllamaError, pullModel } from '../../lib/index.ts';
import { runTools } from '../../lib/tools/index.ts';

const [host] = process.argv.slice(2);
if (host === undefined) throw new Error('usage: callback-waits.js <host>');
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

const never = (): Promise<never> => new Promise<never>(() => {});
const reason = new Error('stopped');
const busy = { 'x-fake-behaviour': JSON.stringify({ respond: { status: 503, body: '{"error":"busy"}' } }) };
const tooling = { 'x-fake-behaviour': JSON.stringify({ toolCalls: [{ name: 'wait' }] }) };
const messages = [{ role: 'user' as const, content: 'Hi' }];
const tool = { type: 'function' as const, function: { name: 'wait', parameters: { type: 'object' } }, run: never };

/** A fetch handled in the process: one line, then a body whose next read waits on nothing. */
const stalled = async (): Promise<Response> => {
  const line = `${JSON.stringify({ model: 'm', message: { role: 'assistant', content: 'a' }, done: false })}\n`;
  const body = new ReadableStream<Uint8Array>({
    start: (controller) => controller.enqueue(new TextEncoder().encode(line)),
    pull: () => new Promise<void>(() => {}),
  });
  return new Response(body, { status: 200, headers: { 'content-type': 'application/x-ndjson' } });
};
const own = { fetch: stalled, readTimeout: 0 };

const calls: Record<string, (options: object) => Promise<unknown>> = {
  onProgress: (options) => pullModel({ model: 'tinyllama' }, { host, onProgress: never, ...options }),
  onRetry: (options) =>
    chat(
      { model: 'llama3.2', messages },
      { host, headers: busy, retry: { retries: 1, baseDelay: 10, onRetry: never }, ...options },
    ),
  tool: (options) => runTools({ model: 'llama3.2', messages, tools: [tool] }, { host, headers: tooling, ...options }),
  'own fetch, chat': (options) => chat({ model: 'llama3.2', messages }, { host, ...own, ...options }),
  'own fetch, chatStream': async (options) => {
    for await (const _ of chatStream({ model: 'llama3.2', messages }, { host, ...own, ...options })) {
      // Read on: the second read is the one that waits.
    }
  },
};

/** How a call ended, and after how long. */
async function ending(run: () => Promise<unknown>): Promise<{ kind: string; ms: number }> {
  const started = performance.now();
  let kind = 'resolved';
  try {
    await run();
  } catch (error) {
    kind = error === reason ? 'the reason' : isOllamaError(error) ? error.kind : String(error);
  }
  return { kind, ms: Math.round(performance.now() - started) };
}

const collecting = setInterval(gc, 20);
collecting.unref();
const ended: Record<string, { kind: string; ms: number }> = {};
for (const [name, call] of Object.entries(calls)) {
  const controller = new AbortController();
  setTimeout(() => controller.abort(reason), 300);
  ended[`${name}, aborted`] = await ending(() => call({ signal: controller.signal }));
  // Nothing but the call's own total timer is left to end this one: it must hold the process.
  ended[`${name}, totalTimeout`] = await ending(() => call({ totalTimeout: 600 }));
}
ended['own fetch, readTimeout'] = await ending(() =>
  chat({ model: 'llama3.2', messages }, { host, fetch: stalled, readTimeout: 500 }),
);
console.log(JSON.stringify(ended));
process.exit(0);
