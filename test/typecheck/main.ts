// `npm run test:types`: the package's types and the vendored lib/ as users compile them, under
// every TypeScript the README names, from the npm registry into .cache/typescript/<version>
// (kept between runs, like the runtimes). Prints one matrix, configuration × TypeScript, and
// exits 1 when any cell failed.
//
// - The consumer (fixtures/consumer.ts) is type-checked in an empty ESM project where the
//   package is installed from the tarball `npm pack` makes, so it sees exactly the published
//   `.d.ts` files: strict, exactOptionalPropertyTypes, noUncheckedIndexedAccess, skipLibCheck
//   false; moduleResolution nodenext and bundler (and node10 for the `types` fallback); Node
//   typings without the DOM library, the DOM library without Node typings, and both.
// - The vendored lib/ is compiled with the README's line in a bare folder (DOM library, no
//   typings), and for Node with `--lib es2022 --types node`, and each output streams a chat from
//   the stand-in under this Node.
//
//   node dist/test/typecheck/main.js [--only 5.7.3,7.0.2]

import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeOllama } from '../support/fake-ollama.ts';
import { run } from '../runtimes/runtimes.ts';
import { checkVendoredOutput, compileCopy, copyInto, insideAPackage, TSC_FLAGS } from '../runtimes/vendoring.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..'); // dist/test/typecheck → repo

/** The TypeScripts of the matrix: the first with --rewriteRelativeImportExtensions, the last 5.x,
 * and the one the repository builds with. Exact versions, as on the npm registry. */
export const TYPESCRIPTS: readonly string[] = ['5.7.3', '5.9.3', '7.0.2'];

type Env = 'node' | 'dom' | 'dom+node';
type Resolution = 'nodenext' | 'bundler' | 'node10';

interface Row {
  name: string;
  run(version: string, tsc: string): Promise<Verdict>;
}

interface Verdict {
  ok: boolean;
  ms: number;
  notApplicable?: boolean;
  detail?: string;
}

const ENV_LIBS: Record<Env, { lib: string[]; types: string[]; label: string }> = {
  node: { lib: ['es2022'], types: ['node'], label: 'Node: lib es2022 + @types/node, no DOM' },
  dom: { lib: ['es2022', 'dom', 'dom.iterable'], types: [], label: 'browser: DOM library, no @types/node' },
  'dom+node': { lib: ['es2022', 'dom', 'dom.iterable'], types: ['node'], label: 'DOM library + @types/node' },
};

const MODULE_FOR: Record<Resolution, string> = { nodenext: 'nodenext', bundler: 'esnext', node10: 'es2022' };

function write(text: string): void {
  process.stdout.write(text);
}

function tscOf(version: string): string {
  return join(root, '.cache', 'typescript', version, 'node_modules', 'typescript', 'bin', 'tsc');
}

/** Installs `typescript@version` unless the cache has it; returns what happened. */
async function ensureTypeScript(version: string): Promise<string> {
  const dir = join(root, '.cache', 'typescript', version);
  const manifest = join(dir, 'node_modules', 'typescript', 'package.json');
  if (existsSync(manifest) && existsSync(tscOf(version))) {
    const { version: found } = JSON.parse(await readFile(manifest, 'utf8')) as { version?: string };
    if (found === version) return 'cached';
  }
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), '{ "private": true }\n');
  const result = await run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--no-save', '--loglevel=error', `typescript@${version}`],
    { cwd: dir, timeout: 300_000 },
  );
  if (result.code !== 0 || !existsSync(tscOf(version)))
    throw new Error(`could not install typescript@${version} into ${dir}:\n${result.stderr.slice(-2000)}`);
  return `installed in ${(result.ms / 1000).toFixed(1)} s`;
}

/**
 * An empty ESM project with the package installed from its tarball (what `npm pack` puts in
 * it, nothing else), and @types/node linked in from the repository's own devDependencies.
 */
async function consumerProject(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ollama-fetch-consumer-'));
  const found = insideAPackage(dir);
  if (found !== undefined) throw new Error(`the consumer folder ${dir} is not empty of packages: ${found}`);
  const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
    cwd: root,
    timeout: 120_000,
  });
  if (packed.code !== 0) throw new Error(`npm pack failed:\n${packed.stderr.slice(-2000)}`);
  const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
  await writeFile(join(dir, 'package.json'), '{ "name": "consumer", "private": true, "type": "module" }\n');
  const installed = await run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--offline', '--loglevel=error', `./${filename}`],
    { cwd: dir, timeout: 120_000 },
  );
  if (installed.code !== 0) throw new Error(`installing ${filename} failed:\n${installed.stderr.slice(-2000)}`);
  await mkdir(join(dir, 'node_modules', '@types'), { recursive: true });
  await symlink(join(root, 'node_modules', '@types', 'node'), join(dir, 'node_modules', '@types', 'node'), 'dir');
  for (const file of ['consumer.ts', 'subpaths.ts', 'commonjs-import.cts', 'commonjs-dynamic.cts'])
    await writeFile(join(dir, file), await readFile(join(root, 'test', 'typecheck', 'fixtures', file), 'utf8'));
  return dir;
}

