// `npm run test:runtimes`: the conformance suite (test/conformance/suite.ts) under every runtime
// we promise, each against its own stand-in server on 127.0.0.1, then the vendoring check, then
// a real headless Chromium. Prints one matrix, runtime × scenario, with the time each cell took,
// and exits 1 when any cell failed or is missing. Runtimes come from the npm registry into
// .cache/runtimes (see runtimes.ts); Chromium from Debian (.ci/run installs it).
//
//   node dist/test/runtimes/matrix.js [--only node22,deno,...]

import { rm } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDeadHost } from '../support/dead-host.ts';
import { startFakeOllama } from '../support/fake-ollama.ts';
import { compatScenarios } from '../conformance/compat-suite.ts';
import { scenarios, type Outcome } from '../conformance/suite.ts';
import { browserOutcomes, BROWSER } from './browser.ts';
import { RUNTIMES, binary, cell, command, ensure, fileUrl, run, type Column, type Runtime } from './runtimes.ts';
import { checkVendoredOutput, vendor } from './vendoring.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..'); // dist/test/runtimes → repo
const dist = join(root, 'dist');

/** Rows beyond the suite's scenarios. */
const VENDORED = 'vendored lib/: stream a chat';
const EXITED = 'process ends by itself afterwards';

function write(text: string): void {
  process.stdout.write(text);
}

/** A port on loopback where nothing listens: a stand-in's, after it closed. */
async function refusedUrl(): Promise<string> {
  const closed = await startFakeOllama();
  await closed.close();
  return closed.url;
}

function parseOutcomes(stdout: string): Outcome[] {
  const outcomes: Outcome[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const parsed = JSON.parse(line) as Outcome;
      if (typeof parsed.scenario === 'string' && typeof parsed.ok === 'boolean') outcomes.push(parsed);
    } catch {
      // Not one of ours; the runtime's own output is kept in stderr for the report.
    }
  }
  return outcomes;
}

async function suiteColumn(
  runtime: Runtime,
  deadUrl: string,
  vendored: Awaited<ReturnType<typeof vendor>>,
): Promise<Column> {
  const cells = new Map<string, Outcome>();
  const version =
    (await run(binary(root, runtime), ['--version'], { timeout: 30_000 })).stdout.trim().split('\n')[0] ?? '?';
  const fake = await startFakeOllama();
  try {
    const library = runtime.loads === 'sources' ? join(root, 'lib', 'index.ts') : join(dist, 'ollama-fetch.js');
    const compat =
      runtime.loads === 'sources' ? join(root, 'lib', 'compat', 'index.ts') : join(dist, 'ollama-fetch-compat.js');
    const script =
      runtime.loads === 'sources'
        ? join(root, 'test', 'conformance', 'main.ts')
        : join(dist, 'test', 'conformance', 'main.js');
    const [file, args] = command(
      root,
      runtime,
      script,
      [runtime.kind, fileUrl(library), fake.url, await refusedUrl(), deadUrl, fileUrl(compat)],
      root,
    );
    const result = await run(file, args, { cwd: root, timeout: 180_000, env: childEnv() });
    for (const outcome of parseOutcomes(result.stdout)) cells.set(outcome.scenario, outcome);
    cells.set(EXITED, cell(EXITED, result.ms, exitProblem(result, 180)));

    const runsSources = runtime.loads === 'sources';
    if (runsSources || vendored.compile.ok) {
      const [vfile, vargs] = command(root, runtime, runsSources ? vendored.script : vendored.compiled, [fake.url]);
      const v = await run(vfile, vargs, { cwd: vendored.dir, timeout: 60_000, env: childEnv() });
      cells.set(VENDORED, cell(VENDORED, v.ms, exitProblem(v, 60) ?? checkVendoredOutput(v.stdout)));
    } else {
      cells.set(VENDORED, cell(VENDORED, 0, `the strict compile failed:\n${vendored.compile.output}`));
    }
  } finally {
    await fake.close();
  }
  return { id: runtime.id, version, cells };
}

/** Runs chromium-selfcheck.ts on the matrix's Node 22 (the driver needs its WebSocket), printing
 * its lines; returns why it failed, or undefined. */
async function checkDriver(): Promise<string | undefined> {
  const node22 = RUNTIMES.find((r) => r.id === 'node22');
  if (node22 === undefined) return 'the matrix has no node22 to run it with';
  await ensure(root, node22);
  const script = join(root, 'test', 'runtimes', 'chromium-selfcheck.ts');
  const result = await run(binary(root, node22), ['--disable-warning=ExperimentalWarning', script], {
    cwd: root,
    timeout: 180_000,
    env: childEnv(),
  });
  for (const line of result.stdout.trim().split('\n')) write(`  ${line}\n`);
  return exitProblem(result, 180);
}

