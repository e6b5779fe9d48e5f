import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { VERSION } from '../lib/index.ts';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url)); // dist/test
const root = join(here, '..', '..');
const guard = join(here, 'support', 'no-console.js');

test('the console guard fails a process that writes to the console', async () => {
  await assert.rejects(
    run(process.execPath, ['--import', guard, '-e', 'console.log("hello")']),
    (error: { code?: number; stderr?: string }) => error.code === 1 && /console\.log\(hello\)/.test(error.stderr ?? ''),
  );
  await assert.rejects(
    run(process.execPath, ['--import', guard, '-e', 'process.emitWarning("leak")']),
    (error: { code?: number }) => error.code === 1,
  );
  const quiet = await run(process.execPath, ['--import', guard, '-e', '1']);
  assert.equal(quiet.stderr, '');
});

test('this suite runs under the console guard', () => {
  // If the guard were not preloaded, console.log would be Node's own function.
  assert.equal(String(console.log).includes('seen.push'), true);
});

/**
 * Imports `target` in a fresh Node with fetch, timers, process.env and a fake Deno
 * instrumented, and reports what code under `ownDir` touched while it loaded (Node's own
 * loader reads a few environment variables during any import; those are not ours).
 */
async function importProbe(
  target: string,
  ownDir: string,
): Promise<{ touched: string[]; added: string[]; exports: string[] }> {
  const probe = `
    const ownDir = ${JSON.stringify(ownDir)};
    const touched = [];
    const note = (what) => { if ((new Error().stack ?? '').includes(ownDir)) touched.push(what); };
    for (const name of ['fetch', 'setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask']) {
      const original = globalThis[name];
      globalThis[name] = function (...args) { note(name); return original.apply(this, args); };
    }
    const env = process.env;
    process.env = new Proxy(env, {
      get(target, key) { note('process.env.' + String(key)); return target[key]; },
      has(target, key) { note('process.env has ' + String(key)); return key in target; },
      ownKeys(target) { note('process.env keys'); return Reflect.ownKeys(target); },
    });
    globalThis.Deno = { env: { get(name) { note('Deno.env.' + name); } }, permissions: { querySync() { note('Deno.permissions'); return { state: 'granted' }; } } };
    const before = new Set(Reflect.ownKeys(globalThis));
    const module = await import(${JSON.stringify(target)});
    const added = Reflect.ownKeys(globalThis).filter((key) => !before.has(key)).map(String);
    process.env = env;
    process.stdout.write(JSON.stringify({ touched, added, exports: Object.keys(module).sort() }));
  `;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', probe], { cwd: root });
  return JSON.parse(stdout) as { touched: string[]; added: string[]; exports: string[] };
}

