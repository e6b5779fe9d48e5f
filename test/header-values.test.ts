// Issue 12 item 3: header values the caller gives (apiKey, OLLAMA_API_KEY, options.headers) are
// checked by the library before `new Headers()` or fetch sees them, whose own errors quote the
// value: the error names the option and what is wrong, never the value. On the old code the
// first test failed: `apiKey: 'sk-…\u0000'` rejected with undici's
// `Headers.set: "Bearer sk-…\x00" is an invalid header value.`, key included.

import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { test } from 'node:test';
import {
  chat,
  chatStream,
  createClient,
  type FetchLike,
  type HeadersInput,
  listModels,
  OllamaError,
  resolveHost,
} from '../lib/index.ts';
import { chatCompletionsStream, listModels as listV1Models } from '../lib/openai/index.ts';
import { withFake } from './support/with-fake.ts';

const SECRET = 'sk-live-0123456789abcdef';
const hello = { model: 'llama3.2', messages: [{ role: 'user' as const, content: 'Hi' }] };

/** A TypeError whose message matches `names`, in which no part of the secret appears. */
function refusedWithout(names: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof TypeError, `expected a TypeError, got ${String(error)}`);
    assert.match(error.message, names);
    for (const text of [error.message, error.stack ?? '', String((error as { cause?: unknown }).cause ?? '')]) {
      assert.doesNotMatch(text, /sk-live|0123456789abcdef/, text);
    }
    return true;
  };
}

test('apiKey with a NUL, a control character, a line break or a non-Latin-1 character: a TypeError naming apiKey, never the key', () =>
  withFake(async (fake) => {
    const cases: Array<[string, RegExp]> = [
      [`${SECRET}\u0000`, /contains U\+0000 at position 25/],
      [`${SECRET}\u0001x`, /U\+0001/],
      [`sk-live\r\nX-Injected: 1${SECRET}`, /U\+000D/],
      [`${SECRET}\u0100`, /U\+0100/],
      [`${SECRET}\u{1F511}`, /U\+D83D/],
      [`${SECRET}\u007f`, /U\+007F/],
    ];
    for (const [apiKey, problem] of cases) {
      await assert.rejects(chat(hello, { host: fake.url, apiKey }), refusedWithout(/^options\.apiKey /));
      await assert.rejects(chat(hello, { host: fake.url, apiKey }), refusedWithout(problem));
      assert.throws(() => chatStream(hello, { host: fake.url, apiKey }), refusedWithout(/options\.apiKey/));
    }
    assert.equal(fake.requests.length, 0, 'nothing was sent');
  }));

test('headers["authorization"] with a control character or CR/LF: a TypeError naming the header, never the value', () =>
  withFake(async (fake) => {
    const values = [
      `Bearer ${SECRET}\u0000`,
      `Bearer ${SECRET}\r\nX-Injected: 1`,
      `Bearer ${SECRET}\u0007`,
      `Bearer ${SECRET}\u2028`,
    ];
    for (const value of values) {
      for (const headers of [
        { Authorization: value },
        [['Authorization', value]] as [string, string][],
        new Map([['Authorization', value]]),
      ]) {
        await assert.rejects(
          listModels({ host: fake.url, headers: headers as HeadersInput }),
          refusedWithout(/^options\.headers\["authorization"\] /),
        );
      }
    }
    // A Headers object the caller built accepts \u0007, which the wire (RFC 9110) does not.
    await assert.rejects(
      listModels({ host: fake.url, headers: new Headers({ 'X-Api-Key': `${SECRET}\u0007` }) }),
      refusedWithout(/options\.headers\["x-api-key"\] contains U\+0007/),
    );
    assert.equal(fake.requests.length, 0);
  }));

