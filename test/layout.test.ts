// The layout of lib/ is part of the design: these tests keep it from eroding. The rules are the
// README's ("Development", "How lib/ is laid out"):
//   - lib/*.ts are the modules a user imports; lib/internal/ is the machinery under them.
//   - The building blocks (errors, types, options, host, lines, ndjson, retry, version) import
//     only each other. The machinery imports building blocks and machinery, never a module that
//     makes calls. Nothing imports in a circle.
//   - Errors are built only in the error modules, and endpoints hand their reader to the call
//     layer as it is.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, normalize, sep } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const libDir = join(root, 'lib');

const BUILDING_BLOCKS = new Set([
  'errors.ts',
  'types.ts',
  'options.ts',
  'host.ts',
  'lines.ts',
  'ndjson.ts',
  'retry.ts',
  'version.ts',
]);

/** Every source under lib/, as a path relative to lib/ with forward slashes. */
async function sources(): Promise<string[]> {
  const names = await readdir(libDir, { recursive: true });
  return names.filter((name) => name.endsWith('.ts')).map((name) => name.split(sep).join('/'));
}

/** The lib/ files a source imports (type-only imports included: they are dependencies too). */
export function importsOf(file: string, source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'";]*?from\s*['"](\.[^'"]+)['"]/g)) {
    const target = normalize(join(dirname(file), match[1]!))
      .split(sep)
      .join('/');
    found.push(target);
  }
  return found;
}

/** The subpaths' own building blocks: pure pieces (the SSE parser, like lines.ts) that import
 * only building blocks. */
const SUBPATH_BUILDING_BLOCKS = new Set(['openai/sse.ts', 'openai/types.ts']);

/** The folders of lib/ that are package subpaths of their own (`ollama-fetch/openai`). */
const SUBPATHS = ['openai'];

type Tier = 'building block' | 'machinery' | 'call';

/** Machinery as pure as a building block (it imports nothing and makes no call), which the
 * building blocks may use: the one listener per signal that `retry()` shares with every call. */
const PURE_MACHINERY = new Set(['internal/signals.ts']);

function tierOf(file: string): Tier {
  if (PURE_MACHINERY.has(file)) return 'building block';
  if (file.split('/').includes('internal')) return 'machinery';
  if (!file.includes('/') && BUILDING_BLOCKS.has(file)) return 'building block';
  if (SUBPATH_BUILDING_BLOCKS.has(file)) return 'building block';
  return 'call';
}

/** The subpath a file belongs to (`openai`), or undefined for the root package. */
function subpathOf(file: string): string | undefined {
  const first = file.split('/')[0]!;
  return file.includes('/') && SUBPATHS.includes(first) ? first : undefined;
}

async function graph(): Promise<Map<string, string[]>> {
  const edges = new Map<string, string[]>();
  for (const file of await sources()) {
    edges.set(file, importsOf(file, await readFile(join(libDir, file), 'utf8')));
  }
  return edges;
}

test('importsOf reads static imports and re-exports, and resolves them against the file', () => {
  const source = "import { a } from './a.ts';\nimport type { B } from '../b.ts';\nexport { c } from './c/d.ts';\n";
  assert.deepEqual(importsOf('internal/x.ts', source), ['internal/a.ts', 'b.ts', 'internal/c/d.ts']);
});

test('every module at the top of lib/ is part of the public surface: index.ts exports from it', async () => {
  const index = await readFile(join(libDir, 'index.ts'), 'utf8');
  const exported = new Set(importsOf('index.ts', index));
  const top = (await sources()).filter((file) => !file.includes('/') && file !== 'index.ts');
  assert.ok(top.length >= 10, `lib/ lists its modules (${top.join(', ')})`);
  for (const file of top)
    assert.ok(exported.has(file), `lib/${file} is at the top of lib/ but index.ts does not export it`);
});

test('each public subpath (lib/compat/, …) exports every file at its top from its own index.ts', async () => {
  const all = await sources();
  const subpaths = [
    ...new Set(all.filter((file) => /^[^/]+\/index\.ts$/.test(file)).map((file) => file.split('/')[0]!)),
  ];
  assert.ok(subpaths.includes('compat'), `subpaths found: ${subpaths.join(', ')}`);
  for (const sub of subpaths) {
    const index = await readFile(join(libDir, sub, 'index.ts'), 'utf8');
    const exported = new Set(importsOf(`${sub}/index.ts`, index));
    for (const file of all.filter(
      (f) => f.startsWith(`${sub}/`) && f.split('/').length === 2 && !f.endsWith('/index.ts'),
    )) {
      assert.ok(exported.has(file), `lib/${file} is at the top of lib/${sub}/ but its index.ts does not export it`);
    }
  }
});

test('the machinery under lib/internal/ exists and none of lib/index.ts is in it', async () => {
  const machinery = (await sources()).filter((file) => tierOf(file) === 'machinery');
  assert.ok(machinery.length >= 10, 'the machinery is in lib/internal/');
  const index = await readFile(join(libDir, 'index.ts'), 'utf8');
  for (const target of importsOf('index.ts', index)) {
    assert.notEqual(tierOf(target), 'machinery', `index.ts exports machinery directly: ${target}`);
  }
});

