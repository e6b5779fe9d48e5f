// Streams dropped without `break` or `return()` (read in part, or awaited and never looped over)
// leave nothing behind: each one held about 27 KB until its read timeout ran out (120 s by
// default), on a shared signal until the signal aborted, and in a compat instance for good.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { startFakeOllama, type FakeOllama } from './support/fake-ollama.ts';

const script = fileURLToPath(new URL('./support/retained.js', import.meta.url));
const waiting = fileURLToPath(new URL('./support/gc-during-wait.js', import.meta.url));
const COUNT = 1500;

let fake: FakeOllama;
before(async () => {
  fake = await startFakeOllama();
});
after(() => fake.close());

function retained(way: string): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--expose-gc', script, fake.url, String(COUNT), way],
      { timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error !== null) reject(new Error(`${error.message}\n${stderr}`));
        else resolve((JSON.parse(stdout) as { perStream: number }).perStream);
      },
    );
  });
}

describe('a dropped stream is not kept', { concurrency: true }, () => {
  for (const way of ['read once', 'read once, on a shared signal', 'compat, awaited and never looped over']) {
    test(way, async () => {
      const perStream = await retained(way);
      // The first chunk alone is 8 KB; what is kept must be a small part of one.
      assert.ok(perStream < 2000, `${Math.round(perStream)} bytes kept per stream`);
    });
  }
});

test('while the collector runs, a read under way still times out, and an abort still reaches it', async () => {
  const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) => {
    execFile(process.execPath, ['--expose-gc', waiting, fake.url], { timeout: 20_000 }, (error, out, stderr) => {
      if (error !== null) reject(new Error(`${error.message}\n${stderr}`));
      else resolve({ stdout: out });
    });
  });
  type Ending = { kind: string; ms: number };
  const endings = JSON.parse(stdout) as Record<'timedOut' | 'aborted' | 'abortedThroughFetchOption', Ending>;
  assert.equal(endings.timedOut.kind, 'read-timeout');
  for (const way of ['aborted', 'abortedThroughFetchOption'] as const)
    assert.equal(endings[way].kind, 'the reason', way);
  for (const [way, { ms }] of Object.entries(endings)) assert.ok(ms < 5000, `${way} after ${ms} ms`);
});
