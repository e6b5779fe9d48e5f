// pullModel, pushModel and createModel with progress, and pushBlob: against the stand-in.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { createModel, listModels, pullModel, pushBlob, pushModel, type ProgressEvent } from '../lib/index.ts';
import { failsWith } from './support/assertions.ts';
import { behaviourHeader, rawStreamHead, type RawStep, statusReply } from './support/fake-ollama.ts';
import { withFake } from './support/with-fake.ts';

function recorder(): { events: ProgressEvent[]; onProgress: (event: ProgressEvent) => void } {
  const events: ProgressEvent[] = [];
  return { events, onProgress: (event) => void events.push(event) };
}

function assertNeverDecreases(events: ProgressEvent[]): void {
  let previous = 0;
  for (const [i, event] of events.entries()) {
    if (event.fraction === undefined) continue;
    assert.ok(event.fraction >= previous, `event ${i}: fraction ${event.fraction} after ${previous}`);
    previous = event.fraction;
  }
}

describe('pullModel', { concurrency: true }, () => {
  test('200 progress events over 4 s with readTimeout 1000: every event in order, the fraction never decreases', () =>
    withFake(async (fake) => {
      fake.script({ progressUpdates: 196, chunkDelayMs: 20 });
      const { events, onProgress } = recorder();
      const started = performance.now();
      const result = await pullModel({ model: 'tinyllama' }, { host: fake.url, readTimeout: 1000, onProgress });
      const took = performance.now() - started;
      assert.deepEqual(result, { status: 'success' });
      assert.equal(events.length, 200);
      assert.equal(fake.requests[0]?.chunksWritten, 200);
      assert.ok(took >= 3500, `took ${took} ms: the stand-in paces 199 gaps of 20 ms`);
      assert.equal(events[0]?.status, 'pulling manifest');
      assert.equal(events.at(-1)?.status, 'success');
      assert.equal(events.at(-1)?.fraction, 1);
      assertNeverDecreases(events);
      // In the order sent: within each layer, completed only grows.
      const byLayer = new Map<string, number>();
      for (const event of events) {
        if (event.digest === undefined) continue;
        assert.ok((event.completed ?? 0) >= (byLayer.get(event.digest) ?? 0));
        byLayer.set(event.digest, event.completed ?? 0);
      }
      assert.ok(byLayer.size >= 2, 'several layers');
      assert.equal((fake.requests[0]!.body as { stream?: boolean }).stream, true);

      // The same pull read raw: the callback saw exactly these lines, in this order.
      const raw = await fetch(`${fake.url}/api/pull`, {
        method: 'POST',
        headers: behaviourHeader({ progressUpdates: 196 }),
        body: JSON.stringify({ model: 'tinyllama' }),
      });
      const sent = (await raw.text())
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as unknown);
      assert.deepEqual(
        events.map(({ fraction: _, ...line }) => line),
        sent,
      );
    }));

  test('an unknown model: the in-band error of the 200 stream rejects with kind stream', () =>
    withFake(async (fake) => {
      const { events, onProgress } = recorder();
      await assert.rejects(
        pullModel({ model: 'no-such-model' }, { host: fake.url, onProgress }),
        failsWith('stream', (error) => {
          assert.equal(error.status, 200);
          assert.match(error.message, /pull model manifest: file does not exist/);
          assert.match(error.message, /The registry has no model "no-such-model"/);
        }),
      );
      assert.deepEqual(
        events.map((e) => e.status),
        ['pulling manifest'],
      );
    }));

  test('a pull that said success is finished, whatever the connection does next (a reset, a silence)', () =>
    withFake(async (fake) => {
      const lines = [
        '{"status":"pulling manifest"}\n',
        '{"status":"verifying sha256 digest"}\n',
        '{"status":"success"}\n',
      ];
      for (const after of [[{ waitMs: 100 }, { reset: true }], [{ hang: true }]] as RawStep[][]) {
        const { events, onProgress } = recorder();
        const started = performance.now();
        const raw: RawStep[] = [rawStreamHead(), ...lines.map((chunk) => ({ chunk })), ...after];
        const done = await pullModel(
          { model: 'tinyllama' },
          { host: fake.url, onProgress, readTimeout: 3000, retry: false, headers: behaviourHeader({ raw }) },
        );
        assert.deepEqual(done, { status: 'success' });
        assert.equal(events.at(-1)?.status, 'success');
        assert.ok(performance.now() - started < 1500, 'it resolved at its success line, not at a timeout');
      }
    }));

  test('a silence after "verifying sha256 digest" (Ollama hashing a large download) is no read timeout; one after a progress line is', () =>
    withFake(async (fake) => {
      const progress = '{"status":"pulling 6a0746a1ec1a","digest":"sha256:6a0746a1ec1a","total":100,"completed":100}\n';
      const silentAfter = (first: string[], rest: string[]): RawStep[] => [
        rawStreamHead(),
        ...first.map((chunk) => ({ chunk })),
        { waitMs: 900 },
        ...rest.map((chunk) => ({ chunk })),
      ];
      const verifying = '{"status":"verifying sha256 digest"}\n';
      const tail = ['{"status":"writing manifest"}\n', '{"status":"success"}\n'];
      const { events, onProgress } = recorder();
      const raw = silentAfter(['{"status":"pulling manifest"}\n', progress, verifying], tail);
      const options = { host: fake.url, readTimeout: 300, retry: false, headers: behaviourHeader({ raw }) };
      assert.deepEqual(await pullModel({ model: 'tinyllama' }, { ...options, onProgress }), { status: 'success' });
      assert.deepEqual(
        events.map((event) => event.status),
        ['pulling manifest', 'pulling 6a0746a1ec1a', 'verifying sha256 digest', 'writing manifest', 'success'],
      );
      // A create converting its model says nothing either.
      const converting = silentAfter(['{"status":"converting model"}\n'], ['{"status":"success"}\n']);
      assert.deepEqual(
        await createModel({ model: 'mine', files: {} }, { ...options, headers: behaviourHeader({ raw: converting }) }),
        { status: 'success' },
      );
      // The same silence after a line of progress is the server gone quiet.
      const stalled = silentAfter([progress], [verifying, ...tail]);
      await assert.rejects(
        pullModel({ model: 'tinyllama' }, { ...options, headers: behaviourHeader({ raw: stalled }) }),
        failsWith('read-timeout'),
      );
      // totalTimeout still bounds the silent step.
      await assert.rejects(
        pullModel({ model: 'tinyllama' }, { ...options, totalTimeout: 500 }),
        failsWith('total-timeout'),
      );
    }));

  test('a progress stream that ends without success is a protocol error', () =>
    withFake(async (fake) => {
      fake.script({ omitDone: true });
      const { events, onProgress } = recorder();
      await assert.rejects(
        pullModel({ model: 'tinyllama' }, { host: fake.url, onProgress }),
        failsWith('protocol', (error) => {
          assert.match(error.message, /without its final chunk \("status": "success"\)/);
        }),
      );
      assert.ok(events.length > 2);
      assert.notEqual(events.at(-1)?.status, 'success');
    }));

  test('a connection cut mid-pull: kind connection, and no retry once progress was reported', () =>
    withFake(async (fake) => {
      fake.script({ closeAfter: 3 });
      const { events, onProgress } = recorder();
      await assert.rejects(pullModel({ model: 'tinyllama' }, { host: fake.url, onProgress }), failsWith('connection'));
      assert.equal(events.length, 3);
      assert.equal(fake.requests.length, 1);
    }));

  test('a 503 before any progress is retried', () =>
    withFake(async (fake) => {
      fake.script(statusReply(503, '0'), {});
      assert.deepEqual(await pullModel({ model: 'tinyllama' }, { host: fake.url }), { status: 'success' });
      assert.equal(fake.requests.length, 2);
      assert.ok((await listModels({ host: fake.url })).models.some((m) => m.name === 'tinyllama:latest'));
    }));

  test('a stall between progress lines is a read timeout', () =>
    withFake(async (fake) => {
      fake.script({ stallAfter: 2 });
      await assert.rejects(
        pullModel({ model: 'tinyllama' }, { host: fake.url, readTimeout: 300 }),
        failsWith('read-timeout'),
      );
    }));

  test('onProgress throwing ends the pull with that error and closes the connection', () =>
    withFake(async (fake) => {
      fake.script({ chunkDelayMs: 20 });
      const mine = new Error('disk full');
      await assert.rejects(
        pullModel(
          { model: 'tinyllama' },
          {
            host: fake.url,
            onProgress: (event) => {
              if (event.status !== 'pulling manifest') throw mine;
            },
          },
        ),
        (error) => error === mine,
      );
      await fake.waitFor((requests) => requests[0]?.clientDisconnected === true, 2000);
    }));

  test('an async onProgress is awaited before the next line is read', () =>
    withFake(async (fake) => {
      const order: string[] = [];
      await pullModel(
        { model: 'tinyllama' },
        {
          host: fake.url,
          onProgress: async (event) => {
            order.push(`start ${event.status}`);
            await new Promise((resolve) => setTimeout(resolve, 5));
            order.push(`end ${event.status}`);
          },
        },
      );
      for (let i = 0; i < order.length; i += 2) {
        assert.equal(order[i]?.replace('start', 'end'), order[i + 1]);
      }
    }));

  test('an invalid name: http 400 before any progress', () =>
    withFake(async (fake) => {
      await assert.rejects(
        pullModel({ model: 'bad name!' }, { host: fake.url }),
        failsWith('http', (error) => {
          assert.equal(error.status, 400);
          assert.match(error.message, /invalid model name/);
        }),
      );
    }));

  test('a bad onProgress or model is refused before sending', () =>
    withFake(async (fake) => {
      await assert.rejects(
        pullModel({ model: 'tinyllama' }, { host: fake.url, onProgress: 'log' as never }),
        TypeError,
      );
      await assert.rejects(pullModel({ model: '' }, { host: fake.url }), /pullModel: request\.model/);
      assert.equal(fake.requests.length, 0);
    }));
});

