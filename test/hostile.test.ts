// What a hostile or broken server sends, byte for byte, and what the caller gets (issue 12, items
// 2, 4, 8 and 10): good lines before corrupt bytes are delivered; an error body that trickles is
// read under a deadline of its own; failures that would happen again are not retried and get the
// kind that describes them; a body is NDJSON whatever its label.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { describe, test } from 'node:test';
import { chat, chatStream, type ChatRequest, type ChatResponse, listModels } from '../lib/index.ts';
import { chatCompletions, chatCompletionsStream, listModels as listV1Models } from '../lib/openai/index.ts';
import { failsWith, TIMER_SLACK } from './support/assertions.ts';
import { collect } from './support/chunks.ts';
import { behaviourHeader, rawHead, rawStreamHead, type RawStep } from './support/fake-ollama.ts';
import { withFake } from './support/with-fake.ts';

const hello: ChatRequest = { model: 'llama3.2', messages: [{ role: 'user', content: 'Hi there, llama' }] };

function line(content: string, done = false): string {
  const chunk = {
    model: 'llama3.2',
    created_at: '2026-01-01T00:00:00Z',
    message: { role: 'assistant', content },
    done,
  };
  return `${JSON.stringify(chunk)}\n`;
}

/** Options that make the stand-in answer every attempt with these raw steps. */
function raw(steps: RawStep[], more: object = {}): object {
  return { retry: { baseDelay: 10 }, ...more, headers: behaviourHeader({ raw: steps }) };
}

describe('item 2: corrupt bytes in the same read as good lines', { concurrency: true }, () => {
  const classes: Array<[string, string]> = [
    ['80', '\u0080'],
    ['C0 80', '\u00c0\u0080'],
    ['ED A0 80', '\u00ed\u00a0\u0080'],
    ['FF', '\u00ff'],
    ['a truncated E6 BC', '\u00e6\u00bc'],
  ];
  for (const [name, bad] of classes) {
    test(`${name}: chatStream yields both good lines of that write, then kind protocol; one attempt`, () =>
      withFake(async (fake) => {
        // One write: two good lines, a line with the bad bytes inside its JSON string, the final chunk.
        const write = line('one') + line('two') + line(`x${bad}y`) + line('', true);
        const seen: ChatResponse[] = [];
        await assert.rejects(
          collect(
            chatStream(hello, { host: fake.url, ...raw([rawStreamHead(), { chunk: write }, { last: true }]) }),
            seen,
          ),
          failsWith('protocol', (error) => assert.match(error.message, /UTF-8/)),
        );
        assert.deepEqual(
          seen.map((chunk) => chunk.message.content),
          ['one', 'two'],
        );
        await assert.rejects(
          chat(hello, { host: fake.url, ...raw([rawStreamHead(), { chunk: write }, { last: true }]) }),
          failsWith('protocol'),
        );
        assert.equal(fake.requests.length, 2);
      }));
  }

  test('a non-JSON line in the same place keeps the same lines: both good lines, then kind protocol', () =>
    withFake(async (fake) => {
      const write = `${line('one')}${line('two')}not json\n${line('', true)}`;
      const seen: ChatResponse[] = [];
      await assert.rejects(
        collect(
          chatStream(hello, { host: fake.url, ...raw([rawStreamHead(), { chunk: write }, { last: true }]) }),
          seen,
        ),
        failsWith('protocol'),
      );
      assert.equal(seen.length, 2);
    }));
});

