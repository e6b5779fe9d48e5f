/**
 * Side-by-side benchmark (`npm run bench`, `npm run bench:quick`): ollama-fetch against
 * ollama-js (the `ollama` package), a careful raw-fetch client and, where it applies, the
 * `JSON.parse` ceiling (parsing the same lines already in memory).
 *
 * Method. The fake Ollama runs in its own process (server.ts, forked here, 127.0.0.1 only,
 * every response framed once at start-up) so serving costs this process nothing. The cases
 * of a table are measured in paired rounds: each round runs every case once, starting with
 * a different one each round (rotation), with a full collection before each run and, after
 * it, one untimed run of the same case: a forced collection drops the optimized code of every
 * function (V8's own collections do not), and timed at once, a run mostly measured how fast its
 * client's code is compiled again (for ollama-fetch, 10-20 % of a 2.5 MB stream). The first
 * round(s) are warm-ups. Tables give medians with the interquartile range [q1–q3]; ratios
 * are medians of per-round ratios, so a slow moment of this shared machine, which hits both
 * cases of a round, cancels out. Every client's output is checked on every run (content,
 * counts, order); one wrong answer fails the run with exit code 1.
 *
 * Ratios are speed ratios: "÷ ollama-js" is ollama-fetch's speed divided by ollama-js's
 * (throughput ÷ throughput, or time of ollama-js ÷ time of ollama-fetch), so above 1× means
 * ollama-fetch is faster.
 */
import { type ChildProcess, fork, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import OpenAI from 'openai';
import { LineSplitter, readNdjson } from '../../lib/index.ts';
import { chatCompletionsStream } from '../../lib/openai/index.ts';
import type { AloneMessage, AloneResult, AloneSettings } from './alone.ts';
import { CLIENTS, type ClientName, clients, type Fetch, forgetOllamaJsInstances, type Target } from './clients.ts';
import {
  chatStreamFixture,
  EMBED_DIMS,
  embedValue,
  encoder,
  linePieces,
  longLine,
  piecesOf,
  type ServerConfig,
  SMALL_TEXT,
  STREAM_MODES,
  token,
  V1_MODES,
  v1StreamFixture,
} from './fixtures.ts';
import {
  expect,
  fixed,
  fullGc,
  type Latencies,
  latencyFigures,
  mapSummary,
  measureRounds,
  note,
  num,
  pairedRatio,
  ratio,
  type RoundOptions,
  type Summary,
  summarize,
  table,
  time,
  WrongResult,
  withIqr,
} from './stats.ts';

// ---- Settings -----------------------------------------------------------------------------

const QUICK = process.argv.includes('--quick');
/** `--only=/v1` (or another section's name, or names joined by commas) runs just those sections. */
const ONLY = process.argv
  .find((arg) => arg.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');

const settings = QUICK
  ? {
      // A smoke run of every section, under a minute even at this machine's slow moments: its
      // figures are medians of 2 rounds, for a look, not for a claim.
      rounds: { rounds: 2, warmups: 1, rewarm: 1 },
      streamRounds: { rounds: 2, warmups: 1, rewarm: 1 },
      streamTokens: 10_000,
      /** The /v1 stream's chunks: openai-node reads it at a third of the others' speed. */
      v1Tokens: 5_000,
      inProcessTokens: 10_000,
      smallCalls: 200,
      /** Untimed sequential calls per client after each full GC (see `smallCalls`). */
      smallRewarm: 200,
      concurrent: 200,
      bigTokens: 100_000,
      memoryCalls: 500,
      memoryBreaks: 500,
      longSizes: [500_000, 5_000_000],
      longRounds: { rounds: 2, warmups: 1, rewarm: 1 },
      /** ollama-js's long-line runs: [bytes, time limit in ms]. */
      ollamaJsLong: [[5_000_000, 1_000]] as [number, number][],
      coldRuns: 5,
      aloneRounds: 1,
      alone: { warm: 300, calls: 200, concurrent: 200, concurrentRuns: 2 } as AloneSettings,
      embedInputs: 2_000,
      embedRounds: { rounds: 3, warmups: 1, rewarm: 1 },
    }
  : {
      rounds: { rounds: 7, warmups: 1, rewarm: 1 },
      /** The stream tables (over HTTP, exact reads): each run takes 15-50 ms, so 15 rounds cost
       * 25 s more than 7, and their medians stop moving by ±10 % from one run of the benchmark
       * to the next as 7 rounds' did on this machine. */
      streamRounds: { rounds: 15, warmups: 1, rewarm: 1 },
      streamTokens: 20_000,
      v1Tokens: 20_000,
      inProcessTokens: 20_000,
      smallCalls: 2_000,
      /** Traced with --trace-opt, V8 was still compiling each client's per-call functions again
       * until some 3,000 calls after the forced GC (per 500 calls: ollama-fetch 35, 25, 15, 15,
       * then 5-14; ollama-js 24, 8, 8, 6, then 5-11; raw 11, 14, 5, 7, then 5-14, the last of them
       * undici's own). With 1,000, the timed calls measured part of that. */
      smallRewarm: 3_000,
      concurrent: 200,
      bigTokens: 1_000_000,
      memoryCalls: 10_000,
      memoryBreaks: 10_000,
      longSizes: [500_000, 1_000_000, 5_000_000],
      longRounds: { rounds: 7, warmups: 1, rewarm: 1 },
      ollamaJsLong: [
        [500_000, 20_000],
        [1_000_000, 20_000],
        [5_000_000, 20_000],
      ] as [number, number][],
      coldRuns: 25,
      aloneRounds: 5,
      alone: { warm: 2_000, calls: 2_000, concurrent: 200, concurrentRuns: 7 } as AloneSettings,
      embedInputs: 10_000,
      embedRounds: { rounds: 7, warmups: 1, rewarm: 1 },
    };

const MB = 1_000_000; // MB/s means 10^6 bytes of response per second.
const BREAK_TOKENS = 20;
/** Sequential small calls are timed in runs of this many calls per client (see `smallCalls`). */
const SMALL_RUN = 50;
/** ollama-fetch's embed default (batchSize 512) splits 10,000 inputs into 19 × 512 + 272 (the quick run's 2,000 into 3 × 512 + 464). */
const EMBED_BATCH = 512;

/** The key ratios, collected for the last line. */
const keys: string[] = [];
const rawKeys: string[] = [];

// ---- The server process -------------------------------------------------------------------

interface Server {
  base: string;
  /** A base of each client's own, on a port of its own: for the small calls, where a shared
   * connection pool is an advantage that an application's one client never has over another. */
  own: Record<ClientName, string>;
  child: ChildProcess;
}

/** The first IPC message of a forked child; fails if the child exits first or sends nothing in `ms`. */
function firstMessage<T>(child: ChildProcess, who: string, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${who} sent nothing within ${ms / 1000} s.`)), ms);
    child.once('message', (message: T) => {
      clearTimeout(timer);
      resolve(message);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${who} exited early (code ${code}).`));
    });
  });
}

