/**
 * Size and start-up cost of the package (`npm run size`).
 *
 * 1. Bytes of the runtime JavaScript a consumer loads: the file package.json's
 *    `exports["."].default` names (the esbuild bundle), raw and gzipped, with tsc's per-file
 *    output and the TypeScript sources beside it for context.
 * 2. Import time, with the standard library only: fresh Node processes started alternately,
 *    each doing one thing (nothing; importing an empty module; importing the bundle; touching
 *    `Headers`, which loads Node's bundled undici; importing the bundle and then touching
 *    `Headers`), so the cost of the bundle itself can be told apart from Node's own start-up
 *    and from the fetch machinery every fetch client pays for.
 *
 * Exits 1 when the bundle is over its byte budget (test/bench/size-budget.ts; `npm test`
 * checks the same rule). Timings are printed, never judged: on a shared machine they move by
 * several milliseconds from run to run, and a pass/fail on them would be a coin toss.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { checkBudget, OPENAI_BUDGET_BYTES, runtimeEntry } from './size-budget.ts';

// ---------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------

/** Timed rounds per command; each round starts every command once. ~30 × 5 processes of
 * 30-70 ms each keeps the whole run near 10 s. */
const ROUNDS = 30;
/** Untimed rounds first, so the page cache holds node, the bundle and undici's sources. */
const WARMUPS = 3;
/** A start-up that takes this long has hung (or the machine is swapping); give up on it. */
const CHILD_TIMEOUT_MS = 10_000;
/**
 * Node 20 parses the file NODE_EXTRA_CA_CERTS names eagerly at start-up (~50 ms here, more
 * than the whole import being measured), and NODE_OPTIONS can preload arbitrary code; both
 * are removed from the children's environment so that only Node and the module are timed.
 */
const REMOVED_FROM_ENV = ['NODE_EXTRA_CA_CERTS', 'NODE_OPTIONS'] as const;

const here = dirname(fileURLToPath(import.meta.url)); // dist/test/bench
const root = join(here, '..', '..', '..');

// ---------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------

/** The script's report goes to stdout directly (it is a tool, not library code). */
const say = (text = ''): void => {
  process.stdout.write(`${text}\n`);
};
const integer = (n: number): string => Math.round(n).toLocaleString('en-US');
const fixed = (n: number, digits = 1): string =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const signed = (n: number): string => `${n >= 0 ? '+' : '−'}${fixed(Math.abs(n))}`;

