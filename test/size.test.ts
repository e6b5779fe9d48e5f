// The byte budget of the runtime JavaScript (`npm run size` prints it with timings; this
// checks the same rule without them), so a bundle that grows past it turns `npm test` red.
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  COMPAT_BUDGET_BYTES,
  checkBudget,
  OPENAI_BUDGET_BYTES,
  RUNTIME_BUDGET_BYTES,
  runtimeEntry,
  subpathEntry,
  TOOLS_BUDGET_BYTES,
} from './bench/size-budget.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..'); // dist/test -> the repository
const packageJson: unknown = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));

test('the bundle a consumer loads is within the byte budget', async () => {
  const entry = runtimeEntry(packageJson);
  const verdict = checkBudget(entry, await readFile(join(root, entry)));
  assert.equal(RUNTIME_BUDGET_BYTES, 64_000);
  assert.ok(verdict.ok, verdict.reason);
  // Minified code compresses to about a third; a gzip size near the raw one would mean the
  // measurement compressed something else (or nothing).
  assert.ok(
    verdict.gzip9 > 0 && verdict.gzip9 < verdict.raw / 2,
    `gzip -9 gave ${verdict.gzip9} of ${verdict.raw} bytes`,
  );
});

test('the budget check fails one byte over the limit and passes exactly at it', () => {
  // Without this, a check that never fails would keep the test above green forever.
  const over = checkBudget('synthetic.js', new Uint8Array(RUNTIME_BUDGET_BYTES + 1));
  assert.equal(over.ok, false);
  assert.equal(over.raw, RUNTIME_BUDGET_BYTES + 1);
  assert.match(over.reason, /^synthetic\.js is 64,001 bytes, over the 64,000-byte budget by 1$/);
  assert.equal(checkBudget('synthetic.js', new Uint8Array(RUNTIME_BUDGET_BYTES)).ok, true);
  assert.equal(checkBudget('small.js', new Uint8Array(10), 9).ok, false);
});

test('the budgeted file is the whole runtime: alone in an empty directory it imports with every export', async () => {
  // If the bundle imported a sibling file, its own size would understate what a consumer loads.
  const entry = runtimeEntry(packageJson);
  const dir = await mkdtemp(join(tmpdir(), 'ollama-fetch-bundle-'));
  try {
    const copy = join(dir, 'alone.mjs');
    await copyFile(join(root, entry), copy);
    const alone = (await import(pathToFileURL(copy).href)) as Record<string, unknown>;
    const perFile = (await import(pathToFileURL(join(root, 'dist', 'lib', 'index.js')).href)) as Record<
      string,
      unknown
    >;
    assert.deepEqual(Object.keys(alone).sort(), Object.keys(perFile).sort());
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('runtimeEntry reads exports["."].default and refuses a package.json without one', () => {
  assert.equal(runtimeEntry({ exports: { '.': { types: './a.d.ts', default: './a.js' } } }), './a.js');
  assert.throws(() => runtimeEntry({ exports: './a.js' }), /exports\["\."\]\.default/);
  assert.throws(() => runtimeEntry({}), /exports\["\."\]\.default/);
  assert.equal(runtimeEntry({ exports: { './openai': { default: './b.js' } } }, './openai'), './b.js');
  assert.throws(() => runtimeEntry({ exports: { '.': { default: './a.js' } } }, './openai'), /exports\["\.\/openai"\]/);
});

test('the ollama-fetch/openai bundle is within its own budget, and alone in a directory imports with every export', async () => {
  const entry = runtimeEntry(packageJson, './openai');
  assert.equal(entry, './dist/ollama-fetch-openai.js');
  const verdict = checkBudget(entry, await readFile(join(root, entry)), OPENAI_BUDGET_BYTES);
  assert.ok(verdict.ok, verdict.reason);
  const dir = await mkdtemp(join(tmpdir(), 'ollama-fetch-openai-'));
  try {
    const copy = join(dir, 'alone.mjs');
    await copyFile(join(root, entry), copy);
    const alone = (await import(pathToFileURL(copy).href)) as Record<string, unknown>;
    const perFile = (await import(pathToFileURL(join(root, 'dist', 'lib', 'openai', 'index.js')).href)) as Record<
      string,
      unknown
    >;
    assert.deepEqual(Object.keys(alone).sort(), Object.keys(perFile).sort());
    assert.ok(typeof alone.chatCompletionsStream === 'function' && typeof alone.SseParser === 'function');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the root bundle does not carry the /v1 client', async () => {
  const root_ = await readFile(join(root, runtimeEntry(packageJson)), 'utf8');
  assert.doesNotMatch(root_, /text\/event-stream|chat\/completions/);
});

for (const [subpath, file, budget] of [
  ['./compat', 'compat', COMPAT_BUDGET_BYTES],
  ['./tools', 'tools', TOOLS_BUDGET_BYTES],
] as const) {
  test(`the ollama-fetch/${file} bundle is within its own budget, and alone it imports with every export`, async () => {
    const entry = subpathEntry(packageJson, subpath);
    assert.equal(entry, `./dist/ollama-fetch-${file}.js`);
    const verdict = checkBudget(entry, await readFile(join(root, entry)), budget);
    assert.ok(verdict.ok, verdict.reason);
    const dir = await mkdtemp(join(tmpdir(), `ollama-fetch-${file}-bundle-`));
    try {
      const copy = join(dir, 'alone.mjs');
      await copyFile(join(root, entry), copy);
      const alone = (await import(pathToFileURL(copy).href)) as Record<string, unknown>;
      const perFile = (await import(pathToFileURL(join(root, 'dist', 'lib', file, 'index.js')).href)) as Record<
        string,
        unknown
      >;
      assert.deepEqual(Object.keys(alone).sort(), Object.keys(perFile).sort());
      assert.ok(Object.keys(alone).length >= 3);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

test('the subpath budgets are what the README says', () => {
  assert.equal(COMPAT_BUDGET_BYTES, 65_000);
  assert.equal(TOOLS_BUDGET_BYTES, 57_000);
});

test('subpathEntry reads exports[subpath].default and refuses a package.json without one', () => {
  assert.equal(subpathEntry({ exports: { './compat': { default: './c.js' } } }, './compat'), './c.js');
  assert.throws(() => subpathEntry({ exports: {} }, './compat'), /exports\["\.\/compat"\]\.default/);
});

test('the published bundles are minified, yet their public classes keep their names', async () => {
  const load = (subpath: string): Promise<Record<string, unknown>> =>
    import(pathToFileURL(join(root, subpathEntry(packageJson, subpath))).href);
  const [main, compat, openai] = await Promise.all([load('.'), load('./compat'), load('./openai')]);
  const names = (module: Record<string, unknown>, exports: string[]) =>
    exports.map((name) => (module[name] as { name?: unknown } | undefined)?.name);
  assert.deepEqual(names(main, ['OllamaError']), ['OllamaError']);
  assert.deepEqual(names(compat, ['Ollama', 'AbortableAsyncIterator', 'OllamaError']), [
    'Ollama',
    'AbortableAsyncIterator',
    'OllamaError',
  ]);
  assert.equal((compat['default'] as object).constructor.name, 'Ollama');
  assert.deepEqual(names(openai, ['SseParser', 'OllamaError']), ['SseParser', 'OllamaError']);
});
