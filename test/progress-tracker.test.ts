// The overall fraction derived from progress lines, fed line by line.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProgressTracker } from '../lib/internal/progress.ts';
import type { ProgressEvent } from '../lib/index.ts';

function feed(lines: Array<{ status: string; digest?: string; total?: number; completed?: number }>): ProgressEvent[] {
  const tracker = new ProgressTracker();
  return lines.map((line) => tracker.add(line));
}

test('no fraction before a line carries a total; bytes done over bytes announced after', () => {
  const events = feed([
    { status: 'pulling manifest' },
    { status: 'pulling aaa', digest: 'sha256:aaa', total: 1000 },
    { status: 'pulling aaa', digest: 'sha256:aaa', total: 1000, completed: 250 },
    { status: 'pulling aaa', digest: 'sha256:aaa', total: 1000, completed: 500 },
  ]);
  assert.deepEqual(
    events.map((e) => e.fraction),
    [undefined, 0, 0.25, 0.5],
  );
  assert.deepEqual(events[2], {
    status: 'pulling aaa',
    digest: 'sha256:aaa',
    total: 1000,
    completed: 250,
    fraction: 0.25,
  });
});

test('a small layer announced after a big one holds the fraction instead of pulling it back', () => {
  const events = feed([
    { status: 'pulling big', digest: 'sha256:big', total: 1000, completed: 1000 },
    { status: 'pulling small', digest: 'sha256:small', total: 100, completed: 0 },
    { status: 'pulling small', digest: 'sha256:small', total: 100, completed: 100 },
    { status: 'verifying sha256 digest' },
    { status: 'success' },
  ]);
  const fractions = events.map((e) => e.fraction ?? 0);
  for (let i = 1; i < fractions.length; i++) assert.ok(fractions[i]! >= fractions[i - 1]!, `${fractions}`);
  assert.ok(fractions[0]! < 1, 'below 1 before success, as more layers may follow');
  assert.equal(fractions.at(-1), 1);
  assert.equal(events[3]?.fraction, fractions[2], 'a line without a total carries the last fraction');
});

test('completed going back or past total, a missing completed, and a zero total never break the fraction', () => {
  const events = feed([
    { status: 'pulling a', digest: 'sha256:a', total: 0 },
    { status: 'pulling b', digest: 'sha256:b', total: 200, completed: 150 },
    { status: 'pulling b', digest: 'sha256:b', total: 200, completed: 50 },
    { status: 'pulling b', digest: 'sha256:b', total: 200, completed: 900 },
  ]);
  assert.deepEqual(
    events.map((e) => e.fraction),
    [undefined, 0.75, 0.75, 0.999],
  );
});

test('success is 1 even when no total was ever given (create without files)', () => {
  const events = feed([
    { status: 'using existing layer sha256:x' },
    { status: 'writing manifest' },
    { status: 'success' },
  ]);
  assert.deepEqual(
    events.map((e) => e.fraction),
    [undefined, undefined, 1],
  );
});