function table(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  // The first column is text (left-aligned), the others numbers (right-aligned).
  const format = (row: readonly string[]): string =>
    row
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  say(`  ${format(header)}`);
  say(`  ${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const row of rows) say(`  ${format(row)}`);
}

// ---------------------------------------------------------------------------------------
// Sizes
// ---------------------------------------------------------------------------------------

/** Total bytes and count of the files in `dir` and its folders whose names end with `suffix`. */
function totalOf(dir: string, suffix: string): { files: number; bytes: number } {
  const names = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith(suffix));
  return { files: names.length, bytes: names.reduce((sum, name) => sum + statSync(join(dir, name)).size, 0) };
}

/** Prints the sizes and returns the budget verdict (judged by the caller, after the timings). */
function reportSizes(entry: string): ReturnType<typeof checkBudget> {
  const verdict = checkBudget(entry, readFileSync(join(root, entry)));
  const map = `${entry}.map`;
  const mapBytes = statSync(join(root, map)).size;
  const perFile = totalOf(join(root, 'dist', 'lib'), '.js');
  const sources = totalOf(join(root, 'lib'), '.ts');

  say('Runtime JavaScript a consumer loads (package.json exports["."].default, one self-contained file):');
  table(
    ['file', 'raw B', 'gzip -9 B', 'gzip default (6) B'],
    [[entry, integer(verdict.raw), integer(verdict.gzip9), integer(verdict.gzipDefault)]],
  );
  say(`  Not loaded at runtime: ${map} (${integer(mapBytes)} B, read only by debuggers) and`);
  say('  dist/lib/*.d.ts (types, read only by the TypeScript compiler). gzip = node:zlib gzipSync.');
  say();
  say('For context (not what a consumer of the package loads):');
  table(
    ['what', 'files', 'raw B'],
    [
      [
        "dist/lib/**/*.js: tsc's unminified per-file output (what the tests run)",
        integer(perFile.files),
        integer(perFile.bytes),
      ],
      ['lib/**/*.ts: the sources, what a vendoring user copies', integer(sources.files), integer(sources.bytes)],
    ],
  );
  say();
  say(
    `Budget (${fixed(verdict.limit / 1000, 0)} kB, kB = 1,000 bytes): ${verdict.ok ? 'PASS' : 'FAIL'}: ${verdict.reason}.`,
  );
  say();
  return verdict;
}

// ---------------------------------------------------------------------------------------
// Import time
// ---------------------------------------------------------------------------------------

interface Command {
  label: string;
  /** Source for `node -e`, as CommonJS: the form the official client was measured with. */
  code: string;
  meaning: string;
}

interface Timing {
  command: Command;
  /** Wall-clock milliseconds per round, in round order, so rounds can be paired. */
  rounds: number[];
}

/** Linear interpolation between the closest ranks; `sorted` ascending. */
function percentile(sorted: readonly number[], p: number): number {
  const at = (sorted.length - 1) * p;
  const low = sorted[Math.floor(at)] ?? NaN;
  const high = sorted[Math.ceil(at)] ?? NaN;
  return low + (high - low) * (at - Math.floor(at));
}

const ascending = (values: readonly number[]): number[] => [...values].sort((a, b) => a - b);

/** Starts one child and returns how long it took to start, run `code` and exit. */
function timeOnce(command: Command, env: NodeJS.ProcessEnv): number {
  const start = performance.now();
  const child = spawnSync(process.execPath, ['-e', command.code], {
    cwd: root,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: CHILD_TIMEOUT_MS,
  });
  const elapsed = performance.now() - start;
  if (child.status !== 0) {
    const why =
      (child.error?.message ?? child.stderr.toString().trim().split('\n')[0]) || `exit status ${child.status}`;
    throw new Error(`"node -e ${command.code}" failed: ${why}`);
  }
  return elapsed;
}

/**
 * Every round starts each command once, the order flipping every round, so a slow moment of
 * this shared machine lands on all commands alike instead of on one.
 */
function timeAll(commands: readonly Command[], env: NodeJS.ProcessEnv): Timing[] {
  const timings = commands.map((command): Timing => ({ command, rounds: [] }));
  for (let round = 0; round < WARMUPS + ROUNDS; round++) {
    const order = round % 2 === 0 ? timings : [...timings].reverse();
    for (const timing of order) {
      const elapsed = timeOnce(timing.command, env);
      if (round >= WARMUPS) timing.rounds.push(elapsed);
    }
  }
  return timings;
}

function reportImportTime(entry: string): void {
  const env: NodeJS.ProcessEnv = { ...process.env };
  const removed = REMOVED_FROM_ENV.filter((name) => env[name] !== undefined);
  for (const name of REMOVED_FROM_ENV) delete env[name];

  // An empty module on disk, so the ESM loader's own cost can be told apart from the bundle's.
  const scratch = mkdtempSync(join(tmpdir(), 'ollama-fetch-size-'));
  try {
    const empty = join(scratch, 'empty.mjs');
    writeFileSync(empty, 'export {};\n');
    const bundleUrl = JSON.stringify(pathToFileURL(join(root, entry)).href);
    const emptyUrl = JSON.stringify(pathToFileURL(empty).href);
    const commands: Command[] = [
      { label: 'node -e 0', code: '0', meaning: 'Node starting and exiting with nothing to do (the baseline)' },
      {
        label: 'import(empty.mjs)',
        code: `import(${emptyUrl})`,
        meaning: 'the ESM loader itself, with an empty module',
      },
      {
        label: `import(${entry})`,
        code: `import(${bundleUrl})`,
        meaning: 'the ESM loader plus parsing and running the bundle',
      },
      {
        label: 'new Headers()',
        code: 'new Headers()',
        meaning: "Node's bundled undici, which every fetch client loads on first use",
      },
      {
        label: `import(${entry}) + new Headers()`,
        code: `import(${bundleUrl}).then(() => new Headers())`,
        meaning: 'ready to fetch: the bundle and undici both loaded',
      },
    ];

    say(
      `Import time: ${ROUNDS} timed rounds after ${WARMUPS} warm-ups, each round starting every command once as a ` +
        'fresh process (order flipped every round); wall-clock from spawn to exit, in ms.',
    );
    say(
      `Children run \`node -e "<code>"\` with ${
        removed.length === 0
          ? 'nothing removed from the environment'
          : `${removed.join(' and ')} removed from their environment`
      } (Node 20 reads the NODE_EXTRA_CA_CERTS file at ` + 'start-up, ~50 ms that would drown the signal).',
    );
    const timings = timeAll(commands, env);
    const baseline = timings[0];
    if (baseline === undefined) throw new Error('No baseline timing.');

    const rows = timings.map((timing) => {
      const sorted = ascending(timing.rounds);
      // Paired per round: both processes ran back to back, so a slow moment cancels out.
      const deltas = ascending(timing.rounds.map((ms, i) => ms - (baseline.rounds[i] ?? NaN)));
      const isBaseline = timing === baseline;
      return [
        timing.command.label,
        fixed(percentile(sorted, 0.5)),
        `${fixed(percentile(sorted, 0.25))}–${fixed(percentile(sorted, 0.75))}`,
        isBaseline ? '—' : signed(percentile(deltas, 0.5)),
        isBaseline ? '—' : `${signed(percentile(deltas, 0.25))} … ${signed(percentile(deltas, 0.75))}`,
      ];
    });
    table(['command', 'median', 'p25–p75', 'Δ vs node -e 0', 'Δ p25–p75'], rows);
    say('  Δ = median (and quartiles) of the per-round differences from `node -e 0`.');
    say();
    say('What each row measures:');
    for (const { command } of timings) say(`  ${command.label}: ${command.meaning}.`);
    say('  For comparison, the official client (ollama 0.6.4) on this machine, Node 20.20, NODE_EXTRA_CA_CERTS unset,');
    say(
      "  measured with hyperfine (means of 30 runs, not medians): import('ollama') +40 ms, and +56 ms until ready to",
    );
    say("  fetch (import('ollama') + new Headers()); its whatwg-fetch polyfill is imported unconditionally.");
    say();
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------

function main(): boolean {
  const entry = runtimeEntry(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))).replace(/^\.\//, '');
  say('Size and start-up of ollama-fetch (npm run size)');
  say(`Node ${process.version}, ${process.platform} ${process.arch}, ${availableParallelism()} CPUs.`);
  say();
  const verdict = reportSizes(entry);
  // The ollama-fetch/openai subpath: its own self-contained bundle, under its own budget.
  const openaiEntry = runtimeEntry(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')), './openai').replace(
    /^\.\//,
    '',
  );
  const openai = checkBudget(openaiEntry, readFileSync(join(root, openaiEntry)), OPENAI_BUDGET_BYTES);
  say('The ollama-fetch/openai subpath (exports["./openai"].default, a bundle of its own):');
  table(
    ['file', 'raw B', 'gzip -9 B', 'gzip default (6) B'],
    [[openaiEntry, integer(openai.raw), integer(openai.gzip9), integer(openai.gzipDefault)]],
  );
  say(`Budget (${fixed(openai.limit / 1000, 0)} kB): ${openai.ok ? 'PASS' : 'FAIL'}: ${openai.reason}.`);
  say();
  reportImportTime(entry);
  for (const failed of [verdict, openai].filter((v) => !v.ok)) process.stderr.write(`FAIL: ${failed.reason}.\n`);
  return verdict.ok && openai.ok;
}

try {
  // exitCode (not exit()) lets stdout drain first.
  process.exitCode = main() ? 0 : 1;
} catch (error) {
  process.stderr.write(`FAIL: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