describe('item 4: an error body is read under a deadline of its own', { concurrency: true }, () => {
  const trickle = (everyMs: number, status = 500): RawStep[] => [
    rawHead(status, { 'Content-Type': 'application/json', 'Content-Length': '200', Connection: 'close' }),
    { trickle: `{"error":"${'slow '.repeat(37)}"}`, everyMs },
  ];

  test('status 500, then one byte every 450 ms with readTimeout 500: kind http after about 500 ms, with what arrived', () =>
    withFake(async (fake) => {
      const started = performance.now();
      await assert.rejects(
        chat(hello, { host: fake.url, ...raw(trickle(450), { readTimeout: 500 }) }),
        failsWith('http', (error) => {
          assert.equal(error.status, 500);
          const body = error.body ?? '';
          assert.ok(body.startsWith('{"') && body.length < 10, `body ${body}`);
        }),
      );
      const ms = performance.now() - started;
      assert.ok(ms >= 450 && ms < 500 + TIMER_SLACK, `settled after ${Math.round(ms)} ms`);
      assert.equal(fake.requests.length, 1);
    }));

  test('with readTimeout 0 (no idle limit) the error body still gets at most 10 s', () =>
    withFake(async (fake) => {
      const started = performance.now();
      await assert.rejects(
        chat(hello, { host: fake.url, ...raw(trickle(400), { readTimeout: 0 }) }),
        failsWith('http', (error) => assert.equal(error.status, 500)),
      );
      const ms = performance.now() - started;
      assert.ok(ms >= 9900 && ms < 10_000 + TIMER_SLACK, `settled after ${Math.round(ms)} ms`);
    }));

  test('status 503, then one byte every 400 ms with totalTimeout 700: kind total-timeout with status 503, one request', () =>
    withFake(async (fake) => {
      const started = performance.now();
      await assert.rejects(
        chat(hello, { host: fake.url, ...raw(trickle(400, 503), { totalTimeout: 700 }) }),
        failsWith('total-timeout', (error) => {
          assert.equal(error.status, 503);
          assert.match(error.message, /last attempt failed \(http 503\)/);
          const cause = error.cause as { kind?: string; body?: string };
          assert.equal(cause.kind, 'http');
          assert.ok(cause.body?.startsWith('{"'), `body ${cause.body}`);
          assert.match(error.cause instanceof Error ? error.cause.message : '', /about to run out of totalTimeout/);
        }),
      );
      const ms = performance.now() - started;
      assert.ok(ms >= 650 && ms < 700 + TIMER_SLACK, `settled after ${Math.round(ms)} ms`);
      assert.equal(fake.requests.length, 1);
    }));

  test('status 400 (not retried), trickled, with totalTimeout 700: kind http 400 with what arrived, before the deadline', () =>
    withFake(async (fake) => {
      const stream = chatStream(hello, { host: fake.url, ...raw(trickle(400, 400), { totalTimeout: 700 }) });
      await assert.rejects(
        collect(stream, []),
        failsWith('http', (error) => {
          assert.equal(error.status, 400);
          assert.ok(error.body?.startsWith('{"'), `body ${error.body}`);
        }),
      );
    }));

  test('an error body that arrives whole is reported whole, as before', () =>
    withFake(async (fake) => {
      const body = '{"error":"model requires more system memory (8 GiB) than is available (4 GiB)"}';
      await assert.rejects(
        chat(hello, {
          host: fake.url,
          ...raw([
            rawHead(500, { 'Content-Type': 'application/json', 'Content-Length': String(body.length) }),
            { write: body },
          ]),
        }),
        failsWith('http', (error) => assert.equal(error.body, body)),
      );
    }));
});

