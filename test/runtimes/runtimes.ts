// The runtimes of the matrix: exact versions, installed from the npm registry (the only
// network CI has besides Debian's packages) into .cache/runtimes/<id>, which git ignores.
// `node@N` brings its binary through a preinstall script, Deno and Bun as optional
// dependencies; nothing else is downloaded.

import { execFile, type ExecFileOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Outcome } from '../conformance/suite.ts';

export interface Runtime {
  /** Column name in the matrix. */
  id: string;
  /** What `npm install` is given. */
  spec: string;
  kind: 'node' | 'deno' | 'bun';
  /**
   * What the runtime loads: the TypeScript sources as they are (type stripping on Node 22+,
   * Deno, Bun), or the published bundle (Node 18 and 20 cannot run TypeScript).
   */
  loads: 'sources' | 'bundle';
}

/** One runtime's results in the matrix, by row. */
export interface Column {
  id: string;
  version: string;
  cells: Map<string, Cell>;
}

export interface Cell extends Outcome {
  /** The row means nothing here (a browser has no process to end); shown as n/a, not failed. */
  notApplicable?: boolean;
}

/** A row's cell: passed unless there is a problem to report. */
export function cell(row: string, ms: number, problem: string | undefined): Cell {
  const base = { scenario: row, ms: Math.round(ms) };
  return problem === undefined ? { ...base, ok: true } : { ...base, ok: false, error: problem };
}

export const RUNTIMES: readonly Runtime[] = [
  { id: 'node18', spec: 'node@18.20.8', kind: 'node', loads: 'bundle' },
  { id: 'node20', spec: 'node@20.20.2', kind: 'node', loads: 'bundle' },
  { id: 'node22', spec: 'node@22.23.3', kind: 'node', loads: 'sources' },
  { id: 'node24', spec: 'node@24.21.0', kind: 'node', loads: 'sources' },
  { id: 'node26', spec: 'node@26.10.0', kind: 'node', loads: 'sources' },
  { id: 'deno', spec: 'deno@2.9.6', kind: 'deno', loads: 'sources' },
  { id: 'bun', spec: 'bun@1.4.5', kind: 'bun', loads: 'sources' },
];

export function cacheDir(root: string, runtime: Runtime): string {
  return join(root, '.cache', 'runtimes', runtime.id);
}

export function binary(root: string, runtime: Runtime): string {
  return join(cacheDir(root, runtime), 'node_modules', '.bin', runtime.kind);
}

/**
 * The command line that runs `script` (with `args`) in this runtime. Deno may reach loopback and
 * nothing else, and read only `readable`, when given: a script's static imports need no
 * permission, a dynamic import does.
 */
export function command(
  root: string,
  runtime: Runtime,
  script: string,
  args: string[],
  readable?: string,
): [string, string[]] {
  const bin = binary(root, runtime);
  switch (runtime.kind) {
    case 'deno': {
      // --no-config: the repository's package.json is not Deno's business, and must not make it
      // look for npm packages.
      const read = readable === undefined ? [] : [`--allow-read=${readable}`];
      return [
        bin,
        ['run', '--no-config', '--no-lock', '--no-prompt', '--allow-net=127.0.0.1', ...read, script, ...args],
      ];
    }
    case 'bun':
      return [bin, [script, ...args]];
    case 'node':
      // Node 22's type stripping announces itself on stderr; the warning is Node's, not ours.
      return [
        bin,
        runtime.loads === 'sources' ? ['--disable-warning=ExperimentalWarning', script, ...args] : [script, ...args],
      ];
  }
}

export function run(
  file: string,
  args: string[],
  options: ExecFileOptions & { timeout: number },
): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { ...options, encoding: 'utf8', maxBuffer: 16 << 20, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ code, stdout: String(stdout), stderr: String(stderr), ms: performance.now() - started });
      },
    );
  });
}

async function installedVersion(root: string, runtime: Runtime): Promise<string | undefined> {
  const name = runtime.spec.slice(0, runtime.spec.lastIndexOf('@'));
  try {
    const manifest = JSON.parse(
      await readFile(join(cacheDir(root, runtime), 'node_modules', name, 'package.json'), 'utf8'),
    ) as { version?: string };
    return manifest.version;
  } catch {
    return undefined;
  }
}

/** Installs the runtime unless its pinned version is already in the cache; returns what happened. */
export async function ensure(root: string, runtime: Runtime): Promise<string> {
  const wanted = runtime.spec.slice(runtime.spec.lastIndexOf('@') + 1);
  if ((await installedVersion(root, runtime)) === wanted && existsSync(binary(root, runtime))) return 'cached';
  const dir = cacheDir(root, runtime);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), '{ "private": true }\n');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = await run(npm, ['install', '--no-audit', '--no-fund', '--no-save', '--loglevel=error', runtime.spec], {
    cwd: dir,
    timeout: 300_000,
  });
  if (result.code !== 0 || !existsSync(binary(root, runtime))) {
    throw new Error(
      `could not install ${runtime.spec} into ${dir} (exit ${result.code}):\n${result.stderr.slice(-2000)}`,
    );
  }
  return `installed in ${(result.ms / 1000).toFixed(1)} s`;
}

/** `file:` URL of a path, as every runtime's dynamic import accepts it. */
export function fileUrl(path: string): string {
  return pathToFileURL(path).href;
}
