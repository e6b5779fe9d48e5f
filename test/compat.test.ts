// ollama-fetch/compat beyond the well-formed traffic of the differential test: the host rules
// checked against ollama-js's own, and the failure rows where the compat class does better than
// ollama-js 0.6.4, each shown on both clients against the same stand-in behaviour.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Ollama as OllamaJs } from 'ollama';
import defaultInstance, {
  AbortableAsyncIterator,
  isOllamaError,
  Ollama,
  OllamaError,
  type ResponseError,
} from '../lib/compat/index.ts';
import { formatHost } from '../lib/compat/internal/host.ts';
import { behaviourHeader, type FakeOllama, startFakeOllama } from './support/fake-ollama.ts';
import { withFake } from './support/with-fake.ts';

const hi = () => ({ model: 'llama3.2', messages: [{ role: 'user', content: 'Hi there, llama' }] });

let closedUrl: string;
before(async () => {
  const closed = await startFakeOllama();
  closedUrl = closed.url;
  await closed.close();
});

/** What ollama-js makes of a host value: the formatted host its constructor keeps. */
function officialHost(value: string | undefined): string {
  return (new OllamaJs(value === undefined ? {} : { host: value }) as unknown as { config: { host: string } }).config
    .host;
}

test('compat host rules: the same base URL as ollama-js 0.6.4 for every form it documents', () => {
  const values = [
    undefined,
    '',
    'http://1.2.3.4',
    'https://1.2.3.4',
    ':56789',
    'example.com',
    'example.com:56789',
    'http://example.com',
    'https://example.com',
    'https://example.com:56789',
    'http://example.com/',
    'https://example.com/ollama/',
    'http://example.com/path/to/ollama',
    'localhost',
    '127.0.0.1:11434',
    '0.0.0.0',
    'http://[::1]',
    '[::1]:8080',
    'http://user:pass@localhost:11434',
    'https://user:p%40ss@example.com/prefix',
    'HTTP://Example.COM:8080',
  ];
  for (const value of values) assert.equal(formatHost(value), officialHost(value), JSON.stringify(value));
  assert.equal(formatHost('http://1.2.3.4'), 'http://1.2.3.4:80');
  assert.equal(formatHost(':56789'), 'http://127.0.0.1:56789');
  assert.equal(formatHost('example.com'), 'http://example.com:11434');
});

test('compat host rules: one deliberate difference, a port written out is kept', () => {
  // ollama-js lets URL drop the scheme's default port, then puts 11434 in its place.
  assert.equal(officialHost('example.com:80'), 'http://example.com:11434');
  assert.equal(formatHost('example.com:80'), 'http://example.com:80');
  assert.equal(formatHost('http://example.com:80'), officialHost('http://example.com:80'));
  assert.throws(() => formatHost('http://exa mple.com'), TypeError);
  assert.throws(() => new Ollama({ host: 'ftp://example.com' }), TypeError);
});

test('compat host: a malformed host with a password is refused without showing the password, in the message or a cause', () => {
  for (const host of [
    'http://ada:hunter2hunter2@h:99999',
    'http://ada:hunter2hunter2@exa mple.com',
    'ada:hunter2hunter2@:abc',
    'http://ada:hunter2hunter2@[::1',
    'http://ada:hunter2hunter2@',
  ]) {
    assert.throws(
      () => new Ollama({ host }),
      (error: unknown) => {
        assert.ok(error instanceof TypeError, host);
        assert.match(error.message, /config\.host .* is not a valid address/);
        assert.doesNotMatch(`${error.message} ${error.stack} ${String(error.cause)}`, /hunter2/, host);
        return true;
      },
    );
  }
});

