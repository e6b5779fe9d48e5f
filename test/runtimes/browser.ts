// The browser column of the matrix: Debian's Chromium, headless, opens a page served by the
// stand-in itself (same origin, so no CORS), which imports the published bundle and the
// compiled suite, runs the scenarios that mean something in a page, and hands the outcomes back
// through the DevTools protocol (chromium.ts, run by the cached Node 22 for its WebSocket).

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startFakeOllama } from '../support/fake-ollama.ts';
import type { Outcome } from '../conformance/suite.ts';
import { chromiumPath, chromiumVersion } from './chromium.ts';
import { RUNTIMES, binary, cell, ensure, run, type Cell, type Column } from './runtimes.ts';

export const BROWSER = 'chromium';

function page(refusedUrl: string, deadUrl: string): string {
  return `<!doctype html>
<meta charset="utf-8">
<title>ollama-fetch conformance</title>
<script type="module">
  import * as lib from '/ollama-fetch.js';
  import * as compat from '/ollama-fetch-compat.js';
  import * as openai from '/ollama-fetch-openai.js';
  import { runSuite } from '/suite.js';
  import { compatScenarios } from '/compat-suite.js';
  const ctx = {
    lib, openai, runtime: 'browser', url: location.origin,
    refusedUrl: ${JSON.stringify(refusedUrl)}, deadUrl: ${JSON.stringify(deadUrl)},
  };
  window.conformance = (async () => [
    ...(await runSuite(ctx)),
    ...(await runSuite({ ...ctx, compat }, undefined, undefined, compatScenarios)),
  ])();
</script>
`;
}

// Module scripts run before the load event, but the wait costs nothing and covers a slow start.
const EXPRESSION = `(async () => {
  for (let i = 0; i < 200 && window.conformance === undefined; i++) await new Promise((r) => setTimeout(r, 50));
  return await window.conformance;
})()`;

function failedColumn(version: string, error: string, rows: readonly string[]): Column {
  return { id: BROWSER, version, cells: new Map(rows.map((row) => [row, cell(row, 0, error)])) };
}

export async function browserOutcomes(
  root: string,
  deadUrl: string,
  refusedUrl: string,
  rows: readonly string[],
  notApplicable: readonly string[],
): Promise<Column> {
  const meaningful = rows.filter((row) => !notApplicable.includes(row));
  const executable = chromiumPath();
  if (executable === undefined) {
    return failedColumn(
      'not installed',
      'Chromium is missing: `apt-get install -y chromium` (.ci/run does this when it is missing)',
      meaningful,
    );
  }
  const version = chromiumVersion(executable) ?? 'version unknown';
  // The driver needs a global WebSocket, which Node 20 lacks; the matrix's Node 22 has one.
  const node22 = RUNTIMES.find((r) => r.id === 'node22');
  if (node22 === undefined) throw new Error('the matrix has no node22 to drive Chromium with');
  await ensure(root, node22);

  const dist = join(root, 'dist');
  const fake = await startFakeOllama({
    files: {
      '/': { type: 'text/html; charset=utf-8', body: page(refusedUrl, deadUrl) },
      '/ollama-fetch.js': {
        type: 'text/javascript; charset=utf-8',
        body: await readFile(join(dist, 'ollama-fetch.js')),
      },
      '/ollama-fetch-openai.js': {
        type: 'text/javascript; charset=utf-8',
        body: await readFile(join(dist, 'ollama-fetch-openai.js')),
      },
      '/suite.js': {
        type: 'text/javascript; charset=utf-8',
        body: await readFile(join(dist, 'test', 'conformance', 'suite.js')),
      },
      '/ollama-fetch-compat.js': {
        type: 'text/javascript; charset=utf-8',
        body: await readFile(join(dist, 'ollama-fetch-compat.js')),
      },
      '/compat-suite.js': {
        type: 'text/javascript; charset=utf-8',
        body: await readFile(join(dist, 'test', 'conformance', 'compat-suite.js')),
      },
    },
  });
  try {
    const driver = join(root, 'test', 'runtimes', 'chromium.ts');
    const result = await run(
      binary(root, node22),
      ['--disable-warning=ExperimentalWarning', driver, `${fake.url}/`, EXPRESSION, '150000'],
      { cwd: root, timeout: 180_000, env: { ...process.env, CHROMIUM: executable } },
    );
    const last = result.stdout.trim().split('\n').pop() ?? '';
    let answer: { ok?: boolean; value?: unknown; error?: string };
    try {
      answer = JSON.parse(last) as typeof answer;
    } catch {
      return failedColumn(
        version,
        `the driver printed no result (exit ${result.code}): ${result.stderr.slice(-1500)}`,
        meaningful,
      );
    }
    if (answer.ok !== true || !Array.isArray(answer.value)) {
      return failedColumn(
        version,
        `the page did not report: ${answer.error ?? JSON.stringify(answer).slice(0, 500)}`,
        meaningful,
      );
    }
    const cells = new Map<string, Cell>();
    for (const outcome of answer.value as Outcome[]) cells.set(outcome.scenario, outcome);
    for (const row of notApplicable) cells.set(row, { scenario: row, ok: true, ms: 0, notApplicable: true });
    return { id: BROWSER, version, cells };
  } finally {
    await fake.close();
  }
}