test('a header name that is not a token (a whole "Name: value" line) is refused without showing it', () =>
  withFake(async (fake) => {
    await assert.rejects(
      listModels({ host: fake.url, headers: { [`Authorization: Bearer ${SECRET}`]: '' } }),
      refusedWithout(/options\.headers: header 1 has no valid name/),
    );
    await assert.rejects(
      listModels({
        host: fake.url,
        headers: [
          ['ok', 'fine'],
          ['bad name', SECRET],
        ],
      }),
      refusedWithout(/header 2/),
    );
    assert.equal(fake.requests.length, 0);
  }));

test('OLLAMA_API_KEY with a control character is refused by name before anything is sent', async () => {
  const saved = process.env.OLLAMA_API_KEY;
  let requested = 0;
  const fetch: FetchLike = async () => {
    requested++;
    return new Response('{"models":[]}');
  };
  try {
    process.env.OLLAMA_API_KEY = `${SECRET}\u0001tail`; // an environment cannot hold NUL
    await assert.rejects(
      listModels({ host: 'https://ollama.com', fetch }),
      refusedWithout(/^the OLLAMA_API_KEY environment variable contains U\+0001/),
    );
    assert.equal(requested, 0);
  } finally {
    if (saved === undefined) delete process.env.OLLAMA_API_KEY;
    else process.env.OLLAMA_API_KEY = saved;
  }
});

test('what fetch accepts still goes through: a key with its newline from a file, tabs, Latin-1, a number', () =>
  withFake(async (fake) => {
    await listModels({ host: fake.url, apiKey: `${SECRET}\n` });
    await listModels({
      host: fake.url,
      headers: { 'X-Note': ' caf\u00e9\tlatte ', 'X-Count': 3 as unknown as string },
    });
    assert.equal(fake.requests[0]?.headers.authorization, `Bearer ${SECRET}`);
    assert.equal(fake.requests[1]?.headers['x-note'], 'caf\u00e9\tlatte');
    assert.equal(fake.requests[1]?.headers['x-count'], '3');
  }));

test('createClient refuses bad default headers and a bad apiKey the same way, at creation', () => {
  assert.throws(
    () => createClient({ headers: { authorization: `Bearer ${SECRET}\n\n` + 'x' } }),
    refusedWithout(/options\.headers\["authorization"\] contains U\+000A/),
  );
  assert.throws(() => createClient({ apiKey: `${SECRET}\u0000` }), refusedWithout(/options\.apiKey/));
});

test('a server that echoes the key in its error (a proxy 401 page, an in-band error) never puts it in the message or error.body', () =>
  withFake(async (fake) => {
    const echo = (status: number, body: string) => ({
      'x-fake-behaviour': JSON.stringify({
        respond: { status, headers: { 'content-type': 'application/json' }, body },
      }),
    });
    await assert.rejects(
      listModels({
        host: fake.url,
        apiKey: SECRET,
        headers: echo(401, `{"error":"Invalid proxy token passed. Received API Key = ${SECRET}"}`),
      }),
      (error: unknown) => {
        assert.ok(error instanceof OllamaError);
        assert.match(error.message, /Received API Key = \[redacted\]/);
        for (const text of [error.message, error.body ?? '', error.stack ?? '']) assert.doesNotMatch(text, /sk-live/);
        return true;
      },
    );
    // Basic credentials from the host, as the header carried them.
    const host = fake.url.replace('http://', 'http://ada:hunter2-secret@');
    const token = Buffer.from('ada:hunter2-secret').toString('base64');
    await assert.rejects(
      listModels({ host, headers: echo(403, `<html><title>denied: Basic ${token}</title></html>`) }),
      (error: unknown) => {
        assert.ok(error instanceof OllamaError);
        for (const text of [error.message, error.body ?? '']) assert.doesNotMatch(text, new RegExp(token.slice(0, 12)));
        assert.match(error.message, /denied: Basic \[redacted\]/);
        return true;
      },
    );
    const stream = `{"model":"m","created_at":"t","message":{"role":"assistant","content":"a"},"done":false}\n{"error":"bad key ${SECRET}"}\n`;
    await assert.rejects(
      chat(hello, {
        host: fake.url,
        headers: {
          authorization: `Bearer ${SECRET}`,
          'x-fake-behaviour': JSON.stringify({
            respond: { status: 200, headers: { 'content-type': 'application/x-ndjson' }, body: stream },
          }),
        },
      }),
      (error: unknown) => {
        assert.ok(error instanceof OllamaError && error.kind === 'stream');
        assert.doesNotMatch(error.message, /sk-live/);
        assert.match(error.message, /bad key \[redacted\]/);
        return true;
      },
    );
  }));

