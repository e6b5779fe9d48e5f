// A call waiting on the caller's own code (a tool, a promise that onProgress or onRetry
// returned, a fetch of its own) is still ended by the caller's signal and by totalTimeout (and a
// read by readTimeout), whatever that code holds;
// and the public retry() adds no listener per wait to a signal that many loops share.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { getEventListeners } from 'node:events';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { retry } from '../lib/index.ts';
import { type FakeOllama, startFakeOllama } from './support/fake-ollama.ts';

const script = fileURLToPath(new URL('./support/callback-waits.js', import.meta.url));

let fake: FakeOllama;
before(async () => {
  fake = await startFakeOllama();
});
after(() => fake.close());

test('a promise of the caller that never settles and holds nothing (a fetch of its own too): an abort, totalTimeout and readTimeout still end the call, under collections', async () => {
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--expose-gc', script, fake.url], { timeout: 60_000 }, (error, out, stderr) => {
      if (error !== null) reject(new Error(`${error.message}\n${stderr}`));
      else if (stderr !== '') reject(new Error(`printed: ${stderr}`));
      else resolve(out);
    });
  });
  const ended = JSON.parse(stdout) as Record<string, { kind: string; ms: number }>;
  for (const name of ['onProgress', 'onRetry', 'tool', 'own fetch, chat', 'own fetch, chatStream']) {
    const aborted = ended[`${name}, aborted`];
    assert.equal(aborted?.kind, 'the reason', `${name}: ${JSON.stringify(aborted)}`);
    assert.ok((aborted?.ms ?? Infinity) < 2000, `${name}: ${JSON.stringify(aborted)}`);
    const timedOut = ended[`${name}, totalTimeout`];
    assert.equal(timedOut?.kind, 'total-timeout', `${name}: ${JSON.stringify(timedOut)}`);
    assert.ok((timedOut?.ms ?? 0) >= 550, `${name}: ${JSON.stringify(timedOut)}`);
  }
  const silent = ended['own fetch, readTimeout'];
  assert.equal(silent?.kind, 'read-timeout', JSON.stringify(silent));
  assert.ok((silent?.ms ?? Infinity) < 2000, JSON.stringify(silent));
});

test('retry(): 20 loops sharing one signal, each in its wait, put one listener on it and no warning', async () => {
  const warnings: unknown[] = [];
  const warned = (warning: unknown): void => void warnings.push(warning);
  process.on('warning', warned);
  try {
    const controller = new AbortController();
    let failed = 0;
    const loops = Array.from({ length: 20 }, (_, i) =>
      retry(
        ({ attemptNumber }) => {
          if (attemptNumber > 1) return i;
          failed++;
          throw new Error('flaky');
        },
        { retries: 1, baseDelay: 200, maxDelay: 200, signal: controller.signal },
      ),
    );
    while (failed < 20) await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(getEventListeners(controller.signal, 'abort').length <= 1, 'at most one listener in the waits');
    assert.equal((await Promise.all(loops)).length, 20);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0, 'none left after');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(warnings, []);
  } finally {
    process.off('warning', warned);
  }
});
