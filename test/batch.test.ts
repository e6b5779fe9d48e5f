// embed with more inputs than one request should carry: batches, their order, their overlap,
// and what one failing batch does to the others.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { embed } from '../lib/index.ts';
import { failsWith } from './support/assertions.ts';
import { withFake } from './support/with-fake.ts';

const texts = (count: number): string[] => Array.from({ length: count }, (_, i) => `text number ${i}`);
const model = 'nomic-embed-text';

describe('batched embed', { concurrency: true }, () => {
  test('1,100 inputs, batchSize 500: 3 requests, each sent once the one before it is answered, vectors in input order', () =>
    withFake(async (fake) => {
      const input = texts(1100);
      // Ollama answers nothing until a request's vectors are ready: the next batch waits for that.
      fake.script({ headersDelayMs: 300 }, { headersDelayMs: 300 }, { headersDelayMs: 300 });
      const batched = await embed({ model, input }, { host: fake.url, batchSize: 500, concurrency: 2 });
      assert.equal(fake.requests.length, 3);
      for (const [i, request] of fake.requests.entries()) {
        if (i === 0) continue;
        const before = fake.requests[i - 1]!;
        assert.ok(
          request.receivedAt >= (before.firstByteAt ?? Infinity),
          `batch ${i + 1} was sent before ${i} was answered`,
        );
      }
      const sent = fake.requests.map((r) => (r.body as { input: string[] }).input);
      assert.deepEqual(
        sent.map((batch) => batch.length),
        [500, 500, 100],
      );
      assert.deepEqual(
        sent.map((batch) => batch[0]),
        ['text number 0', 'text number 500', 'text number 1000'],
      );

      const whole = await embed({ model, input }, { host: fake.url, batchSize: 2000 });
      assert.equal(fake.requests.length, 4, 'one request when the input fits one batch');
      assert.equal(batched.embeddings.length, 1100);
      assert.deepEqual(batched.embeddings, whole.embeddings);
      assert.equal(batched.model, model);
      assert.equal(batched.prompt_eval_count, whole.prompt_eval_count, 'counters are summed');
      assert.equal(batched.load_duration, 3 * (whole.load_duration ?? 0));
    }));

  test('concurrency 2: the next batch goes out while an answer is still being read, never more than 2', () =>
    withFake(async (fake) => {
      // Each answer's body arrives in pieces 150 ms apart, after its headers.
      const slowBody = { cuts: [20, 40], pieceDelayMs: 150 };
      fake.script(slowBody, slowBody, slowBody, slowBody);
      const { embeddings } = await embed(
        { model, input: texts(40) },
        { host: fake.url, batchSize: 10, concurrency: 2 },
      );
      assert.equal(embeddings.length, 40);
      assert.equal(fake.requests.length, 4);
      assert.equal(Math.max(...fake.requests.map((r) => r.concurrent)), 2);
    }));

  test("a server that embeds one request at a time: no batch's readTimeout counts the wait for another", async () => {
    // As Ollama serves an embedding model: one request at a time, nothing written until it is done.
    // Node's undici fires a headers timeout up to about a second late, so the limits are seconds.
    const work = 1200;
    let queue = Promise.resolve();
    const arrived: number[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (piece: Buffer) => {
        body += piece.toString();
      });
      req.on('end', () => {
        arrived.push(performance.now());
        const { input } = JSON.parse(body) as { input: string[] };
        queue = queue
          .then(() => new Promise<void>((resolve) => setTimeout(resolve, work)))
          .then(() => {
            res.setHeader('content-type', 'application/json; charset=utf-8');
            res.end(JSON.stringify({ model, embeddings: input.map(() => [0.6, 0.8]) }));
          });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const options = {
        host: `http://127.0.0.1:${port}`,
        readTimeout: 1700,
        batchSize: 10,
        retry: { retries: 0 },
      };
      // Sent at once, the second batch would wait 2.4 s for its answer.
      const { embeddings } = await embed({ model, input: texts(30) }, options);
      assert.equal(embeddings.length, 30);
      assert.equal(arrived.length, 3, 'no batch was sent twice');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('concurrency 1 sends the batches one after another', () =>
    withFake(async (fake) => {
      await embed({ model, input: texts(10) }, { host: fake.url, batchSize: 3, concurrency: 1 });
      assert.equal(fake.requests.length, 4);
      assert.deepEqual(
        fake.requests.map((r) => r.concurrent),
        [1, 1, 1, 1],
      );
      assert.deepEqual(
        fake.requests.map((r) => (r.body as { input: string[] }).input[0]),
        ['text number 0', 'text number 3', 'text number 6', 'text number 9'],
      );
    }));

  test('a batch answered with one vector too few: kind protocol, naming the batch', () =>
    withFake(async (fake) => {
      fake.script({}, { dropVectors: 1 }, {});
      await assert.rejects(
        embed({ model, input: texts(30) }, { host: fake.url, batchSize: 10, concurrency: 1 }),
        failsWith('protocol', (error) => {
          assert.match(error.message, /sent 10 input\(s\) and answered with 9 vector/);
          assert.match(error.message, /batch 2 of 3/);
          assert.equal(error.attempts, 1, 'the failing batch made one request');
        }),
      );
      assert.equal(fake.requests.length, 2, 'the third batch is not sent');
    }));

  test('an unbatched request answered with too few vectors is a protocol error too', () =>
    withFake(async (fake) => {
      fake.script({ dropVectors: 1 }, { dropVectors: 1 });
      const once = failsWith('protocol', (error) => assert.equal(error.attempts, 1));
      await assert.rejects(embed({ model, input: ['a', 'b'] }, { host: fake.url }), once);
      await assert.rejects(embed({ model, input: 'a' }, { host: fake.url }), once);
    }));

  test('the first failing batch aborts the one in flight and stops the rest', () =>
    withFake(async (fake) => {
      // The first batch is answered, its body slowly; the second fails at once.
      fake.script(
        { cuts: [10], pieceDelayMs: 5000 },
        { errorAfter: 0, errorStatus: 400, errorText: 'the input length exceeds the context length' },
      );
      const started = performance.now();
      await assert.rejects(
        embed({ model, input: texts(30) }, { host: fake.url, batchSize: 10, concurrency: 2 }),
        failsWith('http', (error) => {
          assert.equal(error.status, 400);
          assert.match(error.message, /exceeds the context length/);
          assert.match(error.message, /batch 2 of 3/);
        }),
      );
      assert.ok(performance.now() - started < 2000, 'it did not wait for the slow batch');
      await fake.waitFor((requests) => requests.some((r) => r.clientDisconnected), 2000);
      assert.equal(fake.requests.length, 2, 'the third batch was never sent');
    }));

  test('totalTimeout covers all the batches together', () =>
    withFake(async (fake) => {
      fake.script({ headersDelayMs: 600 }, { headersDelayMs: 600 }, { headersDelayMs: 600 });
      await assert.rejects(
        embed({ model, input: texts(30) }, { host: fake.url, batchSize: 10, concurrency: 1, totalTimeout: 1000 }),
        failsWith('total-timeout', (error) => {
          assert.match(error.message, /totalTimeout \(1000 ms\)/);
          assert.equal(error.attempts, 2, 'the requests of every batch, the one cut short included');
        }),
      );
      assert.equal(fake.requests.length, 2);
    }));

  test('a batch whose retry wait would end after the deadline fails at once, naming the failure', () =>
    withFake(async (fake) => {
      const busy = { respond: { status: 503, headers: { 'retry-after': '5' }, body: '{"error":"busy"}' } };
      fake.script({}, busy);
      const started = performance.now();
      await assert.rejects(
        embed({ model, input: texts(2) }, { host: fake.url, batchSize: 1, concurrency: 1, totalTimeout: 2000 }),
        failsWith('total-timeout', (error) => {
          assert.match(error.message, /totalTimeout \(2000 ms\)/);
          assert.match(error.message, /http 503/);
        }),
      );
      assert.ok(performance.now() - started < 1000, 'it did not sit in a wait it could not finish');
    }));

  test("an abort stops every batch and rejects with the signal's reason", () =>
    withFake(async (fake) => {
      // The first batch is being read, the second waits for its answer.
      fake.script({ cuts: [10], pieceDelayMs: 5000 }, { headersDelayMs: 5000 });
      const controller = new AbortController();
      const reason = new Error('user left');
      setTimeout(() => controller.abort(reason), 400);
      await assert.rejects(
        embed({ model, input: texts(30) }, { host: fake.url, batchSize: 10, signal: controller.signal }),
        (error) => error === reason,
      );
      await fake.waitFor((requests) => requests.filter((r) => r.clientDisconnected).length === 2, 2000);
      assert.equal(fake.requests.length, 2);
    }));

  test('batchSize and concurrency must be whole numbers from 1, checked before sending', () =>
    withFake(async (fake) => {
      for (const bad of [{ batchSize: 0 }, { batchSize: 1.5 }, { concurrency: 0 }, { concurrency: Number.NaN }]) {
        await assert.rejects(embed({ model, input: ['a'] }, { host: fake.url, ...bad }), RangeError);
      }
      assert.equal(fake.requests.length, 0);
    }));
});
