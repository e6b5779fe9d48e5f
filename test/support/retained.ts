// Run as a child process (with --expose-gc) by retention.test.ts: drops `count` streams in the
// way argv[4] names, against the stand-in at argv[2], and prints the heap they left behind, in
// bytes per stream, after full collections. A stream dropped without `return()` must not be kept
// by anything of the library: an armed read timer, a long-lived signal, a compat instance.

import { Ollama } from '../../lib/compat/index.ts';
import { chatStream } from '../../lib/index.ts';

const [host, countText, way] = process.argv.slice(2);
if (host === undefined || countText === undefined || way === undefined) {
  throw new Error('usage: retained.js <host> <count> <way>');
}
const count = Number(countText);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

// A first chunk of 8 KB, the rest later: each stream holds a read's worth of bytes when dropped.
const headers = { 'x-fake-behaviour': JSON.stringify({ tokens: ['x'.repeat(8000), 'b', 'c'], chunkDelayMs: 5 }) };
const hello = { model: 'llama3.2', messages: [{ role: 'user' as const, content: 'Hi' }] };
const shared = new AbortController();
const compat = new Ollama({ host, headers });

const drop: Record<string, () => Promise<unknown>> = {
  // readTimeout's default (120 s) is far longer than this run.
  'read once': () => chatStream(hello, { host, headers }).next(),
  // Without a read timeout: only the signal could keep it.
  'read once, on a shared signal': () =>
    chatStream(hello, { host, headers, readTimeout: 0, signal: shared.signal }).next(),
  'compat, awaited and never looped over': () => compat.chat({ ...hello, stream: true }),
};
const run = drop[way];
if (run === undefined) throw new Error(`unknown way ${way}`);

const settle = async (): Promise<number> => {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return process.memoryUsage().heapUsed;
};
for (let i = 0; i < 50; i++) await run();
const before = await settle();
for (let i = 0; i < count; i++) await run();
// Let the servers' last bytes arrive and the connections close.
await new Promise((resolve) => setTimeout(resolve, 300));
const after = await settle();
console.log(JSON.stringify({ perStream: Math.max(0, after - before) / count }));
process.exit(0);
