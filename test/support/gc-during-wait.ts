// Run as a child process (with --expose-gc) by retention.test.ts: streams whose server goes
// silent, with full collections every 20 ms while their read waits. One must still end in a read
// timeout, the other in the caller's abort: what holds a body or a controller only weakly (so
// that a dropped stream can go) must not let go of a read under way. Prints how each ended.

import { chatStream, isOllamaError } from '../../lib/index.ts';

const [host] = process.argv.slice(2);
if (host === undefined) throw new Error('usage: gc-during-wait.js <host>');
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

const hello = { model: 'llama3.2', messages: [{ role: 'user' as const, content: 'Hi' }] };
const headers = { 'x-fake-behaviour': JSON.stringify({ stallAfter: 2 }) };
const reason = new Error('stopped');

/** How the stream ended, and after how long. */
async function ending(options: object): Promise<{ kind: string; ms: number }> {
  const started = performance.now();
  let kind = 'none';
  try {
    for await (const _ of chatStream(hello, { host, headers, ...options }));
  } catch (error) {
    kind = isOllamaError(error) ? error.kind : error === reason ? 'the reason' : String(error);
  }
  return { kind, ms: Math.round(performance.now() - started) };
}

const collecting = setInterval(gc, 20);
const timedOut = await ending({ readTimeout: 400 });
// An abort must reach the fetch however it is linked there: through a fetch option the attempt
// has a controller of its own, which only the attempt holds.
const abortedAfter = async (options: object) => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(reason), 400);
  return ending({ readTimeout: 0, signal: controller.signal, ...options });
};
// Node's fetch stops following a signal once its Request is collected (nodejs/node#55428).
const aborted = await abortedAfter({});
const abortedThroughFetchOption = await abortedAfter({ fetch: (url: string, init: RequestInit) => fetch(url, init) });
clearInterval(collecting);
console.log(JSON.stringify({ timedOut, aborted, abortedThroughFetchOption }));
process.exit(0);
