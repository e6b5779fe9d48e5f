// connectTimeout, readTimeout and totalTimeout against the stand-in and a dead loopback host.
// Node 20's undici rounds its timers up by as much as a second, hence SLACK.

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import {
  chat,
  chatStream,
  embed,
  isRunning,
  type ChatRequest,
  type ChatResponse,
  type RetryInfo,
} from '../lib/index.ts';
import { failsWith, TIMER_SLACK as SLACK } from './support/assertions.ts';
import { collect } from './support/chunks.ts';
import { startDeadHost, type DeadHost } from './support/dead-host.ts';
import { behaviourHeader, startFakeOllama, type Behaviour, type FakeOllama } from './support/fake-ollama.ts';

const hello: ChatRequest = { model: 'llama3.2', messages: [{ role: 'user', content: 'Hi there, llama' }] };
/** 29 content chunks and the final one: 30 chunks. */
const tokens = Array.from({ length: 29 }, (_, i) => `t${i} `);

let fake: FakeOllama;
let dead: DeadHost;
before(async () => {
  fake = await startFakeOllama();
  dead = await startDeadHost();
});
after(async () => {
  await fake.close();
  await dead.close();
});

/**
 * Headers that make the stand-in behave so for every request of this call (tests here run
 * concurrently, so the shared queue is not used), and a tag to count that call's requests by.
 */
function as(behaviour: Behaviour): { headers: Record<string, string>; count: () => number; left: () => boolean } {
  const tag = Math.random().toString(36).slice(2);
  const mine = () => fake.requests.filter((r) => r.headers['x-test-tag'] === tag);
  return {
    headers: { ...behaviourHeader(behaviour), 'x-test-tag': tag },
    count: () => mine().length,
    left: () => mine().every((r) => r.clientDisconnected),
  };
}

async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; result: PromiseSettledResult<T> }> {
  const start = performance.now();
  const [result] = await Promise.allSettled([run()]);
  return { ms: performance.now() - start, result: result as PromiseSettledResult<T> };
}

function rejection<T>(result: PromiseSettledResult<T>): unknown {
  assert.equal(result.status, 'rejected', 'the call should have failed');
  return (result as PromiseRejectedResult).reason;
}