test('a server that quotes the key in what is not an error (a line, a page, a JSON string) never puts it in a protocol error', () =>
  withFake(async (fake) => {
    const reply = (type: string, body: string) =>
      JSON.stringify({ respond: { status: 200, headers: { 'content-type': type }, body } });
    const clean = (error: unknown): boolean => {
      assert.ok(error instanceof OllamaError && error.kind === 'protocol', String(error));
      for (const text of [error.message, error.line ?? '', error.body ?? '', error.stack ?? ''])
        assert.doesNotMatch(text, /sk-live/);
      assert.match(`${error.message} ${error.line ?? ''}`, /\[redacted\]/);
      return true;
    };
    const ndjson = 'application/x-ndjson';
    for (const body of [`rejected Bearer ${SECRET}\n`, `"token ${SECRET} refused"\n`]) {
      const headers = { 'x-fake-behaviour': reply(ndjson, body) };
      await assert.rejects(chat(hello, { host: fake.url, apiKey: SECRET, headers }), clean, body);
    }
    const page = { 'x-fake-behaviour': reply('text/html', `<html>Token Bearer ${SECRET} is not allowed</html>`) };
    await assert.rejects(listModels({ host: fake.url, apiKey: SECRET, headers: page }), clean);
    const answer = { 'x-fake-behaviour': reply('application/json', `{"note":"key ${SECRET} seen"}`) };
    await assert.rejects(listModels({ host: fake.url, apiKey: SECRET, headers: answer }), clean);
  }));