describe('item 8: what would fail again is not retried, and gets the kind that describes it', {
  concurrency: true,
}, () => {
  test('a redirect (a loop, or to https elsewhere): never followed, kind protocol saying what to set, one request', () =>
    withFake(async (fake) => {
      for (const [status, location] of [
        [307, '/api/chat'],
        [308, 'https://127.0.0.2:1/api/chat'],
        [301, 'http://127.0.0.1:1/other'],
      ] as const) {
        const before = fake.requests.length;
        const answer = rawHead(status, { Location: location, 'Content-Length': '0', Connection: 'close' });
        await assert.rejects(
          chat(hello, { host: fake.url, ...raw([answer]) }),
          failsWith('protocol', (error) => {
            assert.match(error.message, /answered with a redirect/);
            assert.match(error.message, /Set the host to where it points: https:\/\/ rather than http:\/\//);
            assert.equal(error.attempts, 1);
          }),
        );
        assert.equal(fake.requests.length - before, 1, `${status}: only the request sent, nothing followed`);
      }
    }));

  test('a corrupt gzip body: kind protocol with status 200, one attempt', () =>
    withFake(async (fake) => {
      const head = rawHead(200, {
        'Content-Type': 'application/x-ndjson',
        'Content-Encoding': 'gzip',
        'Content-Length': '24',
        Connection: 'close',
      });
      await assert.rejects(
        chat(hello, { host: fake.url, ...raw([head, { write: 'this is not gzip at all!' }]) }),
        failsWith('protocol', (error) => {
          assert.equal(error.status, 200);
          assert.match(error.message, /gzip|compress/i);
        }),
      );
      assert.equal(fake.requests.length, 1);
    }));

  test('a 64 KB response header: kind protocol, one attempt', () =>
    withFake(async (fake) => {
      const huge: RawStep[] = [
        { write: 'HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nX-Padding: ' },
        { write: 'a', repeat: 65_536 },
        { write: '\r\nContent-Length: 0\r\nConnection: close\r\n\r\n' },
      ];
      await assert.rejects(
        chat(hello, { host: fake.url, ...raw(huge) }),
        failsWith('protocol', (error) => assert.match(error.message, /header/i)),
      );
      assert.equal(fake.requests.length, 1);
    }));

  test('a 1xx nobody asked for (101, 100), or a status line undici cannot read (099): kind protocol, one attempt', () =>
    withFake(async (fake) => {
      const cases: Array<[string, RegExp]> = [
        ['HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n', /interim \(1xx\)/],
        ['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', /interim \(1xx\)/],
        ['HTTP/1.1 099 Odd\r\nContent-Length: 0\r\n\r\n', /status line fetch could not read/],
      ];
      for (const [head, words] of cases) {
        const before = fake.requests.length;
        await assert.rejects(
          chat(hello, { host: fake.url, ...raw([{ write: head }]) }),
          failsWith('protocol', (error) => assert.match(error.message, words)),
        );
        assert.equal(fake.requests.length, before + 1, head);
      }
    }));

  test('https:// to a plain-HTTP server: kind protocol, saying to use http://, one attempt', async () => {
    // What a plain HTTP server answers a TLS handshake with: a 400 in plain text.
    let connections = 0;
    const server = createNetServer((socket) => {
      connections++;
      socket.once('data', () => socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n'));
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const host = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
      await assert.rejects(
        chat(hello, { host, retry: { baseDelay: 10 } }),
        failsWith('protocol', (error) => {
          assert.match(error.message, /it is most likely plain HTTP.*Use http:\/\//s);
          assert.doesNotMatch(error.message, /\n/);
        }),
      );
      assert.equal(connections, 1);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  /** One line nested `depth` deep: `open` repeated, `middle`, `close` repeated. */
  const nested = (open: string, middle: string, close: string, depth = 100_000): RawStep[] => [
    { chunk: open, repeat: depth },
    { chunk: middle },
    { chunk: close, repeat: depth },
    { chunk: '\n' },
  ];

  test('a line nested 100,000 deep: kind protocol, one attempt, and the message is built', () =>
    withFake(async (fake) => {
      const steps: RawStep[] = [rawStreamHead(), { chunk: line('one') }, ...nested('[', '1', ']'), { last: true }];
      await assert.rejects(
        chat(hello, { host: fake.url, ...raw(steps) }),
        failsWith('protocol', (error) => assert.match(error.message, /not a JSON object/)),
      );
      assert.equal(fake.requests.length, 1);
    }));

  test('an in-band {"error"} nested 100,000 deep keeps its kind stream', () =>
    withFake(async (fake) => {
      const steps: RawStep[] = [
        rawStreamHead(),
        { chunk: line('one') },
        ...nested('{"error":', '1', '}'),
        { last: true },
      ];
      const seen: ChatResponse[] = [];
      await assert.rejects(collect(chatStream(hello, { host: fake.url, ...raw(steps) }), seen), failsWith('stream'));
      assert.equal(seen.length, 1);
      assert.equal(fake.requests.length, 1);
    }));

  test('a final chunk carrying a value nested 100,000 deep still completes the answer', () =>
    withFake(async (fake) => {
      const final = line('', true).slice(0, -2);
      const steps: RawStep[] = [
        rawStreamHead(),
        { chunk: line('one') },
        { chunk: `${final},"deep":` },
        ...nested('[', '1', ']').slice(0, 3),
        { chunk: '}\n' },
        { last: true },
      ];
      const reply = await chat(hello, { host: fake.url, ...raw(steps) });
      assert.equal(reply.message.content, 'one');
      assert.equal(reply.done, true);
    }));
});

describe('item 10: the body is NDJSON whatever its Content-Type', { concurrency: true }, () => {
  const labelled = (type: string): RawStep[] => [
    rawStreamHead(type),
    { chunk: line('one') },
    { waitMs: 500 },
    { chunk: line('two') },
    { waitMs: 500 },
    { chunk: line('', true) },
    { last: true },
  ];

  for (const type of ['application/json', 'application/json; charset=utf-8', 'text/plain', 'text/html']) {
    test(`labelled ${type}: chatStream yields each chunk as it arrives, chat() gets the whole answer`, () =>
      withFake(async (fake) => {
        const started = performance.now();
        const arrivals: number[] = [];
        const seen: ChatResponse[] = [];
        for await (const chunk of chatStream(hello, { host: fake.url, ...raw(labelled(type)) })) {
          arrivals.push(performance.now() - started);
          seen.push(chunk);
        }
        assert.deepEqual(
          seen.map((chunk) => chunk.message.content),
          ['one', 'two', ''],
        );
        assert.ok(arrivals[0]! < 450, `the first chunk came after ${Math.round(arrivals[0]!)} ms`);
        assert.ok(arrivals[2]! - arrivals[0]! >= 900, 'the last one a second later');
        const reply = await chat(hello, { host: fake.url, ...raw(labelled(type)) });
        assert.equal(reply.message.content, 'onetwo');
      }));
  }

  test('one JSON object with no newline, labelled application/json, is simply the last line', () =>
    withFake(async (fake) => {
      const body = line('all of it', true).trimEnd();
      const steps: RawStep[] = [
        rawHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(body.length) }),
        { write: body },
      ];
      const reply = await chat(hello, { host: fake.url, ...raw(steps) });
      assert.equal(reply.message.content, 'all of it');
    }));
});

// A whole answer (the model listing, a /v1 `stream: false` answer) with bytes that are not UTF-8:
// they became U+FFFD without a word (`"caf\uFFFD\uFFFD"`), where a stream with the same bytes fails.
test('a whole JSON answer that is not valid UTF-8 is a protocol error, not text with U+FFFD in it', () =>
  withFake(async (fake) => {
    const json = (body: string): Record<string, string> =>
      behaviourHeader({
        raw: [
          rawHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(body.length) }),
          { write: body },
        ],
      });
    const notText = failsWith('protocol', (e) => assert.match(e.message, /not valid UTF-8/));
    const listing = '{"models":[{"name":"caf\u00c3\u00a9","model":"caf\u00ff\u00fe"}]}';
    await assert.rejects(listModels({ host: fake.url, headers: json(listing) }), notText);
    // The stand-in's /v1 routes play no raw bytes: a server of the test's own, on loopback.
    const server = createServer((request, response) => {
      request.resume();
      const body = request.url?.endsWith('/models')
        ? '{"object":"list","data":[{"id":"\u00ff"}]}'
        : '{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"caf\u00ff"},"finish_reason":"stop"}]}';
      response.writeHead(200, { 'Content-Type': 'application/json' }).end(Buffer.from(body, 'latin1'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
      await assert.rejects(listV1Models({ baseURL }), notText);
      await assert.rejects(chatCompletions({ model: 'm', messages: [], stream: false }, { baseURL }), notText);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    // Valid UTF-8 (é as C3 A9, written byte by byte) reads as it should.
    const fine = '{"models":[{"name":"caf\u00c3\u00a9","model":"x"}]}';
    assert.equal((await listModels({ host: fake.url, headers: json(fine) })).models[0]?.name, 'café');
  }));

describe('a whole JSON answer whose body never ends is the answer once the server goes quiet', {
  concurrency: true,
}, () => {
  const listing = '{"models":[{"name":"a","model":"a"},{"name":"b","model":"b"}]}';
  /** A JSON head: chunked, or with the Content-Length given. */
  const head = (length?: number): RawStep =>
    rawHead(200, {
      'Content-Type': 'application/json',
      ...(length === undefined ? { 'Transfer-Encoding': 'chunked' } : { 'Content-Length': String(length) }),
    });
  const quick = async (steps: RawStep[]): Promise<{ names: string[]; ms: number }> => {
    const seen = { names: [] as string[], ms: Number.NaN };
    await withFake(async (fake) => {
      const started = performance.now();
      // readTimeout 20 s: waiting for it would fail the time check below.
      const { models } = await listModels({ host: fake.url, readTimeout: 20_000, ...raw(steps) });
      seen.names = models.map((m) => m.name);
      seen.ms = performance.now() - started;
    });
    return seen;
  };

  test('a chunked body without its last chunk: the models, within about 100 ms of the last bytes', async () => {
    const { names, ms } = await quick([head(), { chunk: listing }, { hang: true }]);
    assert.deepEqual(names, ['a', 'b']);
    assert.ok(ms < 100 + TIMER_SLACK, `took ${Math.round(ms)} ms`);
  });

  test('a Content-Length longer than the body that came: the same', async () => {
    const { names, ms } = await quick([head(listing.length + 100), { write: listing }, { hang: true }]);
    assert.deepEqual(names, ['a', 'b']);
    assert.ok(ms < 100 + TIMER_SLACK, `took ${Math.round(ms)} ms`);
  });

  test('a pause after a "}" inside the value is not its end: the rest is waited for', async () => {
    // `{"models":[{"name":"a","model":"a"}` ends with a brace but is not whole: 300 ms later the rest.
    const cut = listing.indexOf('},') + 1;
    const { names, ms } = await quick([
      head(),
      { chunk: listing.slice(0, cut) },
      { waitMs: 300 },
      { chunk: listing.slice(cut) },
      { hang: true },
    ]);
    assert.deepEqual(names, ['a', 'b']);
    assert.ok(ms >= 290 && ms < 400 + TIMER_SLACK, `took ${Math.round(ms)} ms`);
  });

  test('whitespace after the value in a read of its own changes nothing', async () => {
    const { names, ms } = await quick([head(), { chunk: listing }, { waitMs: 20 }, { chunk: '\r\n' }, { hang: true }]);
    assert.deepEqual(names, ['a', 'b']);
    assert.ok(ms < 120 + TIMER_SLACK, `took ${Math.round(ms)} ms`);
  });

  test('a brace inside a string, and whitespace after the value, change nothing', async () => {
    const tricky = '{"models":[{"name":"}]\\"}","model":"x"}]}\r\n ';
    const { names, ms } = await quick([head(), { chunk: tricky }, { hang: true }]);
    assert.deepEqual(names, ['}]"}']);
    assert.ok(ms < 100 + TIMER_SLACK, `took ${Math.round(ms)} ms`);
  });

  test('a value not yet whole, or text that is not one value, is never taken for the answer: read-timeout as before', () =>
    withFake(async (fake) => {
      const silent = failsWith('read-timeout');
      for (const steps of [
        [head(), { chunk: '{"models":[{"name":"a"}' }, { hang: true }],
        [head(), { chunk: 'x{"models":[]}' }, { hang: true }],
        [head(), { chunk: '{"models":[]}{"models":[]}' }, { hang: true }],
      ] satisfies RawStep[][]) {
        const started = performance.now();
        await assert.rejects(listModels({ host: fake.url, readTimeout: 800, ...raw(steps) }), silent);
        assert.ok(performance.now() - started >= 750, 'only once the read timeout ran out');
      }
    }));

  test('a second value after a quiet moment is not read: the first was the whole answer, as a final chunk is', async () => {
    const { names } = await quick([
      head(),
      { chunk: listing },
      { waitMs: 400 },
      { chunk: '{"models":[]}' },
      { hang: true },
    ]);
    assert.deepEqual(names, ['a', 'b']);
  });

  test('/v1: a whole chat.completion whose body never ends is the answer too', async () => {
    const answer =
      '{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,' +
      '"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}';
    // Node's server frames it as chunked, and `end()` is never called.
    const server = createServer((request, response) => {
      request.resume();
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.write(answer);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
      const started = performance.now();
      const completion = await chatCompletions(
        { model: 'm', messages: [], stream: false },
        { baseURL, readTimeout: 20_000 },
      );
      assert.equal(completion.choices[0]?.message.content, 'hi');
      assert.ok(performance.now() - started < 100 + TIMER_SLACK);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('a final chunk whole but for its line break ends the answer once the server goes quiet', {
  concurrency: true,
}, () => {
  const finalLine = line('', true).trimEnd();
  const stream = (tail: RawStep[]): RawStep[] => [rawStreamHead(), { chunk: line('Hel') + line('lo') }, ...tail];
  /** The chunks a chatStream yielded, how long it took, and how it ended. */
  const read = async (steps: RawStep[], readTimeout: number) => {
    const seen: ChatResponse[] = [];
    let ms = Number.NaN;
    let result: unknown;
    await withFake(async (fake) => {
      const started = performance.now();
      result = await collect(chatStream(hello, { host: fake.url, readTimeout, ...raw(steps) }), seen).catch(
        (error: unknown) => error,
      );
      ms = performance.now() - started;
    });
    return { seen, ms, result };
  };

  test("then silence for good: the whole answer within about 100 ms, with readTimeout 20 s or 0, after CRLF's CR too", async () => {
    for (const [readTimeout, end] of [
      [20_000, ''],
      [0, ''],
      [20_000, '\r'],
    ] as const) {
      const { seen, ms, result } = await read(stream([{ chunk: finalLine + end }, { hang: true }]), readTimeout);
      assert.equal(result instanceof Error, false, String(result));
      assert.deepEqual(
        seen.map((c) => [c.message.content, c.done]),
        [
          ['Hel', false],
          ['lo', false],
          ['', true],
        ],
      );
      assert.ok(ms < 100 + TIMER_SLACK, `readTimeout ${readTimeout}: took ${Math.round(ms)} ms`);
    }
  });

  test('chat() resolves the same way', () =>
    withFake(async (fake) => {
      const started = performance.now();
      const answer = await chat(hello, {
        host: fake.url,
        readTimeout: 20_000,
        ...raw(stream([{ chunk: finalLine }, { hang: true }])),
      });
      assert.equal(answer.message.content, 'Hello');
      assert.equal(answer.done, true);
      assert.ok(performance.now() - started < 100 + TIMER_SLACK);
    }));

  test('a final line cut in two reads, a quiet moment between: the rest is waited for', async () => {
    const cut = finalLine.length - 5;
    const { seen, ms } = await read(
      stream([{ chunk: finalLine.slice(0, cut) }, { waitMs: 300 }, { chunk: finalLine.slice(cut) }, { hang: true }]),
      20_000,
    );
    assert.equal(seen.at(-1)?.done, true);
    assert.ok(ms >= 290 && ms < 400 + TIMER_SLACK, `took ${Math.round(ms)} ms`);
  });

  test('a line that is not the final chunk is not an end: its line break is waited for, up to readTimeout', async () => {
    const { seen, ms, result } = await read(stream([{ chunk: line('!').trimEnd() }, { hang: true }]), 800);
    assert.ok(failsWith('read-timeout')(result));
    // Handed on at the read timeout, whole as it was, before the failure (as before).
    assert.equal(seen.at(-1)?.message.content, '!');
    assert.ok(ms >= 750, `took ${Math.round(ms)} ms`);
  });
});

test('/v1: data: [DONE] whole but for its blank line ends the stream once the server goes quiet', async () => {
  const chunk = (content: string, finish: string | null): string =>
    `data: ${JSON.stringify({
      id: 'c',
      object: 'chat.completion.chunk',
      created: 1,
      model: 'm',
      choices: [{ index: 0, delta: { content }, finish_reason: finish }],
    })}\n\n`;
  let tail = '';
  // Node's server frames it as chunked, and `end()` is never called.
  const server = createServer((request, response) => {
    request.resume();
    response.writeHead(200, { 'Content-Type': 'text/event-stream' });
    // No finish_reason: only `[DONE]` says the answer is complete.
    response.write(chunk('Hel', null) + chunk('lo', null) + tail);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    for (const [end, readTimeout] of [
      ['data: [DONE]', 20_000],
      ['data: [DONE]\n', 0],
      ['data: [DONE]\r\n', 20_000],
    ] as const) {
      tail = end;
      const started = performance.now();
      let text = '';
      for await (const part of chatCompletionsStream({ model: 'm', messages: [] }, { baseURL, readTimeout })) {
        text += part.choices[0]?.delta.content ?? '';
      }
      assert.equal(text, 'Hello');
      const ms = performance.now() - started;
      assert.ok(ms < 100 + TIMER_SLACK, `${JSON.stringify(end)}: took ${Math.round(ms)} ms`);
    }
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
