// `npm run test:install`: the package installed the ways people install it, from a fresh
// `git clone` of this repository's HEAD (what is committed, nothing built):
//
//   1. `npm install git+file://<clone>` into an empty ESM project: npm runs the package's
//      `prepare` (the build) with its devDependencies, and `import('ollama-fetch')` streams a
//      chat from the stand-in.
//   2. In the clone, `npm ci` then `npm pack --dry-run --json`: the bundle, the .d.ts files, the
//      sources and the LICENSE are in it, and nothing of the tests.
//   3. The tarball `npm pack` makes, installed into an empty ESM project (`import`) and into an
//      empty CommonJS one as `npm init -y` writes it (`require()` of ESM, on the Node versions
//      that have it, else `await import()`).
//   4. The single-file bundle taken out of the tarball alone, imported by a relative path.
//
// Slow (two installs of the devDependencies from the npm registry), so it is not part of
// `npm test`; .ci/run runs it.
//
//   node dist/test/install/main.js

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startFakeOllama } from '../support/fake-ollama.ts';
import { run } from '../runtimes/runtimes.ts';
import { checkVendoredOutput, insideAPackage } from '../runtimes/vendoring.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..'); // dist/test/install → repo

/** What `npm pack` must hold, and must not. */
const MUST_SHIP = [
  'LICENSE',
  'README.md',
  'package.json',
  'dist/ollama-fetch.js',
  'dist/ollama-fetch-compat.js',
  'dist/ollama-fetch-tools.js',
  'dist/lib/index.d.ts',
  'dist/lib/compat/index.d.ts',
  'dist/lib/tools/index.d.ts',
  'dist/lib/chat.d.ts',
  'dist/lib/options.d.ts',
  'dist/lib/types.d.ts',
  'dist/lib/internal/call.d.ts',
  'lib/index.ts',
  'lib/chat.ts',
  'lib/internal/call.ts',
  'dist/ollama-fetch-openai.js',
  'dist/lib/openai/index.d.ts',
  'lib/openai/index.ts',
];
const MUST_NOT_SHIP = [
  /^test\//,
  /^dist\/test\//,
  /^dist\/examples\//,
  /^examples\//,
  /^dist\/lib\/.*\.js$/,
  /^\.cache/,
];

// The chat both programs below stream from the stand-in, every character beyond ASCII cut in
// two. The same check as the vendored copy's, so the same output is expected.
const STREAM_CHAT = `const host = process.argv[2];
const headers = { 'x-fake-behaviour': '{"splitCharacters":true,"pieceDelayMs":2}' };
let text = '';
let chunks = 0;
for await (const chunk of chatStream(
  { model: 'llama3.2', messages: [{ role: 'user', content: 'Grüße aus dem Ordner 🦙' }] },
  { host, headers },
)) {
  chunks++;
  if (!chunk.done) text += chunk.message.content;
}`;

// The user's program, as a user writes it: the package by its name.
const ESM_PROGRAM = `import { chatStream, VERSION } from 'ollama-fetch';
${STREAM_CHAT}
console.log(JSON.stringify({ text, chunks, version: VERSION }));
`;

// A CommonJS file (what `npm init -y` makes a project): require() of an ES module where Node
// has it (20.19+, 22.12+), else the dynamic import every Node has.
const CJS_PROGRAM = `const load = process.features.require_module ? async () => require('ollama-fetch') : () => import('ollama-fetch');
load().then(async ({ chatStream }) => {
${STREAM_CHAT}
  console.log(JSON.stringify({ text, chunks, how: process.features.require_module ? 'require' : 'import' }));
});
`;

// The /v1 subpath by its name, as a user of `ollama-fetch/openai` writes it.
const V1_PROGRAM = `import { chatCompletionsStream } from 'ollama-fetch/openai';
let text = '';
for await (const chunk of chatCompletionsStream(
  { model: 'llama3.2', messages: [{ role: 'user', content: 'Hi' }] },
  { baseURL: process.argv[2] + '/v1', headers: { 'x-fake-behaviour': '{"splitCharacters":true,"pieceDelayMs":2}' } },
)) text += chunk.choices[0]?.delta.content ?? '';
console.log(JSON.stringify({ text }));
`;

