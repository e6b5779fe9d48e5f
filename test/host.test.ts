import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toBase64 } from '../lib/base64.ts';
import { parseHost } from '../lib/host.ts';

// The official clients' column of ollama-protocol.md §10 (JS and Python agree on each row),
// plus the server's own trimming of quotes and spaces and its bare IPv6 rule.
const rows: Array<[string | undefined, string]> = [
  [undefined, 'http://127.0.0.1:11434'],
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
];

for (const [input, expected] of rows) {
  test(`host ${JSON.stringify(input)} → ${expected}`, () => {
    assert.equal(parseHost(input).base, expected);
  });
}

test('credentials leave the URL and become a Basic authorization', () => {
  const parsed = parseHost('http://ada:s%C3%A9cret@127.0.0.1:9000/prefix');
  assert.equal(parsed.base, 'http://127.0.0.1:9000/prefix');
  assert.equal(parsed.authorization, `Basic ${Buffer.from('ada:sécret').toString('base64')}`);
});

test('loopback and unspecified hosts count as local', () => {
  for (const host of ['localhost', '127.0.0.2', '[::1]', '0.0.0.0', 'app.localhost']) assert.equal(parseHost(host).local, true, host);
  for (const host of ['example.com', '10.0.0.1', '[2001:db8::1]']) assert.equal(parseHost(host).local, false, host);
});

test('a scheme other than http or https is refused with a TypeError', () => {
  assert.throws(() => parseHost('ftp://example.com'), TypeError);
});

test('toBase64 matches Buffer for every length around the padding cases and for a large input', () => {
  const data = new Uint8Array(100_003).map((_, i) => (i * 7919) & 255);
  for (let length = 0; length < 70; length++) {
    assert.equal(toBase64(data.subarray(0, length)), Buffer.from(data.subarray(0, length)).toString('base64'), `length ${length}`);
  }
  assert.equal(toBase64(data), Buffer.from(data).toString('base64'));
});
