// An AbortSignal stops a call in every phase: connecting, waiting for the first byte, reading
// the stream, and waiting between two attempts. It rejects with the signal's own reason, at
// once, and nothing more reaches the server.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { chat, chatStream, type ChatRequest } from '../lib/index.ts';
import { startDeadHost, type DeadHost } from './support/dead-host.ts';
import {
  behaviourHeader,
  startFakeOllama,
  statusReply,
  type Behaviour,
  type FakeOllama,
} from './support/fake-ollama.ts';

/** How soon after abort() the call must have rejected. */
const PROMPT = 200;
const hello: ChatRequest = { model: 'llama3.2', messages: [{ role: 'user', content: 'Hi there, llama' }] };

let dead: DeadHost;
before(async () => {
  dead = await startDeadHost();
});
after(() => dead.close());

type Run = (options: { host: string; signal: AbortSignal; retry: object }) => Promise<unknown>;
const calls: Array<[string, Run]> = [
  ['chat', (options) => chat(hello, options)],
  [
    'chatStream',
    async (options) => {
      for await (const chunk of chatStream(hello, options)) void chunk;
    },
  ],
];

/**
 * Runs the call, aborts when `when` resolves, and checks that it rejected with the reason
 * within PROMPT ms and that no retry was even considered.
 */
async function abortedAt(run: Run, host: string, when: (controller: AbortController) => Promise<void>): Promise<void> {
  const controller = new AbortController();
  const reason = new Error('the user pressed stop');
  let retries = 0;
  const call = run({
    host,
    signal: controller.signal,
    retry: { retries: 5, baseDelay: 10, onRetry: () => void retries++ },
  });
  const settled = call.then(
    () => performance.now(),
    () => performance.now(),
  );
  await when(controller);
  const abortedAt = performance.now();
  controller.abort(reason);
  await assert.rejects(call, (error) => error === reason);
  const lag = (await settled) - abortedAt;
  assert.ok(lag < PROMPT, `rejected ${Math.round(lag)} ms after abort()`);
  assert.equal(retries, 0);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

for (const [name, run] of calls) {
  describe(`${name}: abort`, { concurrency: true }, () => {
    let fake: FakeOllama;
    before(async () => {
      fake = await startFakeOllama();
    });
    after(() => fake.close());

    /** The stand-in's requests carrying this tag (the tests of a block run side by side). */
    const tagged = (tag: string) => fake.requests.filter((r) => r.headers['x-test-tag'] === tag);
    const hostWith = (behaviour: Behaviour, tag: string): { host: string; run: Run } => ({
      host: fake.url,
      run: (options) => run({ ...options, headers: { ...behaviourHeader(behaviour), 'x-test-tag': tag } } as never),
    });

    test('while connecting to a host that never answers the handshake', async () => {
      await abortedAt(
        (options) => run({ ...options, connectTimeout: 10_000 } as never),
        dead.url,
        () => sleep(500),
      );
    });

    test('while waiting for the first byte', async () => {
      const tag = `first-byte-${name}`;
      const { host, run: call } = hostWith({ headersDelayMs: 60_000 }, tag);
      await abortedAt(call, host, () => fake.waitFor(() => tagged(tag).length === 1, 2000).then(() => sleep(300)));
      await fake.waitFor(() => tagged(tag).every((r) => r.clientDisconnected), 2000);
      await sleep(300);
      assert.equal(tagged(tag).length, 1);
    });

    test('in the middle of the stream', async () => {
      const tag = `mid-stream-${name}`;
      const { host, run: call } = hostWith({ tokens: ['a', 'b', 'c', 'd', 'e', 'f'], chunkDelayMs: 300 }, tag);
      await abortedAt(call, host, () => fake.waitFor(() => (tagged(tag)[0]?.chunksWritten ?? 0) >= 2, 3000));
      await fake.waitFor(() => tagged(tag).every((r) => r.clientDisconnected), 2000);
      await sleep(300);
      assert.equal(tagged(tag).length, 1);
      assert.ok(tagged(tag)[0]!.pendingChunks > 0, 'the server still had chunks to send');
    });
  });

  test(`${name}: abort during the wait before a retry`, async () => {
    // Its own stand-in: the queue decides that the first answer is a 503 asking for 5 s.
    const fake = await startFakeOllama();
    try {
      fake.script(statusReply(503, '5'), {});
      const controller = new AbortController();
      const reason = new Error('the user pressed stop');
      let waitStarted = 0;
      const call = run({
        host: fake.url,
        signal: controller.signal,
        retry: {
          onRetry: () => {
            waitStarted = performance.now();
          },
        },
      } as never);
      await fake.waitFor((r) => r.length === 1, 2000);
      await sleep(500);
      assert.ok(waitStarted > 0, 'the call is waiting to retry');
      const abortedAt = performance.now();
      controller.abort(reason);
      await assert.rejects(call, (error) => error === reason);
      assert.ok(performance.now() - abortedAt < PROMPT);
      await sleep(1000);
      assert.equal(fake.requests.length, 1, 'no attempt after the abort');
    } finally {
      await fake.close();
    }
  });
}

test('a signal already aborted: rejects with its reason and sends nothing', async () => {
  const fake = await startFakeOllama();
  try {
    const reason = new Error('already stopped');
    await assert.rejects(
      chat(hello, { host: fake.url, signal: AbortSignal.abort(reason) }),
      (error) => error === reason,
    );
    await assert.rejects(
      chatStream(hello, { host: fake.url, signal: AbortSignal.abort(reason) }).next(),
      (error) => error === reason,
    );
    assert.equal(fake.requests.length, 0);
  } finally {
    await fake.close();
  }
});

test('an abort while chunks of one read are still in hand: the next next() rejects with the reason, none of them follows', async () => {
  const fake = await startFakeOllama();
  try {
    // Six tokens and the final chunk written at once, so that one read holds them all; the
    // loop aborts after the first.
    const headers = behaviourHeader({ tokens: ['a', 'b', 'c', 'd', 'e', 'f'], omitDone: true });
    const controller = new AbortController();
    const reason = new Error('stop');
    const seen: string[] = [];
    await assert.rejects(
      async () => {
        for await (const chunk of chatStream(hello, { host: fake.url, headers, signal: controller.signal })) {
          seen.push(chunk.message.content);
          controller.abort(reason);
        }
      },
      (error) => error === reason,
    );
    assert.deepEqual(seen, ['a']);
  } finally {
    await fake.close();
  }
});