/** Runs the /v1 program in `dir` against the stand-in; says what it printed. */
async function runV1Program(dir: string, host: string): Promise<string> {
  await writeFile(join(dir, 'v1.js'), V1_PROGRAM);
  const result = await run(process.execPath, ['v1.js', host], { cwd: dir, timeout: 60_000 });
  if (result.code !== 0) throw new Error(`node v1.js exited ${result.code}:\n${result.stderr.slice(-2000)}`);
  const printed = result.stdout.trim();
  if (printed !== '{"text":"Hello from the stand-in."}') throw new Error(`v1.js printed ${printed}`);
  return printed;
}

interface Step {
  name: string;
  ok: boolean;
  ms: number;
  detail: string;
}

const steps: Step[] = [];

function write(text: string): void {
  process.stdout.write(text);
}

async function step(name: string, body: () => Promise<string>): Promise<boolean> {
  const started = performance.now();
  let ok = true;
  let detail: string;
  try {
    detail = await body();
  } catch (error) {
    ok = false;
    detail = error instanceof Error ? error.message : String(error);
  }
  const ms = performance.now() - started;
  steps.push({ name, ok, ms, detail });
  write(
    `${ok ? 'ok  ' : 'FAIL'} ${name} (${(ms / 1000).toFixed(1)} s)${detail === '' ? '' : `\n     ${detail.split('\n').join('\n     ')}`}\n`,
  );
  return ok;
}

/** The environment of a user's npm: none of the settings `npm run` hands down (its
 * `--silent` would hide what npm says). */
function userEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (/^npm_(config|lifecycle|package)_/i.test(name)) delete env[name];
  return env;
}

async function npm(args: string[], cwd: string): Promise<{ stdout: string; stderr: string }> {
  const result = await run('npm', [...args, '--no-audit', '--no-fund'], { cwd, timeout: 300_000, env: userEnv() });
  if (result.code !== 0)
    throw new Error(`npm ${args.join(' ')} in ${cwd} failed (exit ${result.code}):\n${result.stderr.slice(-2500)}`);
  return result;
}

/** An empty project of the given module type, in a folder with no package above it. */
async function emptyProject(parent: string, name: string, type: 'module' | 'commonjs'): Promise<string> {
  const dir = join(parent, name);
  await mkdir(dir);
  await writeFile(join(dir, 'package.json'), `${JSON.stringify({ name, version: '1.0.0', private: true, type })}\n`);
  return dir;
}

/** Runs the user's program in `dir` against the stand-in; says what it printed. */
async function runProgram(dir: string, file: string, program: string, host: string): Promise<string> {
  await writeFile(join(dir, file), program);
  const result = await run(process.execPath, [file, host], { cwd: dir, timeout: 60_000 });
  if (result.code !== 0) throw new Error(`node ${file} exited ${result.code}:\n${result.stderr.slice(-2000)}`);
  const problem = checkVendoredOutput(result.stdout);
  if (problem !== undefined) throw new Error(problem);
  return result.stdout.trim();
}

function installedFiles(dir: string): string {
  const pkg = join(dir, 'node_modules', 'ollama-fetch');
  const missing = ['dist/ollama-fetch.js', 'dist/lib/index.d.ts', 'LICENSE', 'lib/index.ts'].filter(
    (file) => !existsSync(join(pkg, file)),
  );
  if (missing.length > 0) throw new Error(`the installed package lacks ${missing.join(', ')}`);
  return '';
}