/** Why a child process did not end well, or undefined when it exited 0. */
function exitProblem(result: { code: number | null; stderr: string }, limitSeconds: number): string | undefined {
  if (result.code === 0) return undefined;
  return `exit code ${result.code ?? `none (killed after ${limitSeconds} s)`}; stderr: ${result.stderr.trim().slice(-1500)}`;
}

/** The runtimes see no OLLAMA_HOST or proxy of the machine's: every address is given to them. */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of [
    'OLLAMA_HOST',
    'OLLAMA_API_KEY',
    'NODE_OPTIONS',
    'HTTP_PROXY',
    'HTTPS_PROXY',
    'http_proxy',
    'https_proxy',
  ])
    delete env[name];
  env['NO_COLOR'] = '1';
  return env;
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

function printMatrix(columns: Column[], rows: string[]): number {
  const first = Math.max(...rows.map((r) => r.length)) + 2;
  const width = 10;
  write(`\n${pad('', first)}${columns.map((c) => pad(c.id, width)).join('')}\n`);
  let failures = 0;
  for (const row of rows) {
    let line = pad(row, first);
    for (const column of columns) {
      const cell = column.cells.get(row);
      const text =
        cell === undefined ? 'MISSING' : cell.notApplicable === true ? 'n/a' : cell.ok ? `ok ${cell.ms}ms` : 'FAIL';
      if (cell === undefined || !cell.ok) failures++;
      line += pad(text, width);
    }
    write(`${line}\n`);
  }
  write('\n');
  for (const column of columns) write(`${column.id}: ${column.version}\n`);
  for (const column of columns) {
    for (const row of rows) {
      const cell = column.cells.get(row);
      if (cell === undefined) write(`\nMISSING ${column.id} / ${row}: the runtime never reported this scenario`);
      else if (cell.notApplicable === true) continue;
      else if (!cell.ok) write(`\nFAIL ${column.id} / ${row} (${cell.ms} ms): ${cell.error ?? ''}`);
    }
  }
  return failures;
}

async function main(): Promise<void> {
  const onlyIndex = process.argv.indexOf('--only');
  const only = onlyIndex > 0 ? new Set((process.argv[onlyIndex + 1] ?? '').split(',')) : undefined;
  const runtimes = RUNTIMES.filter((r) => only === undefined || only.has(r.id));
  const withBrowser = only === undefined || only.has(BROWSER);

  const started = performance.now();
  write('Installing the runtimes from the npm registry into .cache/runtimes (kept between runs)\n');
  // Two at a time: each is a download of 100–200 MB and an unpack.
  const queue = [...runtimes];
  await Promise.all(
    [0, 1].map(async () => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift())
        write(`  ${next.spec}: ${await ensure(root, next)}\n`);
    }),
  );

  const vendored = await vendor(root);
  write(
    `Vendored copy in ${vendored.dir}; strict tsc compile ${vendored.compile.ok ? 'passed' : 'FAILED'} in ${(vendored.compile.ms / 1000).toFixed(1)} s\n`,
  );

  const rows = [...scenarios.map((s) => s.name), ...compatScenarios.map((s) => s.name), VENDORED, EXITED];
  const dead = await startDeadHost();
  const columns: Column[] = [];
  let driverProblem: string | undefined;
  try {
    for (const runtime of runtimes) {
      write(`Running the suite under ${runtime.id}...\n`);
      columns.push(await suiteColumn(runtime, dead.url, vendored));
    }
    if (withBrowser) {
      // The driver is proven before its column is believed: it must stream, fail loudly and
      // leave no process or profile behind.
      write('Checking the Chromium driver itself...\n');
      driverProblem = await checkDriver();
      write('Running the suite in headless Chromium...\n');
      columns.push(await browserOutcomes(root, dead.url, await refusedUrl(), rows, [VENDORED, EXITED]));
    }
  } finally {
    await dead.close();
    await rm(vendored.dir, { recursive: true, force: true });
  }

  const failures = printMatrix(columns, rows) + (driverProblem === undefined ? 0 : 1);
  if (driverProblem !== undefined) write(`\nFAIL the Chromium driver's self-check: ${driverProblem}\n`);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (failures > 0) {
    write(`\n\n${failures} cell(s) failed or missing (${seconds} s).\n`);
    process.exitCode = 1;
  } else {
    write(`\nEvery cell passed: ${columns.length} runtimes × ${rows.length} rows (${seconds} s).\n`);
  }
}

await main();
