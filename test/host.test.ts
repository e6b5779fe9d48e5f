import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toBase64 } from '../lib/internal/base64.ts';
import { parseHost } from '../lib/host.ts';
import { resolveHost } from '../lib/index.ts';

// Every row of ollama-protocol.md §10's table, by the official clients' column (JS and Python
// agree on each row), then the server's own rules from the same section: quotes and spaces
// trimmed, a bare IPv6 literal, an invalid port, and the bare name `ollama.com`.
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
  ["'127.0.0.1:99999'", 'http://127.0.0.1:11434'],
  ['HTTP://Example.com:8000', 'http://Example.com:8000'],
  ['ollama.com', 'https://ollama.com:443'],
  ['http://ollama.com', 'http://ollama.com:80'],
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