/** A program next to this one (built to .js), in a process of its own with a plain Node: none
 * of this process's flags (--expose-gc), and its output on this one's. */
function forkSibling(file: string, args: string[]): ChildProcess {
  return fork(fileURLToPath(new URL(file, import.meta.url)), args, {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: [],
  });
}

async function startServer(config: ServerConfig): Promise<Server> {
  const child = forkSibling('./server.js', [JSON.stringify(config)]);
  const message = await firstMessage<{ port?: number; ports?: number[] }>(child, 'The benchmark server', 60_000);
  const ports = [message.port, ...(message.ports ?? [])];
  if (ports.length !== CLIENTS.length + 1 || !ports.every((port) => typeof port === 'number' && port > 0))
    throw new Error('The benchmark server reported no port.');
  const base = (port: number | undefined): string => `http://127.0.0.1:${port}`;
  const own = Object.fromEntries(CLIENTS.map((name, i) => [name, base(ports[i + 1])])) as Record<ClientName, string>;
  return { base: base(ports[0]), own, child };
}

// ---- Helpers --------------------------------------------------------------------------------

class TimeLimit extends Error {}

/** A body that hands out exactly these pieces, one per read; with a limit, it fails the read
 * after `limitMs` (counting from the first read), recording how many bytes it handed out. */
function piecesStream(
  pieces: readonly Uint8Array[],
  limit?: { ms: number; bytes: number },
): ReadableStream<Uint8Array> {
  let index = 0;
  let start = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (limit !== undefined) {
        if (index === 0) start = performance.now();
        else if (performance.now() - start > limit.ms) return controller.error(new TimeLimit());
      }
      const piece = pieces[index++];
      if (piece === undefined) return controller.close();
      if (limit !== undefined) limit.bytes += piece.length;
      controller.enqueue(piece);
    },
  });
}

/** A `fetch` answering every request in-process with a fresh body of these pieces. */
function inProcessFetch(pieces: readonly Uint8Array[], limit?: { ms: number; bytes: number }): Fetch {
  return async () =>
    new Response(piecesStream(pieces, limit), { status: 200, headers: { 'content-type': 'application/x-ndjson' } });
}

/** Never contacted: with a `fetch` option the host only names the URL. */
const IN_PROCESS_HOST = 'http://127.0.0.1:9/in-process';

interface Expected {
  content: string;
  chunks: number;
}

/** Streams a chat with `client`, checks it against `expected`, returns the milliseconds. */
async function timedStream(name: ClientName, target: Target, expected: Expected, what: string): Promise<number> {
  let content = '';
  let chunks = 0;
  let done = false;
  const ms = await time(() =>
    clients[name].chatStream(target, (text, last) => {
      content += text;
      chunks++;
      done = last;
      return undefined;
    }),
  );
  expect(
    chunks === expected.chunks && done && content === expected.content,
    () =>
      `${name} ${what}: ${chunks} chunks (done: ${done}), ${content.length} characters of content; ` +
      `expected ${expected.chunks} chunks ending with done, ${expected.content.length} characters` +
      (content.length === expected.content.length ? ' (same length, different text)' : ''),
  );
  return ms;
}

/** The JSON.parse ceiling: the same lines, already split and in memory, parsed and read. */
function parseCeiling(lines: readonly string[], expected: Expected): number {
  const start = performance.now();
  let content = '';
  let chunks = 0;
  for (const line of lines) {
    content += (JSON.parse(line) as { message: { content: string } }).message.content;
    chunks++;
  }
  const ms = performance.now() - start;
  expect(chunks === expected.chunks && content === expected.content, () => 'JSON.parse ceiling: wrong content');
  return ms;
}

/** Lines as a UTF-8 reader sees them: the whole input decoded at once, then split. */
function splitLines(bytes: Uint8Array): string[] {
  const lines = new TextDecoder().decode(bytes).split('\n');
  lines.pop();
  return lines;
}

const heapMb = (): number => process.memoryUsage().heapUsed / MB;

/**
 * heapUsed once the heap has settled: collections with short pauses between them (so closed
 * sockets and cancelled streams can finish letting go) until it stops shrinking.
 */
async function settledHeapMb(): Promise<number> {
  fullGc();
  let heap = heapMb();
  for (let i = 0; i < 10; i++) {
    await sleep(50);
    fullGc();
    const now = heapMb();
    if (now > heap - 0.05) return Math.min(now, heap);
    heap = now;
  }
  return heap;
}

/** "÷ ollama-js" speed ratio from two time summaries. */
const speedup = (fast: Summary, slow: Summary): number => pairedRatio(slow, fast);

// ---- Sections -------------------------------------------------------------------------------

