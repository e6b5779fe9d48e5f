/**
 * NDJSON throughput benchmark for `LineSplitter` and `readNdjson` (`npm run bench`).
 *
 * It answers two questions with numbers, and exits 1 when either answer regresses:
 *  (a) Is splitting nearly free next to parsing? At 16 KiB chunks, splitter + JSON.parse
 *      must reach at least 80 % of the MB/s of JSON.parse alone over pre-split lines.
 *  (b) Is the splitter linear whatever the chunking? One 5 MB line delivered in 64-byte
 *      chunks must take at most 3x the time of the same line delivered in one chunk (a
 *      splitter that rescans its carry on every chunk takes minutes here, not milliseconds).
 *
 * Every timed run is also checked for correctness (line count plus an order-sensitive
 * checksum of the parsed `content` lengths), so a fast but wrong splitter fails loudly.
 *
 * Method: each case runs WARMUPS untimed then RUNS timed times and the median is reported.
 * Cases that are compared with each other are measured round-robin in the same loop (the
 * order flipping every round), so a noisy moment on this shared 2-core machine hits both
 * sides of a ratio instead of just one. Inputs are built, encoded and cut into `subarray`
 * views before any timing starts, so only the code under test is on the clock.
 */
import { LineSplitter } from '../../lib/lines.ts';
import { readNdjson } from '../../lib/ndjson.ts';
import { streamOf } from '../support/chunks.ts';
import { timestamp, token } from './fixtures.ts';

// ---------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------

const RUNS = 7;
const WARMUPS = 2;
/** Target (a) sits close to its bar by nature: decoding 25 MB of UTF-8 alone takes ~23 ms
 * here against ~140 ms of JSON.parse, so even a free splitter would reach only ~85 %. Its
 * pair gets more rounds (~10 s) so that one noisy moment on this shared machine moves the
 * median less. */
const TARGET_A_RUNS = 31;
/** ~25 MB of NDJSON: long enough (~0.2 s per pass) that timer resolution and JIT noise fade. */
const LARGE_FIXTURE_LINES = 200_000;
/** 1-byte delivery costs one `feed` call per byte, so 200k lines would take seconds per run
 * and measure call overhead only; 10k lines (~1.3 MB) measure the same thing faster. */
const SMALL_FIXTURE_LINES = 10_000;
const LONG_LINE_BYTES = 5_000_000;
/** One 5 MB run takes only 15-60 ms, so a collection landing in it can double it; more
 * rounds (still ~1 s in all) give a median that such outliers cannot move. */
const LONG_LINE_RUNS = 21;
const LONG_LINE_WARMUPS = 3;

const MIN_SHARE_OF_PARSE_CEILING = 0.8;
const MAX_LONG_LINE_RATIO = 3;

const KIB = 1024;
const MB = 1_000_000; // MB/s means 10^6 bytes of NDJSON input per second.

// ---------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------

/** The only part of a chat chunk the benchmark reads. */
interface ChatChunk {
  message: { content: string };
}

/** What one pass over a fixture saw; compared with what the fixture holds. */
interface Tally {
  lines: number;
  checksum: number;
}

/** Order-sensitive, so a dropped, duplicated, swapped or truncated line changes it. */
function mix(checksum: number, contentLength: number): number {
  return (Math.imul(checksum, 31) + contentLength) | 0;
}

/**
 * The per-line work shared by every case, so all of them pay exactly the same for it:
 * parse, then read one field (so the parse cannot be optimised away) into the checksum.
 */
function take(tally: Tally, line: string): void {
  const chunk = JSON.parse(line) as ChatChunk;
  tally.checksum = mix(tally.checksum, chunk.message.content.length);
  tally.lines++;
}

interface Fixture {
  bytes: Uint8Array;
  /** The lines as any UTF-8 reader sees them: the whole input decoded, then split. */
  lines: readonly string[];
  expected: Tally;
}

function buildFixture(lineCount: number): Fixture {
  const text: string[] = [];
  let checksum = 0;
  for (let i = 0; i < lineCount; i++) {
    const content = token(i);
    const done = i === lineCount - 1;
    text.push(
      JSON.stringify({
        model: 'llama3.2',
        created_at: timestamp(i),
        message: { role: 'assistant', content },
        done,
      }),
    );
    checksum = mix(checksum, content.length);
  }
  // Every line ends with LF, as Ollama sends them.
  const bytes = new TextEncoder().encode(text.join('\n') + '\n');
  // The ceiling's lines are the whole input decoded at once and split, so they are the
  // same kind of V8 string a UTF-8 decoding splitter yields (two-byte slices of decoded
  // text) and the comparison isolates the cost of decoding chunks and finding line breaks.
  // They do not come from LineSplitter, so a splitter that produced slow-to-parse strings
  // would still show up as a lower share.
  const lines = new TextDecoder().decode(bytes).split('\n');
  lines.pop(); // The empty string after the final LF.
  return { bytes, lines, expected: { lines: lineCount, checksum } };
}