describe('connectTimeout: the handshake, and nothing else', { concurrency: true }, () => {
  test("a host that never completes the handshake: connect-timeout at 1500 ms, far before Node's own 10 s", async () => {
    const { ms, result } = await timed(() => chat(hello, { host: dead.url, connectTimeout: 1500, retry: false }));
    assert.ok(
      failsWith('connect-timeout', (error) => {
        assert.equal(error.attempts, 1);
        assert.match(error.message, /within connectTimeout \(1500 ms\)/);
        assert.ok(error.message.includes(dead.url));
      })(rejection(result)),
    );
    assert.ok(ms >= 1400 && ms < 1500 + SLACK, `failed after ${Math.round(ms)} ms`);
  });

  test('with the default retry: 3 attempts, and onRetry saw the 2 waits', async () => {
    const waits: RetryInfo[] = [];
    const { ms, result } = await timed(() =>
      chat(hello, { host: dead.url, connectTimeout: 1500, retry: { onRetry: (info) => void waits.push(info) } }),
    );
    assert.ok(
      failsWith('connect-timeout', (error) => {
        assert.equal(error.attempts, 3);
        assert.match(error.message, /Gave up after 3 attempts/);
      })(rejection(result)),
    );
    assert.deepEqual(
      waits.map((w) => [w.attemptNumber, w.retriesLeft]),
      [
        [1, 2],
        [2, 1],
      ],
    );
    for (const wait of waits) assert.ok(failsWith('connect-timeout')(wait.error));
    // Default backoff: 1 s then 2 s, each spread over its upper half.
    assert.ok(waits[0]!.delay >= 500 && waits[0]!.delay <= 1000, `first wait ${waits[0]!.delay}`);
    assert.ok(waits[1]!.delay >= 1000 && waits[1]!.delay <= 2000, `second wait ${waits[1]!.delay}`);
    const floor = 3 * 1400 + waits[0]!.delay + waits[1]!.delay;
    assert.ok(ms >= floor && ms < floor + 3 * SLACK, `failed after ${Math.round(ms)} ms`);
  });

  test('a server that accepts and then stays silent longer than connectTimeout is not a connect timeout', async () => {
    const { headers, count } = as({ headersDelayMs: 4000 });
    const { ms, result } = await timed(() =>
      chat(hello, { host: fake.url, headers, connectTimeout: 1000, readTimeout: 8000 }),
    );
    assert.equal(result.status, 'fulfilled', String((result as PromiseRejectedResult).reason));
    assert.ok(ms >= 3900, `answered after ${Math.round(ms)} ms`);
    assert.equal(count(), 1);
  });

  test('where fetch cannot time the connection (a fetch option), connect + read make one deadline', async () => {
    const ownFetch = (input: string, init: RequestInit): Promise<Response> => fetch(input, init);
    const { ms, result } = await timed(() =>
      chat(hello, { host: dead.url, fetch: ownFetch, connectTimeout: 1000, readTimeout: 1000, retry: false }),
    );
    assert.ok(
      failsWith('read-timeout', (error) => {
        assert.match(error.message, /connectTimeout \+ readTimeout \(1000 ms \+ 1000 ms;/);
      })(rejection(result)),
    );
    assert.ok(ms >= 1900 && ms < 2000 + SLACK, `failed after ${Math.round(ms)} ms`);
  });
});

describe('readTimeout: the longest silence, before the first byte and between chunks', { concurrency: true }, () => {
  test('headers withheld for good with readTimeout 2000: read-timeout after about 2 s, one attempt', async () => {
    const { headers, count } = as({ headersDelayMs: 60_000 });
    const { ms, result } = await timed(() => chat(hello, { host: fake.url, headers, readTimeout: 2000 }));
    assert.ok(
      failsWith('read-timeout', (error) => {
        assert.equal(error.attempts, 1);
        assert.match(error.message, /sent no response .* within readTimeout \(2000 ms\)/);
        assert.match(error.message, /cold start can take minutes/);
        assert.match(error.message, /readTimeout: 600_000/);
      })(rejection(result)),
    );
    assert.ok(ms >= 1900 && ms < 2000 + SLACK, `failed after ${Math.round(ms)} ms`);
    assert.equal(count(), 1, 'a read timeout is not retried');
  });

  test('the same through a fetch option: the deadline is connectTimeout + readTimeout', async () => {
    const { headers, count } = as({ headersDelayMs: 60_000 });
    const ownFetch = (input: string, init: RequestInit): Promise<Response> => fetch(input, init);
    const { ms, result } = await timed(() =>
      chat(hello, { host: fake.url, headers, fetch: ownFetch, connectTimeout: 1000, readTimeout: 1500 }),
    );
    assert.ok(failsWith('read-timeout')(rejection(result)));
    assert.ok(ms >= 2400 && ms < 2500 + SLACK, `failed after ${Math.round(ms)} ms`);
    assert.equal(count(), 1);
  });

  test('chat: 30 chunks 400 ms apart (12 s) with readTimeout 1000 succeeds', async () => {
    const { headers } = as({ tokens, chunkDelayMs: 400 });
    const started = performance.now();
    const reply = await chat(hello, { host: fake.url, headers, readTimeout: 1000 });
    assert.equal(reply.message.content, tokens.join(''));
    assert.ok(performance.now() - started >= 29 * 400 - 100);
  });

  test('chatStream: 30 chunks 400 ms apart (12 s) with readTimeout 1000 succeeds', async () => {
    const { headers } = as({ tokens, chunkDelayMs: 400 });
    const started = performance.now();
    const chunks = await collect(chatStream(hello, { host: fake.url, headers, readTimeout: 1000 }));
    assert.equal(chunks.length, 30);
    assert.ok(performance.now() - started >= 29 * 400 - 100);
  });

  test('chatStream: the same stream stalling 3 s after chunk 5 fails with read-timeout after exactly 5 chunks', async () => {
    const { headers, count, left } = as({ tokens, chunkDelayMs: 400, stallAfter: 5, stallMs: 3000 });
    const seen: ChatResponse[] = [];
    let lastChunkAt = 0;
    const { ms, result } = await timed(async () => {
      for await (const chunk of chatStream(hello, { host: fake.url, headers, readTimeout: 1000 })) {
        seen.push(chunk);
        lastChunkAt = performance.now();
      }
    });
    const failedAt = performance.now();
    assert.ok(
      failsWith('read-timeout', (error) => {
        assert.match(error.message, /went silent for longer than readTimeout \(1000 ms\).* after 5 chunk\(s\)/);
        // A chat: the silence may be a tool call being written, which Ollama holds back whole.
        assert.match(error.message, /writing a long tool call, of which Ollama sends nothing until it is whole/);
        assert.equal(error.attempts, 1);
      })(rejection(result)),
    );
    assert.equal(seen.length, 5);
    const silence = failedAt - lastChunkAt;
    assert.ok(
      silence >= 950 && silence < 1000 + SLACK,
      `failed ${Math.round(silence)} ms after the last chunk (${Math.round(ms)} ms in all)`,
    );
    assert.equal(count(), 1);
    // The timeout closed the connection, so Ollama would stop generating.
    await fake.waitFor(left, 2000);
  });

  test('chat: the same stall is a read-timeout too, and is not retried', async () => {
    const { headers, count } = as({ tokens, chunkDelayMs: 100, stallAfter: 5, stallMs: 3000 });
    const { result } = await timed(() => chat(hello, { host: fake.url, headers, readTimeout: 1000 }));
    assert.ok(failsWith('read-timeout')(rejection(result)));
    assert.equal(count(), 1);
  });

  test('a consumer slower than readTimeout is not a silent server', async () => {
    const { headers } = as({ tokens: ['a', 'b', 'c'] });
    const seen: string[] = [];
    for await (const chunk of chatStream(hello, { host: fake.url, headers, readTimeout: 1000 })) {
      seen.push(chunk.message.content);
      await new Promise((resolve) => setTimeout(resolve, 1500));
    }
    assert.deepEqual(seen, ['a', 'b', 'c', '']);
  });

  test('readTimeout at its largest (2^31 - 1 ms) with a connectTimeout: no early deadline and no warning, also where they are summed', async () => {
    const largest = 2 ** 31 - 1;
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const { headers } = as({ headersDelayMs: 200 });
      for (const fetchOption of [undefined, (url: string | URL, init?: RequestInit) => fetch(url, init)]) {
        const options = { host: fake.url, headers, readTimeout: largest, connectTimeout: 5000 };
        const reply = await chat(hello, fetchOption === undefined ? options : { ...options, fetch: fetchOption });
        assert.equal(reply.done, true);
      }
      assert.equal(await isRunning({ host: fake.url, readTimeout: largest }), true);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    assert.deepEqual(warnings, []);
  });

  test('readTimeout 0 and Infinity switch it off: headers 2.5 s late still arrive', async () => {
    for (const readTimeout of [0, Infinity]) {
      const { headers } = as({ headersDelayMs: 2500 });
      const reply = await chat(hello, { host: fake.url, headers, readTimeout, connectTimeout: 500 });
      assert.equal(reply.done, true);
    }
  });
});

describe('totalTimeout: the whole call', { concurrency: true }, () => {
  test('a stream that keeps flowing is still cut at totalTimeout, with what it had yielded kept', async () => {
    const { headers } = as({ tokens, chunkDelayMs: 200 });
    const seen: ChatResponse[] = [];
    const { ms, result } = await timed(() =>
      collect(chatStream(hello, { host: fake.url, headers, totalTimeout: 1500 }), seen),
    );
    assert.ok(
      failsWith('total-timeout', (error) => {
        assert.match(error.message, /did not complete within totalTimeout \(1500 ms\)/);
        // The count is of the chunks the loop got, so the message matches what the caller holds.
        assert.match(
          error.message,
          new RegExp(`It ran out after ${seen.length} chunk\\(s\\); the answer is incomplete\\.`),
        );
        assert.equal(error.attempts, 1);
      })(rejection(result)),
    );
    assert.ok(seen.length >= 3 && seen.length < 30, `${seen.length} chunks`);
    assert.ok(ms >= 1450 && ms < 1500 + SLACK, `failed after ${Math.round(ms)} ms`);
  });

  test('while waiting for the first byte', async () => {
    const { headers } = as({ headersDelayMs: 60_000 });
    const { ms, result } = await timed(() => chat(hello, { host: fake.url, headers, totalTimeout: 1000 }));
    assert.ok(
      failsWith('total-timeout', (error) => assert.doesNotMatch(error.message, /ran out after/))(rejection(result)),
    );
    assert.ok(ms >= 950 && ms < 1000 + SLACK, `failed after ${Math.round(ms)} ms`);
  });
});

describe("Node's own undici Agent carries the timeouts", () => {
  /** A bare server answering every request with one embedding, counting its connections. */
  async function counting(): Promise<{ server: Server; host: string; connections: () => number }> {
    let connections = 0;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end('{"model":"m","embeddings":[[1,0]]}');
      });
    });
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    return { server, host: `http://127.0.0.1:${port}`, connections: () => connections };
  }

  test('the agents are cached, so successive calls reuse one connection', async () => {
    const { server, host, connections } = await counting();
    try {
      for (let i = 0; i < 5; i++) {
        await embed({ model: 'm', input: 'x' }, { host, connectTimeout: 4321, readTimeout: 8765 });
        // undici returns a socket to its pool a moment after the body ends.
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      // A new agent per call would have meant a new connection per call.
      assert.ok(connections() <= 2, `${connections()} connections for 5 calls`);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  test('calls with many different timeouts all work; the cache stays bounded', async () => {
    const { server, host } = await counting();
    try {
      for (let i = 0; i < 20; i++) {
        const reply = await embed(
          { model: 'm', input: 'x' },
          { host, connectTimeout: 1000 + i, readTimeout: 5000 + i },
        );
        assert.deepEqual(reply.embeddings, [[1, 0]]);
      }
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

// A loop kept busy elsewhere (a long synchronous task of the application) while the server's bytes
// arrived in time: when it is free, the read timer and the bytes are both due, and the timer, run
// first, took the silence for the server's. Not run beside the concurrent tests above: it blocks
// the process.
test('readTimeout: bytes that arrived while the event loop was blocked are no silence', async () => {
  const headers = behaviourHeader({ tokens: ['a', 'b', 'c', 'd'], chunkDelayMs: 100 });
  const seen: string[] = [];
  for await (const chunk of chatStream(hello, { host: fake.url, headers, readTimeout: 300, retry: false })) {
    seen.push(chunk.message.content);
    if (seen.length === 1) {
      // Longer than readTimeout: the next chunks are written while it runs.
      setTimeout(() => {
        const until = performance.now() + 600;
        while (performance.now() < until);
      }, 10);
    }
  }
  assert.deepEqual(seen, ['a', 'b', 'c', 'd', '']);
});