describe('pushModel and createModel', { concurrency: true }, () => {
  test('pushModel: progress to success', () =>
    withFake(async (fake) => {
      const { events, onProgress } = recorder();
      assert.deepEqual(await pushModel({ model: 'llama3.2' }, { host: fake.url, onProgress }), { status: 'success' });
      assert.equal(events[0]?.status, 'retrieving manifest');
      assert.ok(events.some((e) => e.status.startsWith('pushing ') && e.total !== undefined));
      assert.equal(events.at(-1)?.fraction, 1);
      assertNeverDecreases(events);
    }));

  test('pushModel of a model that is not installed: the in-band error after the first line', () =>
    withFake(async (fake) => {
      const { events, onProgress } = recorder();
      await assert.rejects(
        pushModel({ model: 'someone/ghost' }, { host: fake.url, onProgress }),
        failsWith('stream', (error) => {
          assert.match(error.message, /no such file or directory/);
        }),
      );
      assert.equal(events[0]?.status, 'retrieving manifest');
    }));

  test('createModel from a digest the server has no blob for: an error, and no model', () =>
    withFake(async (fake) => {
      const missing = `sha256:${'a'.repeat(64)}`;
      await assert.rejects(
        createModel({ model: 'm', files: { 'model.gguf': missing } }, { host: fake.url }),
        (error) => {
          assert.match(String(error), /no such file or directory/);
          return true;
        },
      );
      assert.ok(!(await listModels({ host: fake.url })).models.some((m) => m.name.startsWith('m:')));
    }));

  test('pushModel without a model name is refused before sending', () =>
    withFake(async (fake) => {
      await assert.rejects(pushModel({ model: ' ' }, { host: fake.url }), TypeError);
      assert.equal(fake.requests.length, 0);
    }));

  test('pushBlob then createModel from the file: the new model is listed', () =>
    withFake(async (fake) => {
      const gguf = new TextEncoder().encode('GGUF fake model bytes');
      const digest = await pushBlob(gguf, { host: fake.url });
      const { events, onProgress } = recorder();
      const result = await createModel(
        { model: 'my-model', files: { 'model.gguf': digest } },
        { host: fake.url, onProgress },
      );
      assert.deepEqual(result, { status: 'success' });
      assert.equal(events.at(-1)?.status, 'success');
      assert.ok((await listModels({ host: fake.url })).models.some((m) => m.name === 'my-model:latest'));
    }));

  test("createModel from a base that must be pulled first: the pull's own success mid-stream does not end it", () =>
    withFake(async (fake) => {
      const { events, onProgress } = recorder();
      assert.deepEqual(
        await createModel(
          { model: 'tiny-custom', from: 'tinyllama', system: 'Be brief.' },
          { host: fake.url, onProgress },
        ),
        { status: 'success' },
      );
      const successes = events.flatMap((e, i) => (e.status === 'success' ? [i] : []));
      assert.equal(successes.length, 2, "the pull's success, then the create's");
      assert.equal(successes[1], events.length - 1);
      assert.ok(events.slice(successes[0]! + 1, -1).some((e) => e.status === 'writing manifest'));
      assert.ok(fake.models().includes('tiny-custom:latest'));
      // The fraction reaches 1 with the create's own success only: the create goes on after the pull.
      assert.deepEqual(
        events.flatMap((e, i) => (e.fraction === 1 ? [i] : [])),
        [events.length - 1],
      );
      assert.ok((events[successes[0]!]?.fraction ?? 0) > 0.9, "the pull's bytes are all done");
      assertNeverDecreases(events);
    }));

  test('createModel from a base the registry does not have: the advice names the base, not the new model', () =>
    withFake(async (fake) => {
      await assert.rejects(
        createModel({ model: 'my-assistant', from: 'no-such-base' }, { host: fake.url }),
        (error: unknown) => {
          assert.match(String((error as Error).message), /The registry has no model "no-such-base"/);
          return true;
        },
      );
    }));

  test('createModel with an invalid name: http 400', () =>
    withFake(async (fake) => {
      await assert.rejects(
        createModel({ model: 'bad name!', from: 'llama3.2' }, { host: fake.url }),
        failsWith('http', (error) => {
          assert.equal(error.status, 400);
          assert.match(error.message, /invalid model name/);
        }),
      );
    }));

  test('createModel with a malformed digest: http 400 invalid digest format', () =>
    withFake(async (fake) => {
      await assert.rejects(
        createModel({ model: 'm', files: { 'model.gguf': 'sha256:xyz' } }, { host: fake.url }),
        failsWith('http', (error) => {
          assert.equal(error.status, 400);
          assert.match(error.message, /invalid digest format/);
        }),
      );
    }));
});