function verdict(result: { code: number | null; stdout: string; stderr: string; ms: number }): Verdict {
  const detail = (result.stdout + result.stderr).trim();
  return result.code === 0 ? { ok: true, ms: result.ms } : { ok: false, ms: result.ms, detail };
}

/** A TypeScript that is known not to support what a row checks: the row is n/a there when the
 * compiler says so with this code, and fails for any other error. */
interface Unsupported {
  code: string;
  versions: RegExp;
}

function consumerRow(
  dir: string,
  env: Env,
  resolution: Resolution,
  file = 'consumer.ts',
  what = 'consumer .d.ts',
  unsupported?: Unsupported,
): Row {
  const { lib, types, label } = ENV_LIBS[env];
  const name = `${what}, ${label}, ${resolution}${resolution === 'node10' ? ' (types/main fallback)' : ''}`;
  return {
    name,
    async run(version, tsc) {
      const config = join(dir, `tsconfig.${version}.${file}.${env}.${resolution}.json`);
      const compilerOptions = {
        target: 'es2022',
        module: MODULE_FOR[resolution],
        moduleResolution: resolution,
        lib,
        types,
        strict: true,
        exactOptionalPropertyTypes: true,
        noUncheckedIndexedAccess: true,
        skipLibCheck: false,
        noEmit: true,
      };
      await writeFile(config, JSON.stringify({ compilerOptions, files: [file] }, null, 2));
      const result = await run(process.execPath, [tsc, '-p', config], { cwd: dir, timeout: 120_000 });
      const output = result.stdout + result.stderr;
      // node10 is gone from TypeScript 7; the fallback it needs is for the older compilers.
      if (resolution === 'node10' && result.code !== 0 && /TS5108/.test(output))
        return { ok: true, ms: result.ms, notApplicable: true };
      if (unsupported?.versions.test(version)) {
        // Where the compiler lacks it, it must say so (and only so), as the README says.
        const expected = result.code !== 0 && output.includes(unsupported.code);
        return expected
          ? { ok: true, ms: result.ms, notApplicable: true }
          : { ok: false, ms: result.ms, detail: `expected ${unsupported.code} from TS ${version}, got:\n${output}` };
      }
      return verdict(result);
    },
  };
}