async function main(): Promise<void> {
  const started = performance.now();
  const work = await mkdtemp(join(tmpdir(), 'ollama-fetch-install-'));
  const above = insideAPackage(work);
  if (above !== undefined) throw new Error(`${work} is inside a package (${above}); the check needs a bare folder`);
  const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' });
  if (dirty.trim() !== '') write('note: uncommitted changes are not in the clone; this checks HEAD.\n');
  const fake = await startFakeOllama();
  const clone = join(work, 'clone');
  try {
    await step('git clone of HEAD (no dist/ in it)', async () => {
      await run('git', ['clone', '--quiet', root, clone], { timeout: 120_000 }).then((r) => {
        if (r.code !== 0) throw new Error(r.stderr);
      });
      if (existsSync(join(clone, 'dist'))) throw new Error('the clone has a dist/: something built is committed');
      return '';
    });

    const fromGit = await emptyProject(work, 'from-git', 'module');
    await step('npm install git+file://<clone> into an empty ESM project (runs prepare)', async () => {
      const { stderr } = await npm(['install', pathToFileURL(clone).href.replace(/^file:/, 'git+file:')], fromGit);
      installedFiles(fromGit);
      // npm 11 lists the git dependency's `prepare` as "not yet covered by allowScripts", yet
      // runs it (dist/ is there, built in the clone npm made): the notice is advice, not a skip.
      const notice = stderr.split('\n').filter((line) => line.includes('ollama-fetch@'));
      return notice.length > 0 ? `npm said: ${notice.join(' ').trim()}; prepare ran (dist/ is there)` : '';
    });
    await step("import('ollama-fetch') from the git install streams a chat", () =>
      runProgram(fromGit, 'chat.js', ESM_PROGRAM, fake.url),
    );
    await step("import('ollama-fetch/openai') from the git install streams a /v1 chat", () =>
      runV1Program(fromGit, fake.url),
    );

    await step('npm ci in the clone (prepare builds dist/)', async () => {
      await npm(['ci'], clone);
      if (!existsSync(join(clone, 'dist', 'ollama-fetch.js'))) throw new Error('npm ci did not build dist/');
      return '';
    });
    let tarball = '';
    await step('npm pack --dry-run --json lists the bundle, the .d.ts files, the sources, the LICENSE', async () => {
      const { stdout } = await npm(['pack', '--dry-run', '--json', '--ignore-scripts'], clone);
      const [{ files }] = JSON.parse(stdout) as [{ files: Array<{ path: string }> }];
      const paths = new Set(files.map((f) => f.path));
      const missing = MUST_SHIP.filter((p) => !paths.has(p));
      const extra = [...paths].filter((p) => MUST_NOT_SHIP.some((re) => re.test(p)));
      if (missing.length > 0 || extra.length > 0)
        throw new Error(`missing: ${missing.join(', ') || 'none'}; must not ship: ${extra.join(', ') || 'none'}`);
      const dts = [...paths].filter((p) => p.endsWith('.d.ts')).length;
      return `${paths.size} files, ${dts} .d.ts`;
    });
    await step('npm pack makes the tarball', async () => {
      const { stdout } = await npm(['pack', '--json', '--ignore-scripts', '--pack-destination', work], clone);
      const [{ filename }] = JSON.parse(stdout) as [{ filename: string }];
      tarball = join(work, filename);
      return filename;
    });

    const fromTarball = await emptyProject(work, 'from-tarball', 'module');
    await step('npm install ./ollama-fetch-<version>.tgz into an empty ESM project, import() streams', async () => {
      await npm(['install', '--offline', tarball], fromTarball);
      installedFiles(fromTarball);
      return runProgram(fromTarball, 'chat.js', ESM_PROGRAM, fake.url);
    });
    const commonjs = await emptyProject(work, 'commonjs', 'commonjs');
    await step(`the tarball in a CommonJS project: require() (Node ${process.versions.node}) or import()`, async () => {
      await npm(['install', '--offline', tarball], commonjs);
      return runProgram(commonjs, 'chat.js', CJS_PROGRAM, fake.url);
    });
    await step('the single-file bundle alone (dist/ollama-fetch.js from the tarball), imported by path', async () => {
      const single = join(work, 'single-file');
      await mkdir(single);
      const unpacked = await run('tar', ['-xzf', tarball, '-C', single, 'package/dist/ollama-fetch.js'], {
        timeout: 60_000,
      });
      if (unpacked.code !== 0) throw new Error(`tar: ${unpacked.stderr}`);
      await writeFile(join(single, 'package.json'), '{ "private": true, "type": "module" }\n');
      const program = ESM_PROGRAM.replace("from 'ollama-fetch'", "from './package/dist/ollama-fetch.js'");
      return runProgram(single, 'chat.js', program, fake.url);
    });
  } finally {
    await fake.close();
    await rm(work, { recursive: true, force: true });
  }
  const failed = steps.filter((s) => !s.ok).length;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (failed > 0) {
    write(`\n${failed} of ${steps.length} step(s) failed (${seconds} s).\n`);
    process.exitCode = 1;
  } else {
    write(`\nEvery step passed: ${steps.length} (${seconds} s).\n`);
  }
}

await main();
