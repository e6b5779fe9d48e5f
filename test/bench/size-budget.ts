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
export function runtimeEntry(packageJson: unknown): string {
  const exports = (packageJson as { exports?: { '.'?: { default?: unknown } } }).exports;
  const entry = exports?.['.']?.default;
  if (typeof entry !== 'string') throw new Error('package.json has no string exports["."].default to measure.');
  return entry;
}

/**
 * The budget of `ollama-fetch/compat`'s bundle, which holds the library's calls as well as the
 * class on top of them: the root bundle's budget plus 4 kB for the compat layer, so that neither
 * can grow unnoticed. (The root bundle's budget does not change with it.)
 */
export const COMPAT_BUDGET_BYTES = 44_000;

/**
 * The budget of `ollama-fetch/tools`'s bundle (the tool loop and the web calls, on the chat
 * stream and the call machinery they need): the root bundle's budget, which it holds only part of.
 */
export const TOOLS_BUDGET_BYTES = 40_000;

/** The file a consumer's `import 'ollama-fetch/<subpath>'` loads, read from package.json's `exports`. */
export function subpathEntry(packageJson: unknown, subpath: string): string {
  const exports = (packageJson as { exports?: Record<string, { default?: unknown } | undefined> }).exports;
  const entry = exports?.[subpath]?.default;
  if (typeof entry !== 'string')
    throw new Error(`package.json has no string exports["${subpath}"].default to measure.`);
  return entry;
}
