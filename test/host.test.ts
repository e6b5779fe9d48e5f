import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toBase64 } from '../lib/internal/base64.ts';
import { parseHost } from '../lib/host.ts';
import { chat, chatStream, type FetchLike, listModels, resolveHost } from '../lib/index.ts';
import { withFake } from './support/with-fake.ts';

// Every row of ollama-protocol.md §10's table, by the official clients' column (JS and Python
// agree on each row), then the server's own rules from the same section: quotes and spaces
// trimmed, a bare IPv6 literal, and the bare name `ollama.com`. (The server reads an invalid port
// such as 99999 as 11434; the library refuses it instead, issue 12 item 11: see below.)
const rows: Array<[string, string]> = [
  ['', 'http://127.0.0.1:11434'],
  ['1.2.3.4', 'http://1.2.3.4:11434'],
  [':56789', 'http://127.0.0.1:56789'],
  ['example.com:56789', 'http://example.com:56789'],
  ['http://example.com', 'http://example.com:80'],
  ['https://example.com', 'https://example.com:443'],
  ['example.com/path/', 'http://example.com:11434/path'],
  ['https://example.com/ollama', 'https://example.com:443/ollama'],
  ['[::1]', 'http://[::1]:11434'],
  ['[::1]:8080', 'http://[::1]:8080'],
  ['::1', 'http://[::1]:11434'],
  ['0.0.0.0', 'http://0.0.0.0:11434'],
  ['  "http://localhost:11434/"  ', 'http://localhost:11434'],
  ['HTTP://Example.com:8000', 'http://Example.com:8000'],
  ['ollama.com', 'https://ollama.com:443'],
  ['http://ollama.com', 'http://ollama.com:80'],
  // An "@" in a path after a host is part of the path, as URL reads it (it was refused as a
  // password with an unescaped "/").
  ['https://gw.example/@team/ollama', 'https://gw.example:443/@team/ollama'],
  ['http://127.0.0.1:9/proxy/@scope', 'http://127.0.0.1:9/proxy/@scope'],
  ['http://[::1]:9/@x', 'http://[::1]:9/@x'],
];

for (const [input, expected] of rows) {
  test(`resolveHost(${JSON.stringify(input)}) → ${expected}`, () => {
    assert.equal(resolveHost(input), expected);
  });
}

test('resolveHost() reads OLLAMA_HOST when called, trimmed, and falls back to the default', () => {
  const saved = process.env.OLLAMA_HOST;
  try {
    delete process.env.OLLAMA_HOST;
    assert.equal(resolveHost(), 'http://127.0.0.1:11434');
    process.env.OLLAMA_HOST = ' "example.com:56789" ';
    assert.equal(resolveHost(), 'http://example.com:56789');
    assert.equal(resolveHost(':1234'), 'http://127.0.0.1:1234', 'an explicit value wins over the environment');
  } finally {
    if (saved === undefined) delete process.env.OLLAMA_HOST;
    else process.env.OLLAMA_HOST = saved;
  }
});

test('resolveHost leaves credentials out of the URL it returns', () => {
  assert.equal(resolveHost('https://ada:secret@proxy.example/ollama/'), 'https://proxy.example:443/ollama');
});

test('only https://ollama.com itself counts as the cloud', () => {
  for (const host of ['ollama.com', 'https://ollama.com', 'https://OLLAMA.com:443/'])
    assert.equal(parseHost(host).cloud, true, host);
  for (const host of [
    'http://ollama.com',
    'https://ollama.com:8443',
    'https://ollama.com.evil.example',
    'evil-ollama.com',
    '127.0.0.1',
  ]) {
    assert.equal(parseHost(host).cloud, false, host);
  }
});

test('credentials leave the URL and become a Basic authorization', () => {
  const parsed = parseHost('http://ada:s%C3%A9cret@127.0.0.1:9000/prefix');
  assert.equal(parsed.base, 'http://127.0.0.1:9000/prefix');
  assert.equal(parsed.authorization, `Basic ${Buffer.from('ada:sécret').toString('base64')}`);
});

test('loopback and unspecified hosts count as local', () => {
  for (const host of ['localhost', '127.0.0.2', '[::1]', '0.0.0.0', 'app.localhost'])
    assert.equal(parseHost(host).local, true, host);
  for (const host of ['example.com', '10.0.0.1', '[2001:db8::1]']) assert.equal(parseHost(host).local, false, host);
});

test('a scheme other than http or https is refused with a TypeError', () => {
  assert.throws(() => parseHost('ftp://example.com'), TypeError);
});

test('toBase64 matches Buffer for every length around the padding cases and for a large input', () => {
  const data = new Uint8Array(100_003).map((_, i) => (i * 7919) & 255);
  for (let length = 0; length < 70; length++) {
    assert.equal(
      toBase64(data.subarray(0, length)),
      Buffer.from(data.subarray(0, length)).toString('base64'),
      `length ${length}`,
    );
  }
  assert.equal(toBase64(data), Buffer.from(data).toString('base64'));
});