test('compat host: credentials in the host go as Basic auth, never in the URL; OLLAMA_HOST is not read', async () => {
  await withFake(async (fake) => {
    const saved = process.env.OLLAMA_HOST;
    process.env.OLLAMA_HOST = 'http://127.0.0.1:9';
    try {
      const port = new URL(fake.url).port;
      await new Ollama({ host: `:${port}` }).version();
      await new Ollama({ host: `http://user:secret@127.0.0.1:${port}` }).version();
    } finally {
      if (saved === undefined) delete process.env.OLLAMA_HOST;
      else process.env.OLLAMA_HOST = saved;
    }
    assert.equal(fake.requests.length, 2);
    assert.equal(fake.requests[1]?.headers.authorization, `Basic ${btoa('user:secret')}`);
  });
});

test('compat: the default instance and the exports are what ollama-js code imports', () => {
  assert.ok(defaultInstance instanceof Ollama);
  for (const method of ['chat', 'generate', 'embed', 'embeddings', 'pull', 'push', 'create', 'list', 'show']) {
    assert.equal(typeof (defaultInstance as unknown as Record<string, unknown>)[method], 'function', method);
  }
  for (const method of ['copy', 'delete', 'ps', 'version', 'webSearch', 'webFetch', 'abort', 'encodeImage']) {
    assert.equal(typeof (defaultInstance as unknown as Record<string, unknown>)[method], 'function', method);
  }
  assert.equal(typeof AbortableAsyncIterator, 'function');
  assert.equal(typeof OllamaError, 'function');
});

// ---- The failure rows: where the compat class does better, each shown on both clients.

let fake: FakeOllama;
before(async () => {
  fake = await startFakeOllama();
});
after(() => fake.close());

/** The stand-in's record of the last request to `path`. */
const last = (path: string) => fake.requests.filter((r) => r.path === path).at(-1);

/** Runs `body` with console.warn/log captured (ollama-js writes to both), and returns what was written. */
async function capturingConsole(body: () => Promise<void>): Promise<string[]> {
  const written: string[] = [];
  const saved = { warn: console.warn, log: console.log };
  console.warn = (...args: unknown[]) => written.push(`warn ${args.join(' ')}`);
  console.log = (...args: unknown[]) => written.push(`log ${args.join(' ')}`);
  try {
    await body();
  } finally {
    console.warn = saved.warn;
    console.log = saved.log;
  }
  return written;
}

test('failure row, timeouts: a silent server is a read-timeout error; ollama-js just waits', async () => {
  const silent = behaviourHeader({ headersDelayMs: 2500 });
  const ours = new Ollama({ host: fake.url, headers: silent, readTimeout: 400 });
  let started = performance.now();
  await assert.rejects(ours.chat(hi()), (error) => {
    assert.ok(isOllamaError(error));
    assert.equal(error.kind, 'read-timeout');
    assert.match(error.message, /readTimeout \(400 ms\)/);
    return true;
  });
  const ourTime = performance.now() - started;
  assert.ok(ourTime < 2000, `gave up after ${ourTime} ms`);

  started = performance.now();
  const theirs = await new OllamaJs({ host: fake.url, headers: silent }).chat(hi());
  assert.equal(theirs.done, true);
  assert.ok(performance.now() - started >= 2400, 'ollama-js has no timeout: it waited for the whole delay');
});