async function streamsOverHttp(server: Server): Promise<void> {
  const fixture = chatStreamFixture(settings.streamTokens);
  const bytes = encoder.encode(fixture.lines.join(''));
  const lines = splitLines(bytes);
  const cases = [...CLIENTS, 'JSON.parse'] as const;
  const rows: string[][] = [];
  for (const mode of STREAM_MODES) {
    const target: Target = { host: `${server.base}/s/${mode}` };
    const reads = await probeReads(`${target.host}/api/chat`);
    const times = await measureRounds(cases, settings.streamRounds, async (key) =>
      key === 'JSON.parse' ? parseCeiling(lines, fixture) : timedStream(key, target, fixture, `HTTP ${mode}`),
    );
    const mbps = (s: Summary): Summary => mapSummary(s, (ms) => bytes.length / MB / (ms / 1000));
    const vsJs = speedup(times['ollama-fetch'], times['ollama-js']);
    const vsRaw = speedup(times['ollama-fetch'], times.raw);
    const label = mode === 'line' ? '1 line' : sizeLabel(Number(mode));
    rows.push([
      label,
      `${reads.toLocaleString('en-US')} × ${num(bytes.length / reads / 1024)} KiB`,
      withIqr(mbps(times['ollama-fetch'])),
      withIqr(mbps(times['ollama-js'])),
      withIqr(mbps(times.raw)),
      withIqr(mbps(times['JSON.parse'])),
      ratio(vsJs),
      ratio(vsRaw),
    ]);
    keys.push(`HTTP ${label} ${ratio(vsJs)}`);
    rawKeys.push(`HTTP ${label} ${ratio(vsRaw)}`);
  }
  table(
    `Streams over HTTP: chat stream of ${fixture.chunks.toLocaleString('en-US')} chunks, ` +
      `${fixed(bytes.length / MB, 2)} MB, in HTTP chunks of the size shown (MB/s, median [q1–q3])`,
    [
      'HTTP chunk',
      'reads seen (avg)',
      'ollama-fetch',
      'ollama-js',
      'raw fetch',
      'JSON.parse ceiling',
      '÷ ollama-js',
      '÷ raw',
    ],
    rows,
  );
  note(
    'reads seen: what a fetch body reader got (one untimed probe). The server writes faster than any client reads, so TCP',
  );
  note('and undici merge small HTTP chunks into reads of ~16 KiB; exact small reads are the next section.');
}

/** How many reads a plain fetch body reader gets for one response (untimed). */
async function probeReads(url: string): Promise<number> {
  const response = await fetch(url, { method: 'POST', body: '{}' });
  if (response.body === null) throw new Error(`no body from ${url}`);
  let reads = 0;
  for await (const _ of response.body) reads++;
  return reads;
}

function sizeLabel(bytes: number): string {
  return bytes >= 1024 ? `${bytes / 1024} KiB` : `${bytes} B`;
}

async function exactReads(): Promise<void> {
  const fixture = chatStreamFixture(settings.inProcessTokens);
  const bytes = encoder.encode(fixture.lines.join(''));
  const lines = splitLines(bytes);
  const cases = ['ollama-fetch', 'readNdjson', 'ollama-js', 'raw', 'JSON.parse'] as const;
  const rows: string[][] = [];
  for (const size of ['line', 16 * 1024, 64 * 1024] as const) {
    const pieces = size === 'line' ? linePieces(fixture.lines) : piecesOf(bytes, size);
    const target: Target = { host: IN_PROCESS_HOST, fetch: inProcessFetch(pieces) };
    const label = size === 'line' ? '1 line' : sizeLabel(size);
    const times = await measureRounds(cases, settings.streamRounds, async (key) => {
      if (key === 'JSON.parse') return parseCeiling(lines, fixture);
      if (key !== 'readNdjson') return timedStream(key, target, fixture, `exact reads of ${label}`);
      let content = '';
      let chunks = 0;
      const ms = await time(async () => {
        for await (const chunk of readNdjson<{ message: { content: string } }>(piecesStream(pieces))) {
          content += chunk.message.content;
          chunks++;
        }
      });
      expect(chunks === fixture.chunks && content === fixture.content, () => 'readNdjson: wrong content');
      return ms;
    });
    for (const key of cases) {
      const s = times[key];
      rows.push([
        label,
        key === 'ollama-fetch' ? 'ollama-fetch chatStream' : key === 'readNdjson' ? 'ollama-fetch readNdjson' : key,
        key === 'JSON.parse' ? '-' : pieces.length.toLocaleString('en-US'),
        withIqr(mapSummary(s, (ms) => bytes.length / MB / (ms / 1000))),
        key === 'JSON.parse' ? '-' : withIqr(mapSummary(s, (ms) => (ms * 1000) / pieces.length)),
        ratio(speedup(s, times['ollama-js'])),
        ratio(speedup(s, times.raw)),
      ]);
    }
    keys.push(`in-process ${label} ${ratio(speedup(times['ollama-fetch'], times['ollama-js']))}`);
  }
  table(
    `Exact read sizes, in-process (a fetch option whose body hands out fixed pieces): ${fixed(bytes.length / MB, 2)} MB ` +
      'chat stream',
    ['read size', 'client', 'reads', 'MB/s [q1–q3]', 'µs per read [q1–q3]', '÷ ollama-js', '÷ raw'],
    rows,
  );
}

/** The rows of one kind of sequential small call, from each client's figures of every round:
 * p50 and p99 as medians over rounds, the mean with its quartiles; and those means, for ratios. */
function latencyRows(
  label: string,
  perRound: Record<ClientName, readonly Latencies[]>,
): { rows: string[][]; means: Record<ClientName, Summary> } {
  const over = (name: ClientName, pick: (figures: Latencies) => number): Summary => summarize(perRound[name].map(pick));
  const means = Object.fromEntries(CLIENTS.map((c) => [c, over(c, (f) => f.mean)])) as Record<ClientName, Summary>;
  const rows = CLIENTS.map((name) => [
    label,
    name,
    num(over(name, (f) => f.p50).median),
    num(over(name, (f) => f.p99).median),
    withIqr(means[name]),
    ratio(speedup(means[name], means['ollama-js'])),
    ratio(speedup(means[name], means.raw)),
  ]);
  return { rows, means };
}

/** The small-call tables' rows for the wall times of `count` concurrent chats. */
function concurrentRows(count: number, walls: Record<ClientName, Summary>): string[][] {
  return CLIENTS.map((name) => [
    `${count} concurrent chats`,
    name,
    '-',
    '-',
    `wall ${withIqr(walls[name])} ms`,
    ratio(speedup(walls[name], walls['ollama-js'])),
    ratio(speedup(walls[name], walls.raw)),
  ]);
}

