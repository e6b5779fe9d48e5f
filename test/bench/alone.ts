// One client's small calls in a process of its own (forked by compare.bench.ts, once per client
// per round). In the interleaved table the three clients share one process, so they share
// Node's fetch (undici) and web-streams code: V8 optimizes that code for what all three feed
// it, and each client's calls pay for the others' shapes. An application runs one client; this
// measures that. The client warms up untimed, then its sequential calls are timed one by one;
// every answer is checked. The result goes back to the parent over IPC.
//
// argv: client name, host (the server's `/small` scenario on a port of the client's own),
// settings as JSON ({ warm, calls, concurrent, concurrentRuns }).
import { CLIENTS, type ClientName, clients, type Target } from './clients.ts';
import { SMALL_TEXT } from './fixtures.ts';
import { type Latencies, latencyFigures } from './stats.ts';

export interface AloneSettings {
  /** Untimed sequential calls before each kind's timed ones. */
  warm: number;
  calls: number;
  concurrent: number;
  /** Timed batches of `concurrent` calls (one untimed batch goes first). */
  concurrentRuns: number;
}

export interface AloneResult {
  chat: Latencies;
  generate: Latencies;
  /** Wall ms of each timed batch of concurrent chats. */
  concurrentMs: number[];
}

export type AloneMessage = { ok: true; result: AloneResult } | { ok: false; wrong: boolean; message: string };

const name = process.argv[2] as ClientName;
const target: Target = { host: process.argv[3] ?? '' };
const settings = JSON.parse(process.argv[4] ?? '{}') as AloneSettings;

class Wrong extends Error {}

async function sequential(kind: 'chat' | 'generate'): Promise<Latencies> {
  const client = clients[name];
  const latencies: number[] = [];
  for (let i = 0; i < settings.warm + settings.calls; i++) {
    const start = performance.now();
    const text = await client[kind](target);
    if (i >= settings.warm) latencies.push((performance.now() - start) * 1000);
    if (text !== SMALL_TEXT) throw new Wrong(`${name} ${kind}: answered "${text}", expected "${SMALL_TEXT}"`);
  }
  return latencyFigures(latencies);
}

async function concurrent(): Promise<number[]> {
  const walls: number[] = [];
  for (let run = 0; run <= settings.concurrentRuns; run++) {
    const start = performance.now();
    const answers = await Promise.all(Array.from({ length: settings.concurrent }, () => clients[name].chat(target)));
    if (run > 0) walls.push(performance.now() - start);
    if (answers.length !== settings.concurrent || answers.some((text) => text !== SMALL_TEXT))
      throw new Wrong(`${name}: a concurrent chat answered wrongly`);
  }
  return walls;
}

async function main(): Promise<AloneMessage> {
  if (!CLIENTS.includes(name)) return { ok: false, wrong: false, message: `unknown client "${name}"` };
  try {
    const chat = await sequential('chat');
    const generate = await sequential('generate');
    return { ok: true, result: { chat, generate, concurrentMs: await concurrent() } };
  } catch (error) {
    return {
      ok: false,
      wrong: error instanceof Wrong,
      message: error instanceof Error ? error.message : String(error),
    };
  }
}

const message = await main();
// The parent waits for this message; the client's kept connections must not hold the process.
process.send?.(message, () => process.exit(0));