test('failure row, break: leaving the loop closes the connection; ollama-js leaves the model generating', async () => {
  const slow = behaviourHeader({ chunkDelayMs: 60, tokens: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'] });
  for await (const chunk of await new Ollama({ host: fake.url, headers: slow }).chat({ ...hi(), stream: true })) {
    void chunk;
    break;
  }
  await fake.waitFor(() => last('/api/chat')?.closedAt !== undefined, 3000);
  assert.equal(last('/api/chat')?.clientDisconnected, true);
  assert.ok((last('/api/chat')?.pendingChunks ?? 0) > 0, 'the answer was cut short');

  const client = new OllamaJs({ host: fake.url, headers: slow });
  for await (const chunk of await client.chat({ ...hi(), stream: true })) {
    void chunk;
    break;
  }
  await fake.waitFor(() => last('/api/chat')?.closedAt !== undefined, 5000);
  assert.equal(last('/api/chat')?.clientDisconnected, false, 'ollama-js kept reading nothing, the server wrote on');
  assert.equal(last('/api/chat')?.pendingChunks, 0, 'every chunk was generated and sent');
});

test('failure row, abort of a call without stream: abort() stops it; ollama-js cannot', async () => {
  const slow = behaviourHeader({ headersDelayMs: 1500 });
  const ours = new Ollama({ host: fake.url, headers: slow });
  const started = performance.now();
  const pending = ours.generate({ model: 'llama3.2', prompt: 'Hi' });
  setTimeout(() => ours.abort(), 150);
  await assert.rejects(pending, (error) => (error as Error).name === 'AbortError');
  assert.ok(performance.now() - started < 1200);
  await fake.waitFor(() => last('/api/generate')?.clientDisconnected === true, 3000);

  // A signal of the call's own works too.
  await assert.rejects(
    ours.embed({ model: 'nomic-embed-text', input: 'x' }, { signal: AbortSignal.timeout(100) }),
    (error) => (error as Error).name === 'TimeoutError',
  );

  const theirs = new OllamaJs({ host: fake.url, headers: slow });
  const begun = performance.now();
  const answer = theirs.generate({ model: 'llama3.2', prompt: 'Hi' });
  setTimeout(() => theirs.abort(), 150);
  assert.equal((await answer).done, true, 'ollama-js ignored abort() and finished');
  assert.ok(performance.now() - begun >= 1400);
});

test('failure row, abort() before the first byte stops a stream; ollama-js does not know it yet', async () => {
  const slow = behaviourHeader({ headersDelayMs: 1500 });
  const ours = new Ollama({ host: fake.url, headers: slow });
  const started = performance.now();
  const opening = ours.chat({ ...hi(), stream: true });
  setTimeout(() => ours.abort(), 150);
  await assert.rejects(opening, (error) => (error as Error).name === 'AbortError');
  assert.ok(performance.now() - started < 1200);

  const theirs = new OllamaJs({ host: fake.url, headers: slow });
  const opened = theirs.chat({ ...hi(), stream: true });
  setTimeout(() => theirs.abort(), 150);
  let chunks = 0;
  for await (const chunk of await opened) chunks += chunk.done ? 0 : 1;
  assert.ok(chunks > 0, 'ollama-js streamed the whole answer after abort()');
});

test("failure row, abort() during a stream: every stream of the instance rejects with AbortError (as ollama-js's)", async () => {
  const slow = behaviourHeader({ chunkDelayMs: 50, tokens: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'] });
  const ours = new Ollama({ host: fake.url, headers: slow });
  const streams = [
    await ours.chat({ ...hi(), stream: true }),
    await ours.generate({ model: 'llama3.2', prompt: 'x', stream: true }),
  ];
  const seen = streams.map(async (stream) => {
    let count = 0;
    try {
      for await (const chunk of stream) {
        void chunk;
        if (++count === 2) ours.abort();
      }
      return 'ended';
    } catch (error) {
      return (error as Error).name;
    }
  });
  assert.deepEqual(await Promise.all(seen), ['AbortError', 'AbortError']);
  // One stream's own abort() stops only that one.
  const [one, two] = [await ours.chat({ ...hi(), stream: true }), await ours.chat({ ...hi(), stream: true })];
  one.abort();
  await assert.rejects(
    async () => {
      for await (const chunk of one) void chunk;
    },
    (error: Error) => error.name === 'AbortError',
  );
  let rest = 0;
  for await (const chunk of two) rest += chunk.done ? 0 : 1;
  assert.equal(rest, 8);
});

test('failure row, a bad line: an OllamaError of kind protocol; ollama-js warns on the console and skips it', async () => {
  const garbage = behaviourHeader({ garbageAfter: 2 });
  await assert.rejects(
    async () => {
      for await (const chunk of await new Ollama({ host: fake.url, headers: garbage }).chat({ ...hi(), stream: true }))
        void chunk;
    },
    (error) => {
      assert.ok(isOllamaError(error));
      assert.equal(error.kind, 'protocol');
      assert.match(error.message, /is not JSON: "<html>this is not json<\/html>"/);
      return true;
    },
  );
  let theirs = 0;
  const written = await capturingConsole(async () => {
    for await (const chunk of await new OllamaJs({ host: fake.url, headers: garbage }).chat({ ...hi(), stream: true }))
      theirs += chunk.done ? 0 : 1;
  });
  assert.ok(theirs > 2, 'ollama-js went on as if nothing happened');
  assert.deepEqual(written, ['warn invalid json:  <html>this is not json</html>']);
});

test('failure row, refused connection: a connection error naming the fix; ollama-js a bare TypeError', async () => {
  await assert.rejects(new Ollama({ host: closedUrl, retry: false }).list(), (error) => {
    assert.ok(isOllamaError(error));
    assert.equal(error.kind, 'connection');
    assert.equal(error.code, 'ECONNREFUSED');
    assert.equal((error as ResponseError).status_code, undefined);
    assert.equal((error as ResponseError).error, error.message, 'no words from a server: the message');
    assert.match(error.message, /ollama serve/);
    return true;
  });
  await assert.rejects(new OllamaJs({ host: closedUrl }).list(), (error) => {
    assert.ok(error instanceof TypeError);
    assert.equal(error.message, 'fetch failed');
    return true;
  });
});

test('failure row, an error inside the stream: kind stream with the words in error; ollama-js a plain Error', async () => {
  const failing = behaviourHeader({ errorAfter: 2, errorText: 'model runner crashed' });
  await assert.rejects(
    async () => {
      for await (const chunk of await new Ollama({ host: fake.url, headers: failing }).chat({ ...hi(), stream: true }))
        void chunk;
    },
    (error) => {
      assert.ok(isOllamaError(error));
      assert.equal(error.kind, 'stream');
      assert.equal((error as ResponseError).error, 'model runner crashed');
      assert.equal((error as ResponseError).status_code, 200);
      return true;
    },
  );
  await assert.rejects(
    async () => {
      for await (const chunk of await new OllamaJs({ host: fake.url, headers: failing }).chat({
        ...hi(),
        stream: true,
      }))
        void chunk;
    },
    (error) => {
      assert.equal((error as Error).constructor, Error);
      assert.equal((error as Error).message, 'model runner crashed');
      assert.equal((error as { status_code?: unknown }).status_code, undefined);
      return true;
    },
  );
});

test('compat errors: an HTTP error carries the error and status_code that ResponseError code reads', async () => {
  const read = async (client: { chat(r: object): Promise<unknown> }, stream: boolean) => {
    try {
      await client.chat({ model: 'no-such-model', messages: [], stream });
    } catch (error) {
      const { error: said, status_code } = error as { error: string; status_code: number };
      return { said, status_code };
    }
    return undefined;
  };
  const expected = { said: "model 'no-such-model' not found", status_code: 404 };
  for (const stream of [false, true]) {
    assert.deepEqual(await read(new OllamaJs({ host: fake.url }), stream), expected);
    assert.deepEqual(await read(new Ollama({ host: fake.url }), stream), expected);
  }
  const error = await new Ollama({ host: fake.url }).show({ model: 'nope' }).catch((e: unknown) => e);
  assert.ok(error instanceof OllamaError);
  assert.equal(error.kind, 'http');
  assert.match(error.message, /ollama pull nope/);
});

// A body without words of its own: ollama-js's `error` is then its status line, `Error 500:
// Internal Server Error`; it was the library's whole sentence. A text body is its own words.
test("compat errors: error is ollama-js's for an empty body, a JSON body without error, and a text body", async () => {
  const bodies = [
    { status: 500, body: '' },
    { status: 503, headers: { 'Content-Type': 'application/json' }, body: '{"detail":"busy"}' },
    { status: 502, headers: { 'Content-Type': 'text/plain' }, body: 'upstream down' },
  ];
  for (const respond of bodies) {
    const said = async (client: { list(): Promise<unknown> }) => {
      const error = await client.list().then(
        () => assert.fail('expected a failure'),
        (e: unknown) => e as { error: string; status_code: number },
      );
      return { error: error.error, status_code: error.status_code };
    };
    const headers = { 'x-fake-behaviour': JSON.stringify({ respond }) };
    // ollama-js logs "Getting text from response" on the way: captured, not shown.
    let theirs: Awaited<ReturnType<typeof said>> | undefined;
    await capturingConsole(async () => {
      theirs = await said(new OllamaJs({ host: fake.url, headers }));
    });
    const ours = await said(new Ollama({ host: fake.url, headers, retry: { retries: 0 } }));
    assert.deepEqual(ours, theirs, respond.body);
  }
});

test('compat: the constructor takes the call options, applied to every call; a call may override them', async () => {
  await withFake(async (own) => {
    own.script({ respond: { status: 503, body: '{"error":"busy"}' } }, {});
    const retried: number[] = [];
    const client = new Ollama({
      host: own.url,
      headers: { 'X-Team': 'search' },
      retry: { retries: 1, baseDelay: 10, onRetry: (info) => void retried.push(info.attemptNumber) },
      apiKey: 'local-proxy-key',
    });
    const answer = await client.chat(hi());
    assert.equal(answer.done, true);
    assert.deepEqual(retried, [1]);
    await client.version({ headers: { 'X-Call': 'one' } });
    for (const request of own.requests) {
      assert.equal(request.headers['x-team'], 'search');
      assert.equal(request.headers.authorization, 'Bearer local-proxy-key');
    }
    assert.equal(own.requests.at(-1)?.headers['x-call'], 'one');
    assert.throws(() => new Ollama({ readTimeout: -1 }), RangeError);
  });
});

test('compat: pull with stream yields every progress line as Ollama sent it, and break stops the pull', async () => {
  await withFake(async (own) => {
    const client = new Ollama({ host: own.url });
    const lines: unknown[] = [];
    for await (const line of await client.pull({ model: 'all-minilm', stream: true })) lines.push(line);
    assert.equal((lines.at(-1) as { status: string }).status, 'success');
    assert.ok(lines.length >= 5);
    assert.ok(
      lines.every((line) => !('fraction' in (line as object))),
      'no field ollama-js lacks',
    );

    own.script({ chunkDelayMs: 80, progressUpdates: 20 });
    for await (const line of await client.pull({ model: 'tinyllama', stream: true })) {
      void line;
      break;
    }
    await own.waitFor((r) => r.at(-1)?.closedAt !== undefined, 3000);
    assert.equal(own.requests.at(-1)?.clientDisconnected, true);
    assert.ok((own.requests.at(-1)?.pendingChunks ?? 0) > 0, 'the pull was cut short');
  });
});

test('compat webSearch: maxResults goes out as max_results to webHost, with the apiKey; no key, no request', async () => {
  await withFake(async (own) => {
    const saved = process.env.OLLAMA_API_KEY;
    process.env.OLLAMA_API_KEY = 'env-key-for-ollama-com-only';
    try {
      const noKey = new Ollama({ webHost: own.url });
      await assert.rejects(noKey.webSearch({ query: 'q' }), TypeError);
      assert.equal(own.requests.length, 0);
      const client = new Ollama({ webHost: own.url, apiKey: 'k' });
      const found = await client.webSearch({ query: 'llamas', maxResults: 3 });
      assert.equal(found.results.length, 3);
      assert.deepEqual(own.requests[0]?.body, { query: 'llamas', max_results: 3 });
      assert.equal(own.requests[0]?.headers.authorization, 'Bearer k');
      const page = await client.webFetch({ url: 'https://example.com' });
      assert.equal(page.title, 'The page at https://example.com');
    } finally {
      if (saved === undefined) delete process.env.OLLAMA_API_KEY;
      else process.env.OLLAMA_API_KEY = saved;
    }
  });
});

test('compat: create without stream resolves with the success line; with stream it yields every line', async () => {
  await withFake(async (own) => {
    const client = new Ollama({ host: own.url });
    assert.deepEqual(await client.create({ model: 'a', from: 'llama3.2', system: 'Be brief.' }), { status: 'success' });
    const lines: Array<{ status: string }> = [];
    for await (const line of await client.create({ model: 'b', from: 'llama3.2', stream: true })) lines.push(line);
    assert.equal(lines.at(-1)?.status, 'success');
    assert.ok(lines.length > 1);
    assert.ok(own.models().includes('a:latest') && own.models().includes('b:latest'));
  });
});

test('compat: encodeImage gives base64 for bytes and leaves a string alone', async () => {
  const client = new Ollama();
  assert.equal(await client.encodeImage(new Uint8Array([104, 105])), 'aGk=');
  assert.equal(await client.encodeImage('aGk='), 'aGk=');
});

test('compat: proxy: true sends to the page origin, and outside a page it is a clear error', async () => {
  assert.throws(() => new Ollama({ proxy: true }), /proxy: true needs a page origin/);
  await withFake(async (own) => {
    const scope = globalThis as { location?: unknown };
    scope.location = { origin: own.url };
    try {
      await new Ollama({ proxy: true }).version();
    } finally {
      delete scope.location;
    }
    assert.equal(own.requests[0]?.path, '/api/version');
  });
});

test('compat: webSearch takes max_results too, and a streamed push yields its lines', async () => {
  await withFake(async (own) => {
    const client = new Ollama({ host: own.url, webHost: own.url, apiKey: 'k' });
    assert.equal((await client.webSearch({ query: 'q', max_results: 1 })).results.length, 1);
    const lines: Array<{ status: string }> = [];
    for await (const line of await client.push({ model: 'llama3.2', stream: true, insecure: true })) lines.push(line);
    assert.equal(lines.at(-1)?.status, 'success');
    assert.deepEqual(own.requests.at(-1)?.body, { model: 'llama3.2', name: 'llama3.2', insecure: true, stream: true });
  });
});

test('compat errors: a pull of a missing model has the server words alone in error, as ollama-js has them', async () => {
  for (const stream of [false, true]) {
    await assert.rejects(
      async () => {
        const ours = new Ollama({ host: fake.url });
        if (stream) for await (const line of await ours.pull({ model: 'no-such-model', stream: true })) void line;
        else await ours.pull({ model: 'no-such-model' });
      },
      (error) => {
        assert.ok(isOllamaError(error));
        assert.equal((error as ResponseError).error, 'pull model manifest: file does not exist');
        // The message still carries the library's advice.
        assert.match(error.message, /has no model "no-such-model"/);
        return true;
      },
      `stream: ${stream}`,
    );
  }
});

test('compat stream: a second loop over it throws instead of repeating the first chunk and ending as if complete', async () => {
  const words = behaviourHeader({ tokens: ['The', ' sky', ' is', ' blue'] });
  const stream = await new Ollama({ host: fake.url, headers: words }).chat({ ...hi(), stream: true });
  const first: string[] = [];
  for await (const chunk of stream) {
    first.push(chunk.message.content);
    break;
  }
  assert.deepEqual(first, ['The']);
  const second: string[] = [];
  await assert.rejects(async () => {
    for await (const chunk of stream) second.push(chunk.message.content);
  }, /already iterated/);
  assert.deepEqual(second, []);
});