// Issue 12 item 11: a host that cannot be read as written is a TypeError naming its source, made
// before any request; what is omitted keeps its default (the rows above). On the old parser
// the first three failed as `connection` errors after three attempts, the next four quietly
// became 127.0.0.1:80 or :11434, `?x=1` landed before /api/chat, and the bad escape threw a
// bare URIError.
const unreadable: Array<[string, RegExp]> = [
  ['not a url at all', /is not of the form/],
  ['http://exa mple.com', /is not of the form/],
  ['http://127.0.0.1:99999', /port that is not a number from 1 to 65535/],
  ['127.0.0.1:99999', /port/],
  [':abc', /port/],
  ['http://127.0.0.1:0', /port/],
  ['localhost:', /port/],
  ['http://[::1', /is not of the form/],
  ['http://[::1]x', /is not of the form/],
  ['http://', /no host name/],
  ['https:///ollama', /no host name/],
  ['http://127.0.0.1:11434?x=1', /is not of the form/],
  ['http://127.0.0.1:11434/#top', /is not of the form/],
  ['http://ada:100%@127.0.0.1:11434', /malformed user name or password.*%25/],
  ['http://ada:pa/ss@127.0.0.1:11434', /malformed user name or password.*%2F/],
  ['http://exa\tmple.com', /is not of the form/],
  ['http://example.com/a b', /is not of the form/],
  ['http://exam<ple>.com', /is not of the form/],
  ['http://[zz::1]', /is not of the form/],
  ['http://a:b:c', /is not of the form|port/],
  // A scheme with a character dropped once read as a host named "http" (or, for "http:/", as a
  // port), and a value that opens with a slash as a path under 127.0.0.1:11434: now refused,
  // saying what to write.
  ['http//example.com:8080', /"http:\/\/" is missing its colon or a slash.*http:\/\/example\.com:8080/],
  ['https//example.com', /"https:\/\/" is missing its colon or a slash.*https:\/\/example\.com/],
  ['http:/example.com', /"http:\/\/" is missing its colon or a slash.*http:\/\/example\.com/],
  ['HTTP:example.com:1', /"http:\/\/" is missing its colon or a slash.*http:\/\/example\.com:1/],
  ['//example.com:8080', /has no host name before its path.*example\.com:8080/],
  ['/ollama', /has no host name before its path/],
  ['http//ada:secret@example.com', /missing its colon or a slash; write "…@example\.com"/],
];

for (const [value, problem] of unreadable) {
  test(`host ${JSON.stringify(value)} is a TypeError naming options.host, and never echoes a password`, () => {
    assert.throws(
      () => resolveHost(value),
      (error: unknown) => {
        assert.ok(error instanceof TypeError, String(error));
        assert.match(error.message, /^options\.host /);
        assert.match(error.message, problem);
        assert.doesNotMatch(error.message, /100%|pa\/ss|ada|secret/);
        return true;
      },
    );
  });
}

test('OLLAMA_HOST that cannot be read is a TypeError naming the variable, before any request', async () => {
  const saved = process.env.OLLAMA_HOST;
  let requested = 0;
  const fetch: FetchLike = async () => {
    requested++;
    return new Response('{}');
  };
  try {
    for (const value of ['http://127.0.0.1:99999', 'not a url at all', 'http://ada:s%ZZecret@127.0.0.1']) {
      process.env.OLLAMA_HOST = value;
      await assert.rejects(listModels({ fetch }), (error: unknown) => {
        assert.ok(error instanceof TypeError);
        assert.match(error.message, /^OLLAMA_HOST /);
        assert.doesNotMatch(error.message, /s%ZZecret|ada/);
        return true;
      });
      assert.throws(() => resolveHost(), /OLLAMA_HOST/);
    }
    assert.equal(requested, 0);
  } finally {
    if (saved === undefined) delete process.env.OLLAMA_HOST;
    else process.env.OLLAMA_HOST = saved;
  }
});

test('a query in the host never reaches the stand-in: the call rejects before sending', () =>
  withFake(async (fake) => {
    await assert.rejects(
      chat({ model: 'llama3.2', messages: [] }, { host: `${fake.url}?x=1` }),
      (error: unknown) => error instanceof TypeError && /options\.host .*is not of the form/.test(error.message),
    );
    assert.throws(() => chatStream({ model: 'llama3.2', messages: [] }, { host: `${fake.url}:1` }), TypeError);
    assert.equal(fake.requests.length, 0);
  }));

test('what is omitted keeps its default; empty and :port-only values still read as before', () => {
  assert.equal(resolveHost('http://:8080'), 'http://127.0.0.1:8080');
  assert.equal(resolveHost('localhost'), 'http://localhost:11434');
  assert.equal(resolveHost('https://user:p%40ss@example.com/'), 'https://example.com:443');
  assert.equal(resolveHost('http://[fe80::1]:8080'), 'http://[fe80::1]:8080');
  assert.equal(resolveHost('http://bücher.example'), 'http://bücher.example:80');
});