/** Views, not copies: cutting the input costs nothing during timing. */
function chunksOf(bytes: Uint8Array, size: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let start = 0; start < bytes.length; start += size) chunks.push(bytes.subarray(start, start + size));
  return chunks;
}

/** How many boundaries between chunks of `size` bytes fall inside a multi-byte character. */
function cutCharacters(bytes: Uint8Array, size: number): number {
  let cuts = 0;
  for (let start = size; start < bytes.length; start += size) {
    if (((bytes[start] ?? 0) & 0xc0) === 0x80) cuts++; // A UTF-8 continuation byte.
  }
  return cuts;
}

interface LongLine {
  bytes: Uint8Array;
  contentLength: number;
}

/** One `stream: false`-sized answer: a single JSON line of ~5 MB, mixed ASCII and multi-byte. */
function buildLongLine(targetBytes: number): LongLine {
  const piece = 'The llama é grazes 漢字 in the sun 🦙, then naps.\nCafé "quoted" ';
  const pieceBytes = new TextEncoder().encode(JSON.stringify(piece)).length - 2;
  const content = piece.repeat(Math.ceil(targetBytes / pieceBytes));
  const line = JSON.stringify({
    model: 'llama3.2',
    created_at: timestamp(0),
    message: { role: 'assistant', content },
    done: true,
  });
  return { bytes: new TextEncoder().encode(line + '\n'), contentLength: content.length };
}

// ---------------------------------------------------------------------------------------
// The code under test, one function per case
// ---------------------------------------------------------------------------------------

function splitAndParse(chunks: readonly Uint8Array[]): Tally {
  const tally: Tally = { lines: 0, checksum: 0 };
  const splitter = new LineSplitter();
  for (const chunk of chunks) {
    for (const line of splitter.feed(chunk)) take(tally, line);
  }
  for (const line of splitter.end()) take(tally, line);
  return tally;
}

function parseAlone(lines: readonly string[]): Tally {
  const tally: Tally = { lines: 0, checksum: 0 };
  for (const line of lines) take(tally, line);
  return tally;
}

async function readAndParse(chunks: readonly Uint8Array[]): Promise<Tally> {
  const tally: Tally = { lines: 0, checksum: 0 };
  for await (const chunk of readNdjson<ChatChunk>(streamOf(chunks))) {
    tally.checksum = mix(tally.checksum, chunk.message.content.length);
    tally.lines++;
  }
  return tally;
}

// ---------------------------------------------------------------------------------------
// Measurement
// ---------------------------------------------------------------------------------------

class Mismatch extends Error {}

interface Case {
  label: string;
  chunk: string;
  bytes: number;
  lines: number;
  expected: Tally;
  run: () => Tally | Promise<Tally>;
}

/** A case's description and timings, without its inputs (so holding it keeps no views alive). */
interface Result {
  label: string;
  chunk: string;
  bytes: number;
  lines: number;
  /** Milliseconds of the timed runs, sorted. */
  times: number[];
  /** The same, in the order of the rounds, to pair with another case of the same loop. */
  rounds: number[];
  median: number;
}

function check(c: Case, got: Tally): void {
  if (got.lines !== c.expected.lines || got.checksum !== c.expected.checksum) {
    throw new Mismatch(
      `"${c.label}" at ${c.chunk} returned wrong data: ${got.lines} lines (checksum ${got.checksum}), ` +
        `expected ${c.expected.lines} lines (checksum ${c.expected.checksum}).`,
    );
  }
}

function median(sorted: readonly number[]): number {
  const middle = sorted.length >> 1;
  const high = sorted[middle] ?? NaN;
  return sorted.length % 2 === 1 ? high : ((sorted[middle - 1] ?? NaN) + high) / 2;
}

/**
 * Runs the cases round-robin, flipping the order every round so that neither always goes
 * first (right after a collection, or with a warmer cache). A collection before each run
 * (when `--expose-gc` allows it) keeps one case's garbage from being collected on the
 * next case's clock.
 */
async function measure(cases: readonly Case[], runs = RUNS, warmups = WARMUPS): Promise<Result[]> {
  const times = cases.map((): number[] => []);
  for (let round = 0; round < warmups + runs; round++) {
    const order = cases.map((_, i) => i);
    if (round % 2 === 1) order.reverse();
    for (const i of order) {
      const c = cases[i];
      if (c === undefined) continue;
      globalThis.gc?.();
      const start = performance.now();
      let tally = c.run();
      if (tally instanceof Promise) tally = await tally;
      const elapsed = performance.now() - start;
      check(c, tally);
      if (round >= warmups) times[i]?.push(elapsed);
    }
  }
  return cases.map((c, i) => {
    const rounds = times[i] ?? [];
    const sorted = [...rounds].sort((a, b) => a - b);
    return {
      label: c.label,
      chunk: c.chunk,
      bytes: c.bytes,
      lines: c.lines,
      times: sorted,
      rounds,
      median: median(sorted),
    };
  });
}