async function smallCalls(server: Server): Promise<void> {
  const targets = Object.fromEntries(CLIENTS.map((name) => [name, { host: `${server.own[name]}/small` }])) as Record<
    ClientName,
    Target
  >;
  const rows: string[][] = [];
  for (const kind of ['chat', 'generate'] as const) {
    const figures = Object.fromEntries(CLIENTS.map((c) => [c, [] as Latencies[]])) as Record<ClientName, Latencies[]>;
    // Paired in short runs: in every round the clients take turns, a run of SMALL_RUN calls each
    // in a rotated order, so that each client's calls meet the same collector state. Each client
    // talks to a port of its own: on one, ollama-js and raw shared Node's global connection pool
    // and its connection, warm from two calls in three, while ollama-fetch's own pool had one in
    // three (~20 µs of p50 here). Runs, not turns of one call: the first call on a connection
    // after another's use is slower, and an application's calls follow one another on theirs.
    // A forced full GC makes V8 drop the optimized code of what ran before it (undici's, the
    // streams', each client's), and every client runs 1.5-2x slower until it is optimized again,
    // for some 1,000 calls of each, and compiles the last of it on its background thread (which
    // takes a core from the server process) until some 3,000: small functions run once per call,
    // as most of a small call's are, reach the optimizing compiler only after a few thousand. The
    // calls after the GC in each round are untimed until then: timed, they measured how fast each
    // client's code is compiled again, which no application that is not forcing collections meets.
    const { rounds, warmups } = settings.rounds;
    for (let round = 0; round < warmups + rounds; round++) {
      fullGc();
      const latencies = new Map<ClientName, number[]>(CLIENTS.map((c) => [c, []]));
      const runs = (settings.smallRewarm + settings.smallCalls) / SMALL_RUN;
      for (let i = 0; i < runs; i++) {
        const timed = i >= settings.smallRewarm / SMALL_RUN;
        for (let j = 0; j < CLIENTS.length; j++) {
          const name = CLIENTS[(i + j) % CLIENTS.length] as ClientName;
          for (let call = 0; call < SMALL_RUN; call++) {
            const start = performance.now();
            const text = await clients[name][kind](targets[name]);
            if (timed) latencies.get(name)?.push((performance.now() - start) * 1000);
            if (text !== SMALL_TEXT)
              throw new WrongResult(`${name} ${kind}: answered "${text}", expected "${SMALL_TEXT}"`);
          }
        }
      }
      if (round < warmups) continue;
      for (const name of CLIENTS) figures[name].push(latencyFigures(latencies.get(name) ?? []));
    }
    const { rows: kindRows, means } = latencyRows(`${settings.smallCalls.toLocaleString('en-US')} × ${kind}`, figures);
    rows.push(...kindRows);
    keys.push(`${kind} mean ${ratio(speedup(means['ollama-fetch'], means['ollama-js']))}`);
    rawKeys.push(`${kind} mean ${ratio(speedup(means['ollama-fetch'], means.raw))}`);
  }
  const walls = await measureRounds(CLIENTS, settings.rounds, async (name) => {
    const answers: string[] = [];
    const ms = await time(async () => {
      const all = Array.from({ length: settings.concurrent }, () => clients[name].chat(targets[name]));
      answers.push(...(await Promise.all(all)));
    });
    expect(
      answers.length === settings.concurrent && answers.every((text) => text === SMALL_TEXT),
      () => `${name}: a concurrent chat answered wrongly`,
    );
    return ms;
  });
  rows.push(...concurrentRows(settings.concurrent, walls));
  keys.push(`${settings.concurrent} concurrent ${ratio(speedup(walls['ollama-fetch'], walls['ollama-js']))}`);
  rawKeys.push(`${settings.concurrent} concurrent ${ratio(speedup(walls['ollama-fetch'], walls.raw))}`);
  table(
    `Small calls (non-streamed API) over HTTP: sequential latency in µs, the clients taking turns in runs of ${SMALL_RUN} calls, ` +
      `timed after ${settings.smallRewarm.toLocaleString('en-US')} untimed calls each that follow each round's full GC ` +
      '(p50 and p99 are medians over rounds; mean is median [q1–q3])',
    ['calls', 'client', 'p50 µs', 'p99 µs', 'mean µs', '÷ ollama-js', '÷ raw'],
    rows,
  );
}

/** One client's small calls in a fresh process (alone.ts); order of the clients rotated by round. */
async function runAlone(name: ClientName, host: string): Promise<AloneResult> {
  const child = forkSibling('./alone.js', [name, host, JSON.stringify(settings.alone)]);
  try {
    const message = await firstMessage<AloneMessage>(child, `${name} alone`, 120_000);
    if (!message.ok)
      throw message.wrong ? new WrongResult(message.message) : new Error(`${name} alone: ${message.message}`);
    return message.result;
  } finally {
    child.kill();
  }
}

async function smallCallsAlone(server: Server): Promise<void> {
  const { warm, calls, concurrent, concurrentRuns } = settings.alone;
  const got = new Map<ClientName, AloneResult[]>(CLIENTS.map((c) => [c, []]));
  for (let round = 0; round < settings.aloneRounds; round++) {
    for (let i = 0; i < CLIENTS.length; i++) {
      const name = CLIENTS[(round + i) % CLIENTS.length] as ClientName;
      got.get(name)?.push(await runAlone(name, `${server.own[name]}/small`));
    }
  }
  const rows: string[][] = [];
  for (const kind of ['chat', 'generate'] as const) {
    const perRound = Object.fromEntries(CLIENTS.map((c) => [c, (got.get(c) ?? []).map((r) => r[kind])])) as Record<
      ClientName,
      Latencies[]
    >;
    const { rows: kindRows, means } = latencyRows(`${calls.toLocaleString('en-US')} × ${kind}`, perRound);
    rows.push(...kindRows);
    keys.push(`alone ${kind} mean ${ratio(speedup(means['ollama-fetch'], means['ollama-js']))}`);
    rawKeys.push(`alone ${kind} mean ${ratio(speedup(means['ollama-fetch'], means.raw))}`);
  }
  // Each process's batches: their median is the process's figure.
  const walls = Object.fromEntries(
    CLIENTS.map((c) => [c, summarize((got.get(c) ?? []).map((r) => summarize(r.concurrentMs).median))]),
  ) as Record<ClientName, Summary>;
  rows.push(...concurrentRows(concurrent, walls));
  keys.push(`alone ${concurrent} concurrent ${ratio(speedup(walls['ollama-fetch'], walls['ollama-js']))}`);
  table(
    `Small calls, each client alone in a fresh process (as an application runs one client): ${settings.aloneRounds} ` +
      `rounds, a process per client per round, in rotated order; in each, ${warm.toLocaleString('en-US')} untimed ` +
      `calls then ${calls.toLocaleString('en-US')} timed ones per kind, then 1 + ${concurrentRuns} batches of ` +
      `${concurrent} concurrent chats (µs; p50 and p99 are medians over rounds; mean is median [q1–q3])`,
    ['calls', 'client', 'p50 µs', 'p99 µs', 'mean µs', '÷ ollama-js', '÷ raw'],
    rows,
  );
}