test('importing the package makes no request, starts no timer, reads no environment and adds no global', async () => {
  // By its package name, so the `exports` map is exercised too: it resolves to the bundle.
  const bundle = await importProbe('ollama-fetch', join(root, 'dist', 'ollama-fetch.js'));
  // And the per-file output the tests run, which is what a vendored copy of lib/ becomes.
  const files = await importProbe(pathToFileURL(join(root, 'dist', 'lib', 'index.js')).href, join(root, 'dist', 'lib'));
  for (const result of [bundle, files]) {
    assert.deepEqual(result.touched, []);
    assert.deepEqual(result.added, []);
    for (const name of [
      'chat',
      'chatStream',
      'generate',
      'generateStream',
      'embed',
      'embeddings',
      'OllamaError',
      'LineSplitter',
      'readNdjson',
    ]) {
      assert.ok(result.exports.includes(name), `missing export ${name}`);
    }
  }
  assert.deepEqual(bundle.exports, files.exports, 'the bundle exports what lib/index.ts exports');
  const published = await readFile(join(root, 'dist', 'ollama-fetch.js'), 'utf8');
  assert.doesNotMatch(published, /from\s*['"]node:|import\(\s*['"]node:|require\(/, 'the bundle imports a Node module');
});

test('importing ollama-fetch/compat, default instance included, touches nothing either', async () => {
  const bundle = await importProbe('ollama-fetch/compat', join(root, 'dist', 'ollama-fetch-compat.js'));
  const files = await importProbe(
    pathToFileURL(join(root, 'dist', 'lib', 'compat', 'index.js')).href,
    join(root, 'dist', 'lib'),
  );
  for (const result of [bundle, files]) {
    assert.deepEqual(result.touched, []);
    assert.deepEqual(result.added, []);
    for (const name of ['default', 'Ollama', 'OllamaError', 'isOllamaError', 'AbortableAsyncIterator']) {
      assert.ok(result.exports.includes(name), `missing export ${name}`);
    }
  }
  assert.deepEqual(bundle.exports, files.exports);
  const published = await readFile(join(root, 'dist', 'ollama-fetch-compat.js'), 'utf8');
  assert.doesNotMatch(published, /from\s*['"]node:|import\(\s*['"]node:|require\(/);
});

test('importing ollama-fetch/tools touches nothing either', async () => {
  const bundle = await importProbe('ollama-fetch/tools', join(root, 'dist', 'ollama-fetch-tools.js'));
  const files = await importProbe(
    pathToFileURL(join(root, 'dist', 'lib', 'tools', 'index.js')).href,
    join(root, 'dist', 'lib'),
  );
  for (const result of [bundle, files]) {
    assert.deepEqual(result.touched, []);
    assert.deepEqual(result.added, []);
    assert.deepEqual(result.exports, ['runTools', 'runToolsStream', 'webFetch', 'webSearch']);
  }
});

test('importing ollama-fetch/openai makes no request, starts no timer, reads no environment and adds no global', async () => {
  // By the subpath name: the exports map resolves it to its own bundle.
  const bundle = await importProbe('ollama-fetch/openai', join(root, 'dist', 'ollama-fetch-openai.js'));
  const files = await importProbe(
    pathToFileURL(join(root, 'dist', 'lib', 'openai', 'index.js')).href,
    join(root, 'dist', 'lib'),
  );
  for (const result of [bundle, files]) {
    assert.deepEqual(result.touched, []);
    assert.deepEqual(result.added, []);
    for (const name of [
      'chatCompletions',
      'chatCompletionsStream',
      'completions',
      'embeddings',
      'listModels',
      'createOpenAI',
      'SseParser',
      'OllamaError',
    ]) {
      assert.ok(result.exports.includes(name), `missing export ${name}`);
    }
  }
  assert.deepEqual(bundle.exports, files.exports);
  const published = await readFile(join(root, 'dist', 'ollama-fetch-openai.js'), 'utf8');
  assert.doesNotMatch(published, /from\s*['"]node:|import\(\s*['"]node:|require\(/);
});

test('the same probe does see a module that touches globals at import', async () => {
  // Without this, the probe above could be blind and pass forever.
  const dir = await mkdtemp(join(tmpdir(), 'ollama-fetch-probe-'));
  try {
    const file = join(dir, 'impure.mjs');
    await writeFile(file, 'clearTimeout(setTimeout(() => {}, 1)); process.env.HOME; globalThis.leaked = 1;\n');
    const result = await importProbe(pathToFileURL(file).href, dir);
    assert.deepEqual(result.touched, ['setTimeout', 'process.env.HOME']);
    assert.deepEqual(result.added, ['leaked']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('lib/ has no node: import, no console, and no process or Deno access outside functions', async () => {
  const libDir = join(root, 'lib');
  const names = (await readdir(libDir, { recursive: true })).filter((name) => name.endsWith('.ts'));
  assert.ok(names.length > 20, 'lib/ and its folders were read');
  for (const name of names) {
    const source = await readFile(join(libDir, name), 'utf8');
    assert.doesNotMatch(source, /from\s+['"]node:|import\(\s*['"]node:|require\(/, `${name} imports a Node module`);
    assert.doesNotMatch(source, /\bconsole\./, `${name} writes to the console`);
    // Top-level statements start at column 0; process/Deno may only be read inside functions.
    for (const line of source.split('\n')) {
      if (/^\S/.test(line) && !/^\s*(\/\/|\*|\/\*)/.test(line)) {
        assert.doesNotMatch(line, /\bprocess\.|\bDeno\./, `${name} reads process/Deno at top level: ${line}`);
      }
    }
  }
});

test('VERSION matches package.json', async () => {
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
    version: string;
    dependencies?: object;
  };
  assert.equal(VERSION, pkg.version);
  assert.equal(pkg.dependencies, undefined, 'ollama-fetch has no runtime dependency');
});