/**
 * The median over rounds of `a`'s time divided by `b`'s. The two ran back to back in each
 * round, so a slow moment of this shared machine (another process on the second core, a
 * frequency change) stretches both sides of a pair alike and cancels out of its ratio, where
 * it would move one median and not the other.
 */
function pairedRatio(a: Result, b: Result): number {
  const ratios = a.rounds.map((time, i) => time / (b.rounds[i] ?? NaN));
  return median(ratios.sort((x, y) => x - y));
}

const mbPerSecond = (r: Result): number => r.bytes / MB / (r.median / 1000);
const linesPerSecond = (r: Result): number => r.lines / (r.median / 1000);

// ---------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------

const integer = (n: number): string => Math.round(n).toLocaleString('en-US');
const fixed = (n: number, digits: number): string =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function printTable(results: readonly Result[]): void {
  const header = ['case', 'chunks', 'lines', 'MB', 'median ms', 'min-max ms', 'MB/s', 'lines/s'];
  const rows = results.map((r) => [
    r.label,
    r.chunk,
    integer(r.lines),
    fixed(r.bytes / MB, 1),
    fixed(r.median, 1),
    `${fixed(r.times[0] ?? NaN, 0)}-${fixed(r.times[r.times.length - 1] ?? NaN, 0)}`,
    fixed(mbPerSecond(r), 1),
    integer(linesPerSecond(r)),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  // The first column is text (left-aligned), the others numbers (right-aligned).
  const format = (row: readonly string[]): string =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  console.log(format(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(format(row));
}

// ---------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------

/**
 * Rows 1-3: throughput over the chat-chunk fixture. Every input is built in here and each set
 * of chunk views just before the measurement that uses it, so only what the current
 * measurement needs is alive (the heap's size sets the cost of every major collection,
 * and 1.3 M one-byte views would inflate it), and all of it is garbage once this returns.
 */
async function measureThroughput(): Promise<{ splitter16k: Result; ceiling: Result }> {
  const large = buildFixture(LARGE_FIXTURE_LINES);
  const small = buildFixture(SMALL_FIXTURE_LINES);
  console.log(
    `Fixture: ${integer(large.expected.lines)} chat-chunk lines, ${fixed(large.bytes.length / MB, 1)} MB ` +
      `(${fixed(large.bytes.length / large.expected.lines, 1)} B/line); chunk boundaries that cut a multi-byte ` +
      `character: ${integer(cutCharacters(large.bytes, 16 * KIB))} at 16 KiB, ` +
      `${integer(cutCharacters(large.bytes, 64))} at 64 B, ` +
      `${integer(cutCharacters(small.bytes, 1))} at 1 B (over ${integer(small.expected.lines)} lines).`,
  );
  console.log('');

  const onLarge = (label: string, chunk: string, run: () => Tally | Promise<Tally>): Case => ({
    label,
    chunk,
    bytes: large.bytes.length,
    lines: large.expected.lines,
    expected: large.expected,
    run,
  });
  const splitter = 'splitter + JSON.parse';
  const stream = 'readNdjson over ReadableStream (incl. stream overhead)';

  const views16k = chunksOf(large.bytes, 16 * KIB);
  // The two sides of target (a), measured in the same loop.
  const [splitter16k, ceiling] = await measure(
    [
      onLarge(splitter, '16 KiB', () => splitAndParse(views16k)),
      onLarge('JSON.parse alone (ceiling, pre-split lines)', '-', () => parseAlone(large.lines)),
    ],
    TARGET_A_RUNS,
  );
  const views64 = chunksOf(large.bytes, 64);
  const [splitter64] = await measure([onLarge(splitter, '64 B', () => splitAndParse(views64))]);
  const views1 = chunksOf(small.bytes, 1);
  const [splitter1] = await measure([
    {
      label: splitter,
      chunk: '1 B',
      bytes: small.bytes.length,
      lines: small.expected.lines,
      expected: small.expected,
      run: () => splitAndParse(views1),
    },
  ]);
  const streamed = await measure([
    onLarge(stream, '16 KiB', () => readAndParse(views16k)),
    onLarge(stream, '64 B', () => readAndParse(views64)),
  ]);
  if (splitter16k === undefined || ceiling === undefined || splitter64 === undefined || splitter1 === undefined) {
    throw new Error('A measurement returned no result.');
  }

  console.log('Throughput (MB = 10^6 bytes of NDJSON input)');
  printTable([splitter16k, ceiling, splitter64, splitter1, ...streamed]);
  console.log('');
  return { splitter16k, ceiling };
}

/** Row 4: the same 5 MB line in 64-byte chunks and in one chunk, measured in the same loop. */
async function measureLongLine(): Promise<{ chunked: Result; whole: Result }> {
  const long = buildLongLine(LONG_LINE_BYTES);
  const views64 = chunksOf(long.bytes, 64);
  const onLong = (chunk: string, chunks: readonly Uint8Array[]): Case => ({
    label: '5 MB line',
    chunk,
    bytes: long.bytes.length,
    lines: 1,
    expected: { lines: 1, checksum: mix(0, long.contentLength) },
    run: () => splitAndParse(chunks),
  });
  const [chunked, whole] = await measure(
    [onLong('64 B', views64), onLong('one chunk', [long.bytes])],
    LONG_LINE_RUNS,
    LONG_LINE_WARMUPS,
  );
  if (chunked === undefined || whole === undefined) throw new Error('A measurement returned no result.');

  const range = (r: Result): string => `${fixed(r.times[0] ?? NaN, 1)}-${fixed(r.times[r.times.length - 1] ?? NaN, 1)}`;
  console.log(
    `One ${fixed(long.bytes.length / MB, 2)} MB line (${integer(long.contentLength)} UTF-16 units of ` +
      'content: ASCII, é, 漢字, 🦙, escaped \\n), LineSplitter + JSON.parse of the line',
  );
  console.log(
    `  in 64 B chunks (${integer(views64.length)} feeds): ${fixed(chunked.median, 1)} ms median ` +
      `(min-max ${range(chunked)})`,
  );
  console.log(`  in one chunk:                  ${fixed(whole.median, 1)} ms median (min-max ${range(whole)})`);
  console.log(`  ratio 64 B / one chunk:        ${fixed(chunked.median / whole.median, 2)}x`);
  console.log('');
  return { chunked, whole };
}

async function main(): Promise<boolean> {
  const began = performance.now();
  console.log('NDJSON benchmark: LineSplitter / readNdjson vs JSON.parse alone');
  console.log(
    `Node ${process.version}; ${RUNS} timed runs after ${WARMUPS} warm-ups per case (target pairs: ` +
      `${TARGET_A_RUNS} and ${LONG_LINE_RUNS}), compared cases interleaved, medians reported, targets judged on paired per-round ratios; global.gc ` +
      `${globalThis.gc === undefined ? 'not exposed (node --expose-gc gives steadier numbers)' : 'called before each run'}.`,
  );

  const { splitter16k, ceiling } = await measureThroughput();
  // After the throughput inputs are garbage, so the 5 MB line runs in a small heap.
  const { chunked, whole } = await measureLongLine();

  // Paired per round (see pairedRatio); the table above shows the plain medians.
  const share = 1 / pairedRatio(splitter16k, ceiling);
  const ratio = pairedRatio(chunked, whole);
  const passA = share >= MIN_SHARE_OF_PARSE_CEILING;
  const passB = ratio <= MAX_LONG_LINE_RATIO;
  console.log('Targets');
  console.log(
    `  (a) ${passA ? 'PASS' : 'FAIL'}: splitter + JSON.parse at 16 KiB = ` +
      `${fixed(mbPerSecond(splitter16k), 1)} MB/s vs JSON.parse alone ${fixed(mbPerSecond(ceiling), 1)} MB/s ` +
      `(medians); paired per round: ${fixed(share * 100, 1)} % of JSON.parse alone; needs >= ` +
      `${MIN_SHARE_OF_PARSE_CEILING * 100} %`,
  );
  console.log(
    `  (b) ${passB ? 'PASS' : 'FAIL'}: 5 MB line in 64 B chunks ${fixed(chunked.median, 1)} ms vs one chunk ` +
      `${fixed(whole.median, 1)} ms (medians); paired per round: ${fixed(ratio, 2)}x; needs <= ${MAX_LONG_LINE_RATIO}x`,
  );
  console.log('');
  console.log(
    'Every timed run returned the expected line count and content checksum. Total time ' +
      `${fixed((performance.now() - began) / 1000, 1)} s.`,
  );
  return passA && passB;
}

try {
  // Exit code 1 makes a missed target visible to scripts and CI; exitCode (not exit())
  // lets stdout drain first.
  process.exitCode = (await main()) ? 0 : 1;
} catch (error) {
  console.error(error instanceof Mismatch ? `FAIL: ${error.message}` : error);
  process.exitCode = 1;
}
