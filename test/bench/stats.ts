// Measuring and printing for the side-by-side benchmark: paired rounds in rotated order after a
// full collection, medians with interquartile ranges, plain-text tables.

/** A client handed back something other than what the server sent: the run fails (exit 1). */
export class WrongResult extends Error {
  override name = 'WrongResult';
}

export function expect(condition: boolean, message: () => string): void {
  if (!condition) throw new WrongResult(message());
}

/** The q-quantile (0..1) of sorted values, linearly interpolated. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const a = sorted[low] ?? NaN;
  const b = sorted[Math.min(low + 1, sorted.length - 1)] ?? NaN;
  return a + (b - a) * (at - low);
}

export interface Latencies {
  p50: number;
  p99: number;
  mean: number;
}

/** p50 and p99 (nearest rank below) and mean of one run's call latencies. */
export function latencyFigures(values: readonly number[]): Latencies {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: sorted[Math.floor(sorted.length * 0.5)] ?? NaN,
    p99: sorted[Math.floor(sorted.length * 0.99)] ?? NaN,
    mean: sorted.reduce((sum, x) => sum + x, 0) / sorted.length,
  };
}

export interface Summary {
  median: number;
  q1: number;
  q3: number;
  /** In round order, for paired ratios. */
  values: readonly number[];
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((x, y) => x - y);
  return { median: quantile(sorted, 0.5), q1: quantile(sorted, 0.25), q3: quantile(sorted, 0.75), values };
}

/** Applies `f` to every value (e.g. ms to MB/s; a decreasing `f` swaps the quartiles). */
export function mapSummary(s: Summary, f: (value: number) => number): Summary {
  return summarize(s.values.map(f));
}

/**
 * The median over rounds of a's value divided by b's. The two ran in the same round, so a
 * slow moment of the machine stretches both and cancels out of the ratio.
 */
export function pairedRatio(a: Summary, b: Summary): number {
  const n = Math.min(a.values.length, b.values.length);
  const ratios: number[] = [];
  for (let i = 0; i < n; i++) ratios.push((a.values[i] ?? NaN) / (b.values[i] ?? NaN));
  return summarize(ratios).median;
}

export interface RoundOptions {
  rounds: number;
  warmups: number;
  /**
   * Untimed runs of the same case between each full collection and its timed run. A forced
   * collection (and only a forced one: V8's own full collections keep it) drops the optimized code
   * of every function, so the run right after it mostly measures how fast each client's code is
   * compiled again, which no application pays; one run of the case recompiles it. Default 0.
   */
  rewarm?: number;
}

/**
 * Runs every case once per round, `warmups` untimed rounds first. Round r starts with case
 * r mod n (rotation), so none always goes first; a full collection precedes each run (and
 * `rewarm` untimed runs of the same case follow that collection). `run`
 * returns the value measured (it checks the result itself and throws WrongResult); `timed`
 * tells it whether the value will be kept (false in warm-up rounds).
 */
export async function measureRounds<K extends string>(
  cases: readonly K[],
  options: RoundOptions,
  run: (key: K, timed: boolean) => Promise<number>,
): Promise<Record<K, Summary>> {
  const values = new Map<K, number[]>(cases.map((key) => [key, []]));
  for (let round = 0; round < options.warmups + options.rounds; round++) {
    for (let i = 0; i < cases.length; i++) {
      const key = cases[(round + i) % cases.length] as K;
      fullGc();
      for (let again = 0; again < (options.rewarm ?? 0); again++) await run(key, false);
      const value = await run(key, round >= options.warmups);
      if (round >= options.warmups) values.get(key)?.push(value);
    }
  }
  const out = {} as Record<K, Summary>;
  for (const key of cases) out[key] = summarize(values.get(key) ?? []);
  return out;
}

export function fullGc(): void {
  const gc = globalThis.gc;
  if (gc === undefined) throw new Error('Run with node --expose-gc (npm run bench does).');
  gc();
  gc();
}

export async function time(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

// ---- Printing -----------------------------------------------------------------------------

export function fixed(n: number, digits = 1): string {
  if (!Number.isFinite(n)) return '-';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Significant-ish digits: 3 decimals below 1, 2 below 10, 1 below 1000, none above. */
export function num(n: number): string {
  const a = Math.abs(n);
  return fixed(n, a < 1 ? 3 : a < 10 ? 2 : a < 1000 ? 1 : 0);
}

/** `median [q1–q3]`. */
export function withIqr(s: Summary): string {
  return `${num(s.median)} [${num(s.q1)}–${num(s.q3)}]`;
}

export function ratio(r: number): string {
  return Number.isFinite(r) ? `${fixed(r, 2)}×` : '-';
}

export function table(title: string, header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (row: readonly string[]): string =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  console.log('');
  console.log(title);
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

export function note(text: string): void {
  console.log(`  ${text}`);
}
