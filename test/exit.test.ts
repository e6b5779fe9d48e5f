// A process whose only work was one call exits as soon as the call settles, whatever the
// outcome: no timer (read, total, retry wait) and no pooled socket of the library holds it.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { startFakeOllama, type FakeOllama } from './support/fake-ollama.ts';

const script = fileURLToPath(new URL('./support/one-call.js', import.meta.url));

let fake: FakeOllama;
before(async () => {
  fake = await startFakeOllama();
});
after(() => fake.close());

/** Runs one scenario; resolves with how it settled and how long the process lived after. */
function lifeAfter(scenario: string): Promise<{ outcome: string; lingered: number; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, fake.url, scenario], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let settledAt: number | undefined;
    const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      out += text;
      if (settledAt === undefined && out.includes('\n')) settledAt = performance.now();
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => (err += text));
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(guard);
      const exitedAt = performance.now();
      if (settledAt === undefined) {
        reject(new Error(`the child never settled (exit ${code}): ${err}`));
        return;
      }
      resolve({ outcome: out.trim(), lingered: exitedAt - settledAt, code });
    });
  });
}

// 2.5 s: under `npm test` the child writes its V8 coverage at exit (c8 passes NODE_V8_COVERAGE on),
// with every other suite running, which took just over 1 s once. What this guards against holds
// far longer: undici's pooled socket 4 s, a retry wait 30 s, the read and total timers minutes.
const EXIT_LIMIT_MS = 2500;

describe('the process exits within 2.5 s of the call settling', { concurrency: true }, () => {
  const cases: Array<[string, string]> = [
    ['success', 'settled ok'],
    ['http-error', 'settled http'],
    ['read-timeout', 'settled read-timeout'],
    ['abort', 'settled stopped'],
    ['break', 'settled ok'],
    ['retry-wait-abort', 'settled stopped'],
    ['never-iterated', 'settled ok'],
    ['next-by-hand', 'settled ok'],
    ['dropped', 'settled ok'],
    ['dropped-with-total', 'settled ok'],
    ['compat-never-iterated', 'settled ok'],
    ['openai-never-iterated', 'settled ok'],
    ['tools-dropped', 'settled ok'],
  ];
  for (const [scenario, expected] of cases) {
    test(scenario, async () => {
      const { outcome, lingered, code } = await lifeAfter(scenario);
      assert.equal(outcome, expected);
      assert.equal(code, 0);
      assert.ok(lingered < EXIT_LIMIT_MS, `the process lived ${Math.round(lingered)} ms after the call settled`);
    });
  }
});