test('building blocks import only building blocks; the machinery never imports a module that makes calls', async () => {
  const problems: string[] = [];
  for (const [file, targets] of await graph()) {
    const from = tierOf(file);
    for (const target of targets) {
      const to = tierOf(target);
      if (from === 'building block' && to !== 'building block')
        problems.push(`${file} (${from}) imports ${target} (${to})`);
      if (from === 'machinery' && to === 'call') problems.push(`${file} (machinery) imports ${target} (a call module)`);
    }
  }
  assert.deepEqual(problems, []);
});

test('the import graph of lib/ has no cycle', async () => {
  const edges = await graph();
  const state = new Map<string, 'open' | 'done'>();
  const visit = (file: string, path: string[]): void => {
    if (state.get(file) === 'done') return;
    assert.notEqual(state.get(file), 'open', `import cycle: ${[...path, file].join(' → ')}`);
    state.set(file, 'open');
    for (const target of edges.get(file) ?? []) visit(target, [...path, file]);
    state.set(file, 'done');
  };
  for (const file of edges.keys()) visit(file, []);
});

test('every import in lib/ names a file that exists', async () => {
  const files = new Set(await sources());
  for (const [file, targets] of await graph()) {
    for (const target of targets) assert.ok(files.has(target), `${file} imports ${target}, which does not exist`);
  }
});

test('new OllamaError( appears only in the error modules', async () => {
  const builders: string[] = [];
  for (const file of await sources()) {
    const source = await readFile(join(libDir, file), 'utf8');
    if (source.includes('new OllamaError(')) builders.push(file);
  }
  assert.ok(builders.length > 0);
  for (const file of builders) assert.match(file, /(^|\/)[a-z-]*errors?\.ts$/, `${file} builds an OllamaError`);
});

test('an endpoint hands its reader to the call layer as it is: no lambda, no cast', async () => {
  let calls = 0;
  for (const file of await sources()) {
    if (tierOf(file) === 'machinery') continue;
    const source = await readFile(join(libDir, file), 'utf8');
    for (const match of source.matchAll(/\bcall(?:Once|Stream)\s*(?:<[^>]*>)?\(([^;]*?)\)(\s+as\b)?[;\n]/g)) {
      calls++;
      assert.doesNotMatch(match[1]!, /=>|\bas\b/, `${file}: ${match[0].trim()}`);
      assert.equal(match[2], undefined, `${file}: a cast around ${match[0].trim()}`);
    }
  }
  assert.ok(calls >= 12, `the check saw the endpoints' calls (${calls})`);
});

test('every module at the top of a subpath folder is part of its surface: its index.ts exports from it', async () => {
  for (const sub of SUBPATHS) {
    const index = await readFile(join(libDir, sub, 'index.ts'), 'utf8');
    const exported = new Set(importsOf(`${sub}/index.ts`, index));
    const top = (await sources()).filter(
      (file) => file.startsWith(`${sub}/`) && file.split('/').length === 2 && file !== `${sub}/index.ts`,
    );
    assert.ok(top.length >= 6, `lib/${sub}/ lists its modules (${top.join(', ')})`);
    for (const file of top)
      assert.ok(exported.has(file), `lib/${file} is at the top of lib/${sub}/ but its index.ts does not export it`);
    for (const target of exported)
      assert.notEqual(tierOf(target), 'machinery', `${sub}/index.ts exports machinery: ${target}`);
  }
});

test('the root package never imports a subpath, and a subpath never imports the root call modules', async () => {
  // The root bundle stays what it was, whatever a subpath adds; a subpath shares the building
  // blocks and the machinery, never another endpoint's module.
  const problems: string[] = [];
  for (const [file, targets] of await graph()) {
    for (const target of targets) {
      const from = subpathOf(file);
      const to = subpathOf(target);
      if (from === undefined && to !== undefined) problems.push(`${file} (root) imports ${target} (subpath ${to})`);
      if (from !== undefined && to === undefined && tierOf(target) === 'call') {
        problems.push(`${file} (subpath ${from}) imports the root call module ${target}`);
      }
      if (from !== undefined && to !== undefined && from !== to)
        problems.push(`${file} imports another subpath: ${target}`);
    }
  }
  assert.deepEqual(problems, []);
});

test('the layout check itself fails on a machinery file that imports a call module', () => {
  assert.equal(tierOf('internal/attempt.ts'), 'machinery');
  assert.equal(tierOf('chat.ts'), 'call');
  assert.equal(tierOf('errors.ts'), 'building block');
  assert.equal(tierOf('openai/chat.ts'), 'call');
  assert.equal(tierOf('openai/sse.ts'), 'building block');
  assert.equal(tierOf('openai/internal/events.ts'), 'machinery');
  assert.equal(subpathOf('openai/chat.ts'), 'openai');
  assert.equal(subpathOf('chat.ts'), undefined);
  assert.equal(subpathOf('internal/call.ts'), undefined);
  // The pure SSE parser importing the machinery would be caught by the building-block rule.
  assert.deepEqual(
    importsOf('openai/sse.ts', "import { send } from '../internal/attempt.ts';\n").map((t) => tierOf(t)),
    ['machinery'],
  );
  const bad = importsOf('internal/x.ts', "import { chat } from '../chat.ts';\n");
  assert.deepEqual(
    bad.map((target) => tierOf(target)),
    ['call'],
  );
});