/** The vendored copy compiled by one TypeScript and then run: its output must stream a chat. */
function vendoredRow(
  name: string,
  place: (version: string) => Promise<string>,
  flags: readonly string[],
  host: () => string,
): Row {
  return {
    name,
    async run(version, tsc) {
      const copy = await copyInto(root, await place(version));
      const out = `out-${version}`;
      const compiled = await compileCopy(copy, tsc, flags, out);
      if (!compiled.ok) return { ok: false, ms: compiled.ms, detail: compiled.output };
      const ran = await run(process.execPath, [join(copy.dir, out, 'chat.js'), host()], {
        cwd: copy.dir,
        timeout: 60_000,
      });
      const problem = ran.code !== 0 ? `exit ${ran.code}: ${ran.stderr.slice(-1500)}` : checkVendoredOutput(ran.stdout);
      return problem === undefined
        ? { ok: true, ms: compiled.ms + ran.ms }
        : { ok: false, ms: ran.ms, detail: problem };
    },
  };
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

async function main(): Promise<void> {
  const onlyIndex = process.argv.indexOf('--only');
  const only = onlyIndex > 0 ? new Set((process.argv[onlyIndex + 1] ?? '').split(',')) : undefined;
  const versions = TYPESCRIPTS.filter((v) => only === undefined || only.has(v));
  const started = performance.now();

  write('Installing TypeScript from the npm registry into .cache/typescript (kept between runs)\n');
  for (const version of versions) write(`  typescript@${version}: ${await ensureTypeScript(version)}\n`);

  const consumer = await consumerProject();
  write(`Consumer project with the packed package installed: ${consumer}\n`);
  const bare = await mkdtemp(join(tmpdir(), 'ollama-fetch-vendored-'));
  const fake = await startFakeOllama();
  const nodeFlags = TSC_FLAGS.map((flag) => (flag === 'es2022,dom,dom.iterable' ? 'es2022' : flag));
  if (nodeFlags.join(' ') === TSC_FLAGS.join(' ')) throw new Error('TSC_FLAGS no longer name the DOM library');
  nodeFlags.push('--types', 'node');
  // The newest library: there an AsyncGenerator has Symbol.asyncDispose (explicit resource
  // management), which the streams must then have too.
  const esnextFlags = TSC_FLAGS.map((flag) => (flag === 'es2022,dom,dom.iterable' ? 'esnext,dom,dom.iterable' : flag));

  const rows: Row[] = [];
  for (const env of ['node', 'dom', 'dom+node'] as const)
    for (const resolution of ['nodenext', 'bundler'] as const) rows.push(consumerRow(consumer, env, resolution));
  rows.push(consumerRow(consumer, 'node', 'node10'));
  // The subpaths: through `exports`, and under node10 (which reads no `exports`) through typesVersions.
  for (const resolution of ['nodenext', 'bundler', 'node10'] as const)
    rows.push(consumerRow(consumer, 'node', resolution, 'subpaths.ts', 'subpaths /openai /compat /tools .d.ts'));
  // CommonJS: a static import compiles to require() of ESM from TypeScript 5.8 on (5.7 refuses
  // it with TS1479, and says to use import()); a dynamic import() compiles everywhere.
  rows.push(
    consumerRow(consumer, 'node', 'nodenext', 'commonjs-import.cts', 'CommonJS import (require of ESM)', {
      code: 'TS1479',
      versions: /^5\.7\./,
    }),
    consumerRow(consumer, 'node', 'nodenext', 'commonjs-dynamic.cts', 'CommonJS await import()'),
  );
  rows.push(
    vendoredRow(
      "vendored lib/, the README's tsc line in a bare folder, run",
      async (version) => {
        const dir = join(bare, version);
        if (insideAPackage(dir) !== undefined) throw new Error(`${dir} is not bare: ${insideAPackage(dir)}`);
        return dir;
      },
      TSC_FLAGS,
      () => fake.url,
    ),
    vendoredRow(
      'vendored lib/, --lib es2022 --types node (no DOM), run',
      async (version) => join(consumer, 'vendor-node', version),
      nodeFlags,
      () => fake.url,
    ),
    vendoredRow(
      'vendored lib/, --lib esnext (Symbol.asyncDispose), run',
      async (version) => join(consumer, 'vendor-esnext', version),
      esnextFlags,
      () => fake.url,
    ),
  );

  const results = new Map<string, Verdict>();
  try {
    // Two compilers at a time: the machine's two cores.
    const jobs = versions.flatMap((version) => rows.map((row) => ({ version, row })));
    await Promise.all(
      [0, 1].map(async () => {
        for (let job = jobs.shift(); job !== undefined; job = jobs.shift()) {
          let result: Verdict;
          try {
            result = await job.row.run(job.version, tscOf(job.version));
          } catch (error) {
            result = { ok: false, ms: 0, detail: error instanceof Error ? error.message : String(error) };
          }
          results.set(`${job.row.name}\u0000${job.version}`, result);
        }
      }),
    );
  } finally {
    await fake.close();
    await rm(consumer, { recursive: true, force: true });
    await rm(bare, { recursive: true, force: true });
  }

  const first = Math.max(...rows.map((r) => r.name.length)) + 2;
  const width = 12;
  write(`\n${pad('', first)}${versions.map((v) => pad(`TS ${v}`, width)).join('')}\n`);
  let failures = 0;
  const details: string[] = [];
  for (const row of rows) {
    let line = pad(row.name, first);
    for (const version of versions) {
      const result = results.get(`${row.name}\u0000${version}`);
      if (result === undefined || !result.ok) failures++;
      if (result !== undefined && !result.ok) details.push(`FAIL TS ${version} / ${row.name}:\n${result.detail ?? ''}`);
      const text =
        result === undefined
          ? 'MISSING'
          : result.notApplicable === true
            ? 'n/a'
            : result.ok
              ? `ok ${(result.ms / 1000).toFixed(1)}s`
              : 'FAIL';
      line += pad(text, width);
    }
    write(`${line}\n`);
  }
  write('\nn/a: TypeScript 7 removed moduleResolution node10 (TS5108); the fallback serves the older ones.\n');
  write('     TypeScript 5.7 compiles no require() of ESM (TS1479): a CommonJS project there uses import().\n');
  write(`The README's vendoring line, as run above:\n  tsc ${TSC_FLAGS.join(' ')} --outDir out <files>\n`);
  for (const detail of details) write(`\n${detail.slice(0, 3000)}\n`);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (failures > 0) {
    write(`\n${failures} cell(s) failed or missing (${seconds} s).\n`);
    process.exitCode = 1;
  } else {
    write(`\nEvery cell passed: ${versions.length} TypeScripts × ${rows.length} rows (${seconds} s).\n`);
  }
}

await main();
