// The vendoring check: lib/ alone, copied into an empty folder (no package.json, no
// node_modules, none above it either), must run as it is under Node 22+, Deno and Bun, and must
// compile with a strict tsc for Node 18 and 20, whose output then runs there too. This is what
// the README's "Vendoring" section tells a user to do, step by step.

import { cp, mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { run } from './runtimes.ts';

export interface VendoredCopy {
  dir: string;
  /** The script run by the runtimes that take TypeScript. */
  script: string;
  /** The same script compiled by tsc, for Node 18 and 20. */
  compiled: string;
  /** What tsc said, and whether it succeeded. */
  compile: { ok: boolean; output: string; ms: number };
}

/**
 * The flags of the strict compile: the README's vendoring section shows the same line. It names
 * no `--types`: `--types ""` is refused by TypeScript before 7 (TS6044, "expects an argument"),
 * and the copy needs no typings beyond the DOM library, so a bare folder (or TypeScript 6+,
 * whose `types` default is empty) compiles it with none. `npm run test:types` runs this line
 * under every TypeScript the README names.
 */
export const TSC_FLAGS = [
  '--strict',
  '--noUncheckedIndexedAccess',
  '--exactOptionalPropertyTypes',
  '--verbatimModuleSyntax',
  '--target',
  'es2022',
  '--module',
  'es2022',
  '--moduleResolution',
  'bundler',
  '--lib',
  'es2022,dom,dom.iterable',
  '--allowImportingTsExtensions',
  '--rewriteRelativeImportExtensions',
];

/** Whether `dir` or a folder above it holds a package.json or node_modules. */
export function insideAPackage(dir: string): string | undefined {
  for (let current = dir, n = 0; n < 64; n++) {
    for (const name of ['package.json', 'node_modules'])
      if (existsSync(join(current, name))) return join(current, name);
    const up = dirname(current);
    if (up === current) return undefined; // the root
    current = up;
  }
  return undefined;
}

/** A bare folder holding lib/ as ./ollama-fetch/ and the script as ./chat.ts, and the files a
 * compile of it is given (the script first). */
export interface BareCopy {
  dir: string;
  script: string;
  files: string[];
}

/** lib/ and the vendored script copied into `dir` (made when absent), as the README says. */
export async function copyInto(root: string, dir: string): Promise<BareCopy> {
  await mkdir(join(dir, 'ollama-fetch'), { recursive: true });
  // The whole of lib/, its folders included, exactly as the README's Vendoring section says.
  const sources = (await readdir(join(root, 'lib'), { recursive: true })).filter((name) => name.endsWith('.ts'));
  await cp(join(root, 'lib'), join(dir, 'ollama-fetch'), { recursive: true });
  const script = join(dir, 'chat.ts');
  const text = await readFile(join(root, 'test', 'runtimes', 'vendored-chat.ts'), 'utf8');
  const rewritten = text.replace("'../../lib/index.ts'", "'./ollama-fetch/index.ts'");
  if (rewritten === text)
    throw new Error('vendored-chat.ts no longer imports ../../lib/index.ts; update the copy step');
  await writeFile(script, rewritten);
  return { dir, script, files: ['chat.ts', ...sources.map((name) => join('ollama-fetch', name))] };
}

/**
 * Compiles a copy with the `tsc` script given (the repository's, or another version's) and
 * `flags`, into `out` under the copy; the output runs as `<out>/chat.js`.
 */
export async function compileCopy(
  copy: BareCopy,
  tsc: string,
  flags: readonly string[],
  out: string,
): Promise<VendoredCopy['compile']> {
  const result = await run(process.execPath, [tsc, ...flags, '--outDir', out, ...copy.files], {
    cwd: copy.dir,
    timeout: 120_000,
  });
  // A Node 18/20 project that is ESM says so in its own package.json; the compiled copy is put
  // in one here, and the sources' folder stays bare.
  if (result.code === 0) await writeFile(join(copy.dir, out, 'package.json'), '{ "type": "module" }\n');
  return { ok: result.code === 0, output: (result.stdout + result.stderr).trim(), ms: result.ms };
}

export async function vendor(root: string): Promise<VendoredCopy> {
  const dir = await mkdtemp(join(tmpdir(), 'ollama-fetch-vendored-'));
  const found = insideAPackage(dir);
  if (found !== undefined) throw new Error(`the vendoring folder ${dir} is not bare: ${found} is visible from it`);
  const copy = await copyInto(root, dir);
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const compile = await compileCopy(copy, tsc, TSC_FLAGS, 'out');
  return { dir, script: copy.script, compiled: join(dir, 'out', 'chat.js'), compile };
}

/** What the vendored script must print for the stand-in's answer to its prompt. */
export function checkVendoredOutput(stdout: string): string | undefined {
  const line = stdout.trim().split('\n').pop() ?? '';
  let parsed: { text?: unknown; chunks?: unknown };
  try {
    parsed = JSON.parse(line) as typeof parsed;
  } catch {
    return `no JSON result line in: ${stdout.slice(0, 300)}`;
  }
  if (typeof parsed.text !== 'string' || !parsed.text.startsWith('You said: Grüße aus dem Ordner 🦙')) {
    return `unexpected text: ${JSON.stringify(parsed.text)}`;
  }
  if (typeof parsed.chunks !== 'number' || parsed.chunks < 2) return `unexpected chunk count: ${String(parsed.chunks)}`;
  return undefined;
}
