// Issue 12 item 5: isRunning() settles within a bound a user expects (connect 2 s + read 3 s,
// and a 5 s total, unless the caller sets those options) against a server that accepts the
// connection and never answers. On the old code the first test failed: the probe took the full
// readTimeout of 120 s (here it loses the race against an 8 s timer).

import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { createClient, isRunning } from '../lib/index.ts';
import { behaviourHeader } from './support/fake-ollama.ts';
import { withFake } from './support/with-fake.ts';

/** The probe's result, or 'unsettled' when it takes longer than `ms`. */
async function within(ms: number, probe: Promise<boolean>): Promise<boolean | 'unsettled'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<'unsettled'>((resolve) => {
    timer = setTimeout(() => resolve('unsettled'), ms);
  });
  try {
    return await Promise.race([probe, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe('isRunning is bounded', { concurrency: true }, () => {
  test('a server that accepts and never answers: false within about 3 s, not 120 s', () =>
    withFake(async (fake) => {
      const silent = behaviourHeader({ headersDelayMs: 60_000 });
      const started = performance.now();
      assert.equal(await within(8000, isRunning({ host: fake.url, headers: silent })), false);
      const took = performance.now() - started;
      assert.ok(took >= 2500 && took < 6500, `settled after ${Math.round(took)} ms`);
    }));

  test('a raw TCP listener that never writes a byte (not even HTTP): false within the bound', async () => {
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      const started = performance.now();
      assert.equal(await within(8000, isRunning({ host: `http://127.0.0.1:${port}` })), false);
      assert.ok(performance.now() - started < 6500);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  test('an answer that trickles (headers, then a byte every 1 s): false by the 5 s total', () =>
    withFake(async (fake) => {
      const trickle = behaviourHeader({ cuts: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], pieceDelayMs: 1000 });
      const started = performance.now();
      assert.equal(await within(9000, isRunning({ host: fake.url, headers: trickle })), false);
      const took = performance.now() - started;
      assert.ok(took >= 4500 && took < 7500, `settled after ${Math.round(took)} ms`);
    }));

  test('a longer explicit readTimeout is obeyed: a server that answers after 3.5 s is running', () =>
    withFake(async (fake) => {
      const slow = behaviourHeader({ headersDelayMs: 3500 });
      assert.equal(await isRunning({ host: fake.url, headers: slow, readTimeout: 10_000 }), true);
    }));

  test("a client's readTimeout counts as explicit too, and a shorter one is obeyed", () =>
    withFake(async (fake) => {
      const silent = behaviourHeader({ headersDelayMs: 60_000 });
      const client = createClient({ host: fake.url, readTimeout: 300 });
      const started = performance.now();
      assert.equal(await client.isRunning({ headers: silent }), false);
      assert.ok(performance.now() - started < 2000);
    }));
});