// Where the library quotes only the start of what the server sent (a message's preview, a line
// kept to 200 characters, an error body kept to 64 KiB, JSON.parse's own message in `cause`), a key
// the cut fell inside was shown up to the cut: `sk-live-0123456789abc…`, and in full as `cause`
// printed it. Redaction now comes before the cut, and a first part of a key at a cut goes too.
test('a key that a cut falls inside (a preview, a 200-character line, a 64 KiB body, a cause) is never shown in part', () =>
  withFake(async (fake) => {
    const key = 'sk-live-0123456789abcdefghijklmnopqrstuv';
    const reply = (status: number, type: string, body: string) => ({
      'x-fake-behaviour': JSON.stringify({ respond: { status, headers: { 'content-type': type }, body } }),
    });
    const shows = (error: OllamaError): string =>
      [error.message, error.line ?? '', error.body ?? '', error.stack ?? '', inspect(error, { depth: 5 })].join('\n');
    const leaked = (text: string): string | undefined => {
      for (let length = key.length; length >= 8; length--)
        if (text.includes(key.slice(0, length))) return key.slice(0, length);
      return undefined;
    };
    const check = (what: string) => (error: unknown) => {
      assert.ok(error instanceof OllamaError, `${what}: ${String(error)}`);
      assert.equal(leaked(shows(error)), undefined, what);
      return true;
    };
    const ndjson = 'application/x-ndjson';
    for (const offset of [0, 5, 100, 110, 115, 190, 195]) {
      const line = `${'x'.repeat(offset)}${key} not json\n`;
      await assert.rejects(
        chat(hello, { host: fake.url, apiKey: key, retry: false, headers: reply(200, ndjson, line) }),
        check(`stream line, key at ${offset}`),
      );
      await assert.rejects(
        listModels({ host: fake.url, apiKey: key, retry: false, headers: reply(200, 'application/json', line) }),
        check(`JSON body, key at ${offset}`),
      );
      const object = `{"message":{"role":"assistant","content":"${'y'.repeat(offset)}${key}"},"done":false,}\n`;
      await assert.rejects(
        chat(hello, { host: fake.url, apiKey: key, retry: false, headers: reply(200, ndjson, object) }),
        check(`object line, key at ${offset}`),
      );
    }
    // The /v1 reader's event that is not JSON, and its listing that is not JSON.
    for (const offset of [0, 110, 190]) {
      const events = `data: ${'x'.repeat(offset)}${key} not json\n\n`;
      const v1 = { baseURL: `${fake.url}/v1`, apiKey: key, retry: false as const };
      await assert.rejects(
        (async () => {
          for await (const _ of chatCompletionsStream(hello, {
            ...v1,
            headers: reply(200, 'text/event-stream', events),
          }));
        })(),
        check(`/v1 event, key at ${offset}`),
      );
      const body = `${'x'.repeat(offset)}${key} not json`;
      await assert.rejects(
        listV1Models({ ...v1, headers: reply(200, 'application/json', body) }),
        check(`/v1 listing, key at ${offset}`),
      );
    }
    // JSON.parse quotes the end of a long line after `..."`: the key's last part must not be there.
    const tail = `{"keys":["${key}",NaN]}\n`;
    await assert.rejects(
      chat(hello, { host: fake.url, apiKey: key, retry: false, headers: reply(200, ndjson, tail) }),
      check('the end of a key, quoted by JSON.parse'),
    );
    // A body that breaks its own chunked framing: undici's parser error keeps the bytes (the key) in
    // its `data`, a cause of a cause.
    const framing = {
      'x-fake-behaviour': JSON.stringify({
        raw: [
          { write: 'HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n' },
          { write: `zz${key}\r\n` },
        ],
      }),
    };
    await assert.rejects(
      chat(hello, { host: fake.url, apiKey: key, retry: false, headers: framing }),
      check('the bytes of a broken chunked framing'),
    );
    // An error body longer than the 64 KiB kept of it, the key across the cut.
    const long = `${'z'.repeat(65_536 - 10)}${key}${'z'.repeat(100)}`;
    await assert.rejects(
      listModels({ host: fake.url, apiKey: key, retry: false, headers: reply(500, 'text/plain', long) }),
      check('64 KiB error body'),
    );
  }));

test('a password from the host, quoted back decoded by the server, is redacted like its base64', () =>
  withFake(async (fake) => {
    const host = fake.url.replace('http://', 'http://ada:hunter2-secret@');
    const body = '{"error":"user ada: password \\"hunter2-secret\\" is wrong (ada:hunter2-secret)"}';
    const headers = {
      'x-fake-behaviour': JSON.stringify({
        respond: { status: 401, headers: { 'content-type': 'application/json' }, body },
      }),
    };
    await assert.rejects(chat(hello, { host, retry: false, headers }), (error: unknown) => {
      assert.ok(error instanceof OllamaError && error.kind === 'http');
      for (const text of [error.message, error.body ?? '']) assert.doesNotMatch(text, /hunter2/);
      assert.match(error.message, /password \\?"\[redacted\]\\?" is wrong \(\[redacted\]\)/);
      return true;
    });
  }));