async function memory(server: Server): Promise<void> {
  forgetOllamaJsInstances();
  const rows: string[][] = [];
  const flatLimit = 2; // MB of growth (after GC) still called flat.

  // A long stream: the heap after a full collection at ten checkpoints along it.
  const big: Target = { host: `${server.base}/big` };
  let expectedLength = 0;
  for (let i = 0; i < settings.bigTokens; i++) expectedLength += token(i % 1000).length;
  const checkpoint = settings.bigTokens / 10;
  for (const name of CLIENTS) {
    const before = await settledHeapMb();
    let peak = before;
    let chunks = 0;
    let length = 0;
    let done = false;
    const ms = await time(() =>
      clients[name].chatStream(big, (text, last) => {
        length += text.length;
        done = last;
        if (++chunks % checkpoint === 0) {
          fullGc();
          peak = Math.max(peak, heapMb());
        }
        return undefined;
      }),
    );
    const after = await settledHeapMb();
    expect(
      chunks === settings.bigTokens + 1 && length === expectedLength && done,
      () => `${name} big stream: ${chunks} chunks, ${length} characters`,
    );
    rows.push([
      `${settings.bigTokens.toLocaleString('en-US')}-chunk stream`,
      name,
      fixed(before),
      fixed(peak),
      fixed(after),
      fixed(Math.max(peak, after) - before, 2),
      Math.max(peak, after) - before < flatLimit ? 'flat' : 'GROWS',
      `${fixed(ms / 1000, 2)} s`,
    ]);
  }

  // Many calls: what stays behind once they are all done and collected.
  const small: Target = { host: `${server.base}/small` };
  for (const name of CLIENTS) {
    const before = await settledHeapMb();
    const ms = await time(async () => {
      for (let i = 0; i < settings.memoryCalls; i++) {
        const text = await clients[name].chat(small);
        if (text !== SMALL_TEXT) throw new WrongResult(`${name} chat (memory): answered "${text}"`);
      }
    });
    const after = await settledHeapMb();
    rows.push([
      `${settings.memoryCalls.toLocaleString('en-US')} chat calls`,
      name,
      fixed(before),
      '-',
      fixed(after),
      fixed(after - before, 2),
      after - before < flatLimit ? 'flat' : 'GROWS',
      `${fixed(ms / 1000, 2)} s`,
    ]);
  }

  // Streams left after their first chunk with `break`.
  const brk: Target = { host: `${server.base}/brk` };
  for (const name of CLIENTS) {
    const before = await settledHeapMb();
    const ms = await time(async () => {
      for (let i = 0; i < settings.memoryBreaks; i++) {
        let first = '';
        await clients[name].chatStream(brk, (text) => {
          first = text;
          return true;
        });
        if (first !== token(0)) throw new WrongResult(`${name} stream left with break: first chunk "${first}"`);
      }
    });
    const after = await settledHeapMb();
    // What ollama-js keeps belongs to its client instance; dropped before the next baseline.
    forgetOllamaJsInstances();
    rows.push([
      `${settings.memoryBreaks.toLocaleString('en-US')} streams left with break`,
      name,
      fixed(before),
      '-',
      fixed(after),
      `${fixed(after - before, 2)} (${num(((after - before) * MB) / settings.memoryBreaks)} B/stream)`,
      after - before < flatLimit ? 'flat' : 'RETAINS',
      `${fixed(ms / 1000, 2)} s`,
    ]);
  }
  forgetOllamaJsInstances();
  table(
    'Memory: heapUsed in MB after full collections (one run per client; "peak during" is the highest of ten ' +
      `checkpoints along the stream; Δ = peak or after, minus before; flat = under ${flatLimit} MB)`,
    ['case', 'client', 'before', 'peak during', 'after', 'Δ MB', 'verdict', 'time'],
    rows,
  );
}