describe('pushBlob', { concurrency: true }, () => {
  test('3 MB: the exact bytes under the right digest; a second call makes only the HEAD request', () =>
    withFake(async (fake) => {
      const bytes = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 31 + (i >> 10)) & 255);
      const expected = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
      assert.equal(await pushBlob(bytes, { host: fake.url }), expected);
      assert.deepEqual(
        fake.requests.map((r) => `${r.method} ${r.path}`),
        [`HEAD /api/blobs/${expected}`, `POST /api/blobs/${expected}`],
      );
      assert.ok(fake.blobs.get(expected)?.equals(bytes), 'the stand-in stored the exact bytes');
      assert.equal(fake.requests[1]?.headers['content-type'], 'application/octet-stream');

      assert.equal(await pushBlob(bytes.buffer, { host: fake.url }), expected, 'an ArrayBuffer works too');
      assert.deepEqual(
        fake.requests.slice(2).map((r) => r.method),
        ['HEAD'],
      );
    }));

  test('totalTimeout covers the HEAD and the upload together', () =>
    withFake(async (fake) => {
      fake.script({ headersDelayMs: 700 }, { headersDelayMs: 700 });
      const started = performance.now();
      await assert.rejects(
        pushBlob(new Uint8Array(1024), { host: fake.url, totalTimeout: 1000 }),
        failsWith('total-timeout', (error) => assert.match(error.message, /totalTimeout \(1000 ms\)/)),
      );
      const took = performance.now() - started;
      assert.ok(took < 1350, `rejected after ${Math.round(took)} ms, not at the end of both requests (1400 ms)`);
      assert.equal(fake.requests.length, 2);
    }));

  test('an abort or totalTimeout ends the hashing of a large blob at once; an aborted signal sends nothing', () =>
    withFake(async (fake) => {
      const bytes = new Uint8Array(128 * 1024 * 1024);
      const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
      /** The fastest of `runs` timings of `work`, each after the hashes left running by the last
       * one finished: the other suites share the two cores, and one slow moment is not the code. */
      const fastest = async (runs: number, work: () => Promise<unknown>): Promise<number> => {
        let best = Number.POSITIVE_INFINITY;
        for (let run = 0; run < runs; run++) {
          const started = performance.now();
          await work();
          best = Math.min(best, performance.now() - started);
          await settle(300);
        }
        return best;
      };
      // digest() copies the bytes before it returns (half the time or more here), and nothing can
      // end that; what an abort must not wait for is the hashing after it.
      let copying = Number.POSITIVE_INFINITY;
      const whole = await fastest(2, async () => {
        const started = performance.now();
        const hashing = crypto.subtle.digest('SHA-256', bytes);
        copying = Math.min(copying, performance.now() - started);
        await hashing;
      });
      const requests = fake.requests.length;
      const reason = new Error('stopped');
      await assert.rejects(pushBlob(bytes, { host: fake.url, signal: AbortSignal.abort(reason) }), (e) => e === reason);
      const aborted = await fastest(3, async () => {
        const controller = new AbortController();
        setTimeout(() => controller.abort(reason), 5);
        await assert.rejects(pushBlob(bytes, { host: fake.url, signal: controller.signal }), (e) => e === reason);
      });
      const timedOut = await fastest(3, () =>
        assert.rejects(pushBlob(bytes, { host: fake.url, totalTimeout: 5 }), failsWith('total-timeout')),
      );
      const limit = copying + (whole - copying) / 2;
      assert.ok(
        aborted < limit && timedOut < limit,
        `${aborted}, ${timedOut} ms against ${whole} ms (${copying} ms of it copying the bytes)`,
      );
      // Let the hashes left running finish before the next test needs the CPU.
      await settle(whole * 2);
      assert.equal(fake.requests.length, requests, 'none of them sent a request');
    }));

  test('a Blob is uploaded as it is', () =>
    withFake(async (fake) => {
      const blob = new Blob(['adapter ', 'weights']);
      const digest = await pushBlob(blob, { host: fake.url });
      assert.equal(fake.blobs.get(digest)?.toString(), 'adapter weights');
    }));

  test('a digest given in options skips hashing; a wrong one is refused by the server with 400', () =>
    withFake(async (fake) => {
      const wrong = `sha256:${'0'.repeat(64)}`;
      await assert.rejects(
        pushBlob(new Uint8Array([1, 2, 3]), { host: fake.url, digest: wrong }),
        failsWith('http', (error) => {
          assert.equal(error.status, 400);
          assert.match(error.message, /digest mismatch/);
        }),
      );
      assert.equal(fake.blobs.size, 0);
    }));

  test('bad bytes or a malformed digest option are refused before sending', () =>
    withFake(async (fake) => {
      await assert.rejects(pushBlob('text' as never, { host: fake.url }), TypeError);
      await assert.rejects(pushBlob(new Uint8Array(1), { host: fake.url, digest: 'md5:abc' }), /options\.digest/);
      assert.equal(fake.requests.length, 0);
    }));

  test('an error other than 404 on HEAD is thrown, not taken as "missing"', () =>
    withFake(async (fake) => {
      const headers = behaviourHeader(statusReply(500, undefined, 'disk error'));
      await assert.rejects(
        pushBlob(new Uint8Array([1]), { host: fake.url, headers }),
        failsWith('http', (error) => {
          assert.equal(error.status, 500);
        }),
      );
      assert.equal(fake.requests.length, 1);
    }));
});