test('a key with & < > quoted back as Go writes JSON (\\u0026…), as an HTML page or a URL writes it, or in any \\u escape, is redacted', () =>
  withFake(async (fake) => {
    const key = 'sk-live&abc<def>123';
    const reply = (status: number, type: string, body: string) => ({
      'x-fake-behaviour': JSON.stringify({ respond: { status, headers: { 'content-type': type }, body } }),
    });
    const go = key.replace(/[&<>]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    const everyEscaped = [...key].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
    const cases: [string, Record<string, string>][] = [
      ['Go JSON', reply(401, 'application/json; charset=utf-8', `{"error":"invalid credentials: ${go}"}`)],
      ['every character escaped', reply(401, 'application/json', `{"error":"invalid credentials: ${everyEscaped}"}`)],
      ['HTML', reply(403, 'text/html', '<html><title>no: sk-live&amp;abc&lt;def&gt;123</title></html>')],
      ['URL', reply(403, 'text/plain', `denied ${encodeURIComponent(key)}`)],
      // Numeric entities (Go's html package, Jinja), lower-case escapes, form encoding.
      ['numeric HTML', reply(403, 'text/html', '<html><title>no: sk-live&#38;abc&#60;def&#62;123</title></html>')],
      [
        'lower-case URL',
        reply(403, 'text/plain', `denied ${encodeURIComponent(key).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase())}`),
      ],
    ];
    for (const [what, headers] of cases) {
      await assert.rejects(listModels({ host: fake.url, apiKey: key, retry: false, headers }), (error: unknown) => {
        assert.ok(error instanceof OllamaError && error.kind === 'http', what);
        for (const text of [error.message, error.body ?? '']) {
          assert.doesNotMatch(text, /abc|u0061/, `${what}: ${text}`);
        }
        assert.match(error.message, /\[redacted\]/, what);
        return true;
      });
    }
    // A stream's in-band error, written by Go.
    const stream = `{"model":"m","created_at":"t","message":{"role":"assistant","content":"a"},"done":false}\n{"error":"bad key ${go}"}\n`;
    await assert.rejects(
      chat(hello, { host: fake.url, apiKey: key, headers: reply(200, 'application/x-ndjson', stream) }),
      (error: unknown) => {
        assert.ok(error instanceof OllamaError && error.kind === 'stream');
        assert.doesNotMatch(`${error.message} ${error.body ?? ''}`, /abc/);
        return true;
      },
    );
  }));

test('a key passed where the options go is not echoed back', async () => {
  await assert.rejects(
    chat(hello, SECRET as never),
    refusedWithout(/options must be an object .*got a string \(not shown\)/),
  );
});

test('headers that are not [name, value] pairs or not text are refused by name, and an undefined one in an object is left out', () =>
  withFake(async (fake) => {
    const sent = fake.requests.length;
    for (const [headers, why] of [
      [['ab'], /entry 1 is not a \[name, value\] pair/],
      [[1, 2], /entry 1 is not a \[name, value\] pair/],
      [[['a', 'b', 'c']], /entry 1 is not a \[name, value\] pair/],
      [{ 'x-a': {} }, /options\.headers\["x-a"\] must be a string, got object/],
      [{ 'x-a': null }, /options\.headers\["x-a"\] must be a string, got null/],
      [[['x-a', undefined]], /options\.headers\["x-a"\] must be a string, got undefined/],
    ] as const) {
      await assert.rejects(chat(hello, { host: fake.url, headers: headers as never }), refusedWithout(why));
    }
    assert.equal(fake.requests.length, sent, 'nothing was sent');
    await chat(hello, { host: fake.url, apiKey: SECRET, headers: { authorization: undefined, 'x-b': 7 as never } });
    const last = fake.requests.at(-1)!;
    assert.equal(last.headers.authorization, `Bearer ${SECRET}`, 'the key was not replaced by "undefined"');
    assert.equal(last.headers['x-b'], '7');
    const client = createClient({ host: fake.url, headers: { 'x-c': undefined, 'x-d': 'd' } });
    await client.chat(hello);
    assert.equal(fake.requests.at(-1)!.headers['x-c'], undefined);
    assert.equal(fake.requests.at(-1)!.headers['x-d'], 'd');
  }));

test('a message that is not an object, and a host that is not a string, are refused in plain words', async () => {
  for (const message of [null, 5, 'hi', ['user', 'hi']]) {
    await assert.rejects(
      chat({ model: 'llama3.2', messages: [message as never] }),
      /chat: request\.messages\[0\] must be a message such as \{ role: 'user', content: 'Hi' \}.*Nothing was sent/,
    );
  }
  assert.throws(() => resolveHost(5 as never), /resolveHost: the host must be a string .*got number/);
});