async function longLines(): Promise<void> {
  const cases = ['LineSplitter', 'readNdjson', 'chatStream', 'chat', 'raw', 'JSON.parse'] as const;
  const rows: string[][] = [];
  let firstChat: number | undefined;
  let firstSize = 0;
  for (const size of settings.longSizes) {
    const { line, content } = longLine(size);
    const bytes = encoder.encode(line);
    const pieces = piecesOf(bytes, 64);
    const target: Target = { host: IN_PROCESS_HOST, fetch: inProcessFetch(pieces) };
    const expected = { content, chunks: 1 };
    const what = `${fixed(bytes.length / MB, 1)} MB line`;
    const times = await measureRounds(cases, settings.longRounds, async (key) => {
      if (key === 'JSON.parse') return parseCeiling([line.slice(0, -1)], expected);
      if (key === 'chatStream') return timedStream('ollama-fetch', target, expected, what);
      if (key === 'raw') return timedStream('raw', target, expected, what);
      let got = '';
      const ms = await time(async () => {
        if (key === 'chat') {
          got = await clients['ollama-fetch'].chat(target);
        } else if (key === 'readNdjson') {
          for await (const chunk of readNdjson<{ message: { content: string } }>(piecesStream(pieces))) {
            got += chunk.message.content;
          }
        } else {
          const splitter = new LineSplitter();
          for (const piece of pieces) {
            for (const text of splitter.feed(piece))
              got += (JSON.parse(text) as { message: { content: string } }).message.content;
          }
          for (const text of splitter.end())
            got += (JSON.parse(text) as { message: { content: string } }).message.content;
        }
      });
      expect(got === content, () => `ollama-fetch ${key} ${what}: wrong content (${got.length} characters)`);
      return ms;
    });
    if (firstChat === undefined) {
      firstChat = times.chatStream.median;
      firstSize = bytes.length;
    }
    const limit = settings.ollamaJsLong.find(([bytesOf]) => bytesOf === size);
    let js = 'not run';
    let jsMs = NaN;
    if (limit !== undefined) {
      const state = { ms: limit[1], bytes: 0 };
      const jsTarget: Target = { host: IN_PROCESS_HOST, fetch: inProcessFetch(pieces, state) };
      fullGc();
      try {
        jsMs = await timedStream('ollama-js', jsTarget, expected, what);
        js = num(jsMs);
      } catch (error) {
        if (!(error instanceof TimeLimit)) throw error;
        js = `> ${limit[1] / 1000} s (${fixed(state.bytes / MB, 2)} MB read)`;
      }
    }
    rows.push([
      `${fixed(bytes.length / MB, 2)} MB`,
      pieces.length.toLocaleString('en-US'),
      withIqr(times.LineSplitter),
      withIqr(times.readNdjson),
      withIqr(times.chatStream),
      withIqr(times.chat),
      withIqr(times.raw),
      withIqr(times['JSON.parse']),
      js,
      `${fixed(times.chatStream.median / firstChat, 1)}× for ${fixed(bytes.length / firstSize, 1)}× bytes`,
    ]);
    if (size === settings.longSizes[settings.longSizes.length - 1]) {
      // When ollama-js hit its time limit, its time is known only to exceed the limit.
      const speed = Number.isNaN(jsMs)
        ? `> ${ratio((limit?.[1] ?? NaN) / times.chatStream.median)}`
        : ratio(jsMs / times.chatStream.median);
      keys.push(`${fixed(bytes.length / MB, 0)} MB line ${speed}`);
    }
  }
  table(
    'One long line at exact 64 B reads, in-process (ms, median [q1–q3]; ollama-js runs once, under a time limit)',
    [
      'line',
      'reads',
      'LineSplitter',
      'readNdjson',
      'ollama-fetch chatStream',
      'ollama-fetch chat',
      'raw fetch',
      'JSON.parse',
      'ollama-js chat stream',
      'chatStream scaling',
    ],
    rows,
  );
}

/**
 * An empty module file, for a baseline that pays what any imported file costs: Node loads the
 * parts of its module loader that read files (resolution, the package scope lookup) only at the
 * first import of a file, and that costs more here than the package itself. Removed at the end.
 */
