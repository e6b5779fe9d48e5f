/**
 * The byte budget of the runtime JavaScript a consumer loads, as plain functions so that
 * both `npm run size` (which prints them) and `npm test` (which turns red when the budget is
 * exceeded) use one and the same rule. Nothing here times anything or touches the disk: the
 * callers read the files, so a test can hand in synthetic bytes.
 */
import { gzipSync } from 'node:zlib';

/**
 * 40 kB, with kB = 1,000 bytes: the unit npm uses for "unpacked size" (the official client's
 * 138 kB is measured that way), and the decimal convention of the NDJSON bench's MB. The
 * stricter of the two readings of "40 KB" (40 KiB would be 40,960).
 */
export const RUNTIME_BUDGET_BYTES = 40_000;

/**
 * The budget of the `ollama-fetch/openai` bundle, a file of its own: it carries its own copy
 * of the shared call layer (a consumer of the subpath alone loads nothing else), so it is
 * judged on its own, and the root bundle's budget is unchanged by it.
 */
export const OPENAI_BUDGET_BYTES = 45_000;

export interface BundleSize {
  /** Bytes on disk: what Node reads and parses at import. */
  raw: number;
  /** `gzipSync` at level 9 (gzip -9), roughly what a compressing server or CDN sends. */
  gzip9: number;
  /** `gzipSync` at zlib's default level (6), for readers who compare with `gzip` without flags. */
  gzipDefault: number;
}

export interface BudgetVerdict extends BundleSize {
  limit: number;
  ok: boolean;
  /** One line, for a failing exit; says by how much the budget is missed or kept. */
  reason: string;
}

export function measureBundle(bytes: Uint8Array): BundleSize {
  return {
    raw: bytes.byteLength,
    gzip9: gzipSync(bytes, { level: 9 }).byteLength,
    gzipDefault: gzipSync(bytes).byteLength,
  };
}

const integer = (n: number): string => n.toLocaleString('en-US');

/** Measures `bytes` (the contents of `name`) and judges the raw size against `limit`. */
export function checkBudget(name: string, bytes: Uint8Array, limit: number = RUNTIME_BUDGET_BYTES): BudgetVerdict {
  const size = measureBundle(bytes);
  const ok = size.raw <= limit;
  const reason = ok
    ? `${name} is ${integer(size.raw)} bytes, within the ${integer(limit)}-byte budget (${integer(limit - size.raw)} to spare)`
    : `${name} is ${integer(size.raw)} bytes, over the ${integer(limit)}-byte budget by ${integer(size.raw - limit)}`;
  return { ...size, limit, ok, reason };
}

/**
 * The file a consumer's `import 'ollama-fetch'` loads, read from package.json's `exports`
 * rather than hard-coded, so the budget follows the package if the bundle is ever renamed.
 */
export function runtimeEntry(packageJson: unknown, subpath = '.'): string {
  const exports = (packageJson as { exports?: Record<string, { default?: unknown }> }).exports;
  const entry = typeof exports === 'object' && exports !== null ? exports[subpath]?.default : undefined;
  if (typeof entry !== 'string')
    throw new Error(`package.json has no string exports["${subpath}"].default to measure.`);
  return entry;
}