async function withEmptyModuleFile<T>(run: (url: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'ollama-fetch-bench-'));
  try {
    const file = join(dir, 'empty.mjs');
    await writeFile(file, '');
    return await run(pathToFileURL(file).href);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function coldStart(): Promise<void> {
  return withEmptyModuleFile(coldStartWith);
}

async function coldStartWith(emptyFile: string): Promise<void> {
  const bundle = new URL('../../ollama-fetch.js', import.meta.url).href;
  const ollama = import.meta.resolve('ollama');
  const browser = import.meta.resolve('ollama/browser');
  const importOf = (url: string): string => `await import(${JSON.stringify(url)});`;
  const commands = {
    'node -e 0': ['-e', '0'],
    'empty ESM module': ['--input-type=module', '-e', importOf('data:text/javascript,')],
    'empty ESM file': ['--input-type=module', '-e', importOf(emptyFile)],
    'ollama-fetch': ['--input-type=module', '-e', importOf(bundle)],
    'ollama-js (ollama)': ['--input-type=module', '-e', importOf(ollama)],
    'ollama-js (ollama/browser)': ['--input-type=module', '-e', importOf(browser)],
    'raw (new Headers(): loads fetch)': ['-e', 'new Headers()'],
    'ollama-fetch + new Headers()': ['--input-type=module', '-e', `${importOf(bundle)} new Headers();`],
    'ollama-js + new Headers()': ['--input-type=module', '-e', `${importOf(ollama)} new Headers();`],
  } as const;
  type Command = keyof typeof commands;
  // Node 20 parses NODE_EXTRA_CA_CERTS eagerly at start-up (~50 ms here); it is the same for
  // every command and only adds noise, so the children run without it.
  const env = { ...process.env };
  delete env['NODE_EXTRA_CA_CERTS'];
  const names = Object.keys(commands) as Command[];
  const times = await measureRounds(names, { rounds: settings.coldRuns, warmups: 1 }, async (name) => {
    const start = performance.now();
    const result = spawnSync(process.execPath, commands[name], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const ms = performance.now() - start;
    expect(result.status === 0, () => `cold start "${name}" failed: ${result.stderr.toString().slice(0, 300)}`);
    return ms;
  });
  const delta = (name: Command, from: Command): Summary =>
    summarize(times[name].values.map((v, i) => v - (times[from].values[i] ?? NaN)));
  const baselines = new Set<Command>(['node -e 0', 'empty ESM module', 'empty ESM file']);
  table(
    `Cold start: a fresh node process per run, ${settings.coldRuns} runs each (ms, median [q1–q3]; ` +
      'Δ is the paired median over the baseline named)',
    ['command', 'wall ms', 'Δ vs node -e 0', 'Δ vs empty ESM file'],
    names.map((name) => [
      name,
      withIqr(times[name]),
      name === 'node -e 0' ? '-' : withIqr(delta(name, 'node -e 0')),
      baselines.has(name) ? '-' : withIqr(delta(name, 'empty ESM file')),
    ]),
  );
  note(
    '"Δ vs empty ESM file" is what the package itself costs: the first import of any file makes Node load the ' +
      'file-reading part of its module loader, which "empty ESM file" pays too.',
  );
  keys.push(
    `import Δ ${num(delta('ollama-fetch', 'node -e 0').median)} vs ${num(delta('ollama-js (ollama)', 'node -e 0').median)} ms` +
      ` (over an empty file: ${num(delta('ollama-fetch', 'empty ESM file').median)} vs ` +
      `${num(delta('ollama-js (ollama)', 'empty ESM file').median)} ms)`,
  );
}

async function embedSection(server: Server): Promise<void> {
  const target: Target = { host: `${server.base}/emb` };
  const input = Array.from({ length: settings.embedInputs }, (_, i) => `passage ${i}: the llama grazes`);
  const tail = [1, 2, EMBED_DIMS / 2, EMBED_DIMS - 1];
  const times = await measureRounds(CLIENTS, settings.embedRounds, async (name) => {
    let vectors: number[][] = [];
    const ms = await time(async () => {
      vectors = await clients[name].embed(target, input);
    });
    expect(
      vectors.length === input.length,
      () => `${name} embed: ${vectors.length} vectors for ${input.length} inputs`,
    );
    // Element 0 is the vector's position in its server response; a batching client's
    // responses must come back in input order, each restarting at 0.
    let batch = vectors.length;
    for (let i = 1; i < vectors.length; i++) {
      if (vectors[i]?.[0] === 0) {
        batch = i;
        break;
      }
    }
    for (let i = 0; i < vectors.length; i++) {
      const v = vectors[i];
      expect(
        v !== undefined && v.length === EMBED_DIMS && v[0] === i % batch && tail.every((j) => v[j] === embedValue(j)),
        () => `${name} embed: vector ${i} is wrong or out of order`,
      );
    }
    return ms;
  });
  table(
    `embed of ${settings.embedInputs.toLocaleString('en-US')} inputs × ${EMBED_DIMS} dims over HTTP ` +
      `(ms, median [q1–q3]; ollama-fetch batches by its default 512, each sent as the one before it is answered; the others send one request)`,
    ['client', 'ms', '÷ ollama-js', '÷ raw'],
    CLIENTS.map((name) => [
      name,
      withIqr(times[name]),
      ratio(speedup(times[name], times['ollama-js'])),
      ratio(speedup(times[name], times.raw)),
    ]),
  );
  keys.push(`embed ${ratio(speedup(times['ollama-fetch'], times['ollama-js']))}`);
  rawKeys.push(`embed ${ratio(speedup(times['ollama-fetch'], times.raw))}`);
}

/** What a careful hand-written SSE client does: one streaming TextDecoder, events split on the
 * blank line (searched for only in the text not searched yet), the `data: ` prefix cut, `[DONE]`
 * ends it, `JSON.parse` per event, an `error` field thrown; no idle timer, no retries, no
 * checks beyond that. */
async function rawSseStream(base: string, onChunk: (content: string) => void): Promise<number> {
  const response = await fetch(`${base}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'Hi' }], stream: true }),
  });
  if (!response.ok || response.body === null) throw new Error(`raw SSE: HTTP ${response.status}`);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let chunks = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return chunks;
      const from = Math.max(0, buffer.length - 1);
      buffer += decoder.decode(value, { stream: true });
      let start = 0;
      let end = buffer.indexOf('\n\n', from);
      while (end >= 0) {
        const event = buffer.slice(start, end);
        start = end + 2;
        end = buffer.indexOf('\n\n', start);
        if (!event.startsWith('data: ')) continue;
        const data = event.slice(6);
        if (data === '[DONE]') return chunks;
        const chunk = JSON.parse(data) as { error?: unknown; choices: { delta?: { content?: string } }[] };
        if (chunk.error !== undefined) throw new Error('raw SSE: in-band error');
        chunks++;
        onChunk(chunk.choices[0]?.delta?.content ?? '');
      }
      buffer = buffer.slice(start);
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

const V1_CASES = ['ollama-fetch', 'no read timer', 'openai-node', 'raw SSE', 'JSON.parse'] as const;
type V1Case = (typeof V1_CASES)[number];

/**
 * The OpenAI-compatible `/v1/chat/completions` stream (Server-Sent Events, as Ollama's
 * ChatWriter frames it) read by ollama-fetch/openai, by the `openai` package (openai-node
 * 7.59.0, exact-pinned, benchmark only) and by a careful raw SSE parse; the JSON.parse ceiling
 * parses the same events' data already in memory. Then the import cost of each.
 */
async function openAiCompatible(server: Server): Promise<void> {
  const fixture = v1StreamFixture(settings.v1Tokens);
  const bytes = encoder.encode(fixture.events.join(''));
  const data = fixture.events.map((event) => event.slice(6, -2)).filter((d) => d !== '[DONE]');
  const request = { model: 'llama3.2', messages: [{ role: 'user' as const, content: 'Hi' }] };
  const rows: string[][] = [];
  for (const mode of V1_MODES) {
    const base = `${server.base}/v1s/${mode}/v1`;
    const openai = new OpenAI({ baseURL: base, apiKey: 'ollama', maxRetries: 0 });
    const run = async (key: V1Case): Promise<number> => {
      let content = '';
      let chunks = 0;
      const start = performance.now();
      if (key === 'ollama-fetch' || key === 'no read timer') {
        // `no read timer`: the same call with readTimeout: 0, to show what the read-timeout
        // watcher (lib/internal/idle.ts, shared with the native calls) costs.
        const options = { baseURL: base, retry: false, ...(key === 'no read timer' ? { readTimeout: 0 } : {}) };
        for await (const chunk of chatCompletionsStream(request, options)) {
          chunks++;
          content += chunk.choices[0]?.delta.content ?? '';
        }
      } else if (key === 'openai-node') {
        const stream = await openai.chat.completions.create({ ...request, stream: true });
        for await (const chunk of stream) {
          chunks++;
          content += chunk.choices[0]?.delta?.content ?? '';
        }
      } else if (key === 'raw SSE') {
        chunks = await rawSseStream(base, (text) => {
          content += text;
        });
      } else {
        for (const text of data) {
          const chunk = JSON.parse(text) as { choices: { delta?: { content?: string } }[] };
          content += chunk.choices[0]?.delta?.content ?? '';
          chunks++;
        }
      }
      const ms = performance.now() - start;
      expect(
        chunks === fixture.chunks && content === fixture.content,
        () =>
          `/v1 ${key} (${mode}): ${chunks} chunks, ${content.length} characters; expected ${fixture.chunks}, ${fixture.content.length}`,
      );
      return ms;
    };
    const times = await measureRounds(V1_CASES, settings.rounds, run);
    const mbps = (s: Summary): Summary => mapSummary(s, (ms) => bytes.length / MB / (ms / 1000));
    const vsOpenai = speedup(times['ollama-fetch'], times['openai-node']);
    const vsRaw = speedup(times['ollama-fetch'], times['raw SSE']);
    const label = mode === 'line' ? '1 event' : sizeLabel(Number(mode));
    rows.push([
      label,
      withIqr(mbps(times['ollama-fetch'])),
      withIqr(mbps(times['no read timer'])),
      withIqr(mbps(times['openai-node'])),
      withIqr(mbps(times['raw SSE'])),
      withIqr(mbps(times['JSON.parse'])),
      ratio(vsOpenai),
      ratio(vsRaw),
      ratio(speedup(times['no read timer'], times['raw SSE'])),
    ]);
    keys.push(`/v1 ${label} ${ratio(vsOpenai)} vs openai-node`);
    rawKeys.push(`/v1 ${label} ${ratio(vsRaw)}`);
  }
  table(
    `/v1 streams over HTTP: chat.completion.chunk SSE of ${fixture.chunks.toLocaleString('en-US')} chunks, ` +
      `${fixed(bytes.length / MB, 2)} MB, in HTTP chunks of the size shown (MB/s, median [q1–q3])`,
    [
      'HTTP chunk',
      'ollama-fetch',
      'readTimeout: 0',
      'openai-node',
      'raw SSE',
      'JSON.parse ceiling',
      '÷ openai-node',
      '÷ raw SSE',
      'readTimeout: 0 ÷ raw',
    ],
    rows,
  );
  note('targets: ≥ 2× openai-node and ≥ 0.9× the raw SSE parse (issue 14).');

  await withEmptyModuleFile(v1Import);
}

async function v1Import(emptyFile: string): Promise<void> {
  const subpath = new URL('../../ollama-fetch-openai.js', import.meta.url).href;
  const openaiUrl = import.meta.resolve('openai');
  const importOf = (url: string): string => `await import(${JSON.stringify(url)});`;
  const commands = {
    'node -e 0': ['-e', '0'],
    'empty ESM file': ['--input-type=module', '-e', importOf(emptyFile)],
    'ollama-fetch/openai': ['--input-type=module', '-e', importOf(subpath)],
    'openai (openai-node)': ['--input-type=module', '-e', importOf(openaiUrl)],
  } as const;
  type Command = keyof typeof commands;
  const env = { ...process.env };
  delete env['NODE_EXTRA_CA_CERTS'];
  const names = Object.keys(commands) as Command[];
  const starts = await measureRounds(names, { rounds: settings.coldRuns, warmups: 1 }, async (name) => {
    const start = performance.now();
    const result = spawnSync(process.execPath, commands[name], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const ms = performance.now() - start;
    expect(result.status === 0, () => `import "${name}" failed: ${result.stderr.toString().slice(0, 300)}`);
    return ms;
  });
  const delta = (name: Command, from: Command): Summary =>
    summarize(starts[name].values.map((v, i) => v - (starts[from].values[i] ?? NaN)));
  table(
    `/v1 import: a fresh node process per run, ${settings.coldRuns} runs each (ms, median [q1–q3])`,
    ['command', 'wall ms', 'Δ vs node -e 0', 'Δ vs empty ESM file'],
    names.map((name) => [
      name,
      withIqr(starts[name]),
      name === 'node -e 0' ? '-' : withIqr(delta(name, 'node -e 0')),
      name === 'node -e 0' || name === 'empty ESM file' ? '-' : withIqr(delta(name, 'empty ESM file')),
    ]),
  );
  note('target: importing ollama-fetch/openai costs ≤ +5 ms (issue 14).');
  keys.push(
    `/v1 import Δ ${num(delta('ollama-fetch/openai', 'node -e 0').median)} vs ${num(delta('openai (openai-node)', 'node -e 0').median)} ms` +
      ` (over an empty file: ${num(delta('ollama-fetch/openai', 'empty ESM file').median)} vs ` +
      `${num(delta('openai (openai-node)', 'empty ESM file').median)} ms)`,
  );
}

// ---- Main ---------------------------------------------------------------------------------------

const sections: [string, (server: Server) => Promise<void>][] = [
  ['streams over HTTP', streamsOverHttp],
  ['exact read sizes', exactReads],
  ['small calls', smallCalls],
  ['small calls alone', smallCallsAlone],
  ['memory', memory],
  ['long line', longLines],
  ['cold start', coldStart],
  ['embed', embedSection],
  ['/v1', openAiCompatible],
];

async function main(): Promise<void> {
  const began = performance.now();
  const rounds: RoundOptions = settings.rounds;
  console.log(
    `Side-by-side benchmark${QUICK ? ' (--quick)' : ''}: ollama-fetch vs ollama-js 0.6.4 vs raw fetch; Node ` +
      `${process.version}; ${rounds.rounds} paired rounds (${settings.streamRounds.rounds} for the stream tables) ` +
      `after ${rounds.warmups} warm-up, order rotated, ` +
      `full GC before each run, then ${rounds.rewarm ?? 0} untimed run of the same case (a forced GC drops all ` +
      'optimized code; V8\'s own GCs keep it); "÷ X" = speed of the row (or ollama-fetch) ÷ speed of X, above 1× is faster.',
  );
  const server = await startServer({
    streamTokens: settings.streamTokens,
    v1Tokens: settings.v1Tokens,
    bigTokens: settings.bigTokens,
    breakTokens: BREAK_TOKENS,
    embedCounts: [settings.embedInputs, EMBED_BATCH, settings.embedInputs % EMBED_BATCH].filter((n) => n > 0),
    ownPorts: CLIENTS.length,
  });
  const stop = (): void => {
    server.child.kill();
  };
  process.once('exit', stop);
  try {
    for (const [name, run] of sections) {
      if (ONLY !== undefined && !ONLY.includes(name)) continue;
      const start = performance.now();
      await run(server);
      note(`(${name}: ${fixed((performance.now() - start) / 1000, 1)} s)`);
    }
  } finally {
    stop();
  }
  console.log('');
  console.log(
    `Every client's output was checked on every run. Total ${fixed((performance.now() - began) / 1000, 1)} s.`,
  );
  console.log(
    `KEY RATIOS ollama-fetch ÷ ollama-js (speed, >1× = ollama-fetch faster): ${keys.join(', ')} | ollama-fetch ÷ raw: ${rawKeys.join(', ')}`,
  );
}

try {
  await main();
} catch (error) {
  console.error(error instanceof WrongResult ? `FAIL (wrong result): ${error.message}` : error);
  process.exitCode = 1;
}
