// Requirement 1 of the /v1 client: the event stream parsed by the WHATWG rules, whatever the
// chunking, with UTF-8 kept whole across reads and a size limit with a typed error.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type SseEvent, SseParser } from '../lib/openai/index.ts';
import { failsWith } from './support/assertions.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

function all(parser: SseParser, chunks: (Uint8Array | string)[]): SseEvent[] {
  const out: SseEvent[] = [];
  for (const chunk of chunks) out.push(...parser.feed(chunk));
  out.push(...parser.end());
  return out;
}

const SAMPLE =
  '\uFEFF: a comment\n' +
  'data: {"a":1}\n\n' +
  'event: update\r\nid: 7\r\ndata: first\r\ndata: second\r\n\r\n' +
  'data:no space\rretry: 3000\r\r' +
  'data\n\n' +
  'id: 8\ndata:  two spaces keep one\n\n' +
  ': OPENROUTER PROCESSING\n\n' +
  'unknown: ignored\ndata: 日本語 🦙 Grüße\n\n' +
  'error: {"code":500,"message":"boom"}\n\n' +
  'data: [DONE]\n\n';

const EXPECTED: SseEvent[] = [
  { data: '{"a":1}' },
  { event: 'update', id: '7', data: 'first\nsecond' },
  { id: '7', data: 'no space', retry: 3000 },
  { id: '7', data: '' },
  { id: '8', data: ' two spaces keep one' },
  { id: '8', data: '日本語 🦙 Grüße' },
  { id: '8', data: '', error: '{"code":500,"message":"boom"}' },
  { id: '8', data: '[DONE]' },
];

test('sse: fields, comments, LF/CR/CRLF, a BOM, multi-line data, blank-line ends, the id carries over', () => {
  assert.deepEqual(all(new SseParser(), [SAMPLE]), EXPECTED);
  assert.deepEqual(all(new SseParser(), [bytes(SAMPLE)]), EXPECTED);
});

test('sse: the same events whatever the chunking, bytes cut anywhere (inside characters and CRLF too)', () => {
  const encoded = bytes(SAMPLE);
  for (let cut = 1; cut < encoded.length; cut++) {
    const got = all(new SseParser(), [encoded.subarray(0, cut), encoded.subarray(cut)]);
    assert.deepEqual(got, EXPECTED, `cut at byte ${cut}`);
  }
  const single = Array.from(encoded, (b) => Uint8Array.of(b));
  assert.deepEqual(all(new SseParser(), single), EXPECTED, 'one byte per read');
  const chars = [...SAMPLE];
  assert.deepEqual(all(new SseParser(), chars), EXPECTED, 'one character per feed');
});

test('sse: an event the end of the stream cuts off is not dispatched, and is left in unfinished', () => {
  const parser = new SseParser();
  assert.deepEqual(all(parser, ['data: {"a":1}\n\ndata: [DONE]']), [{ data: '{"a":1}' }]);
  assert.deepEqual(parser.unfinished, { data: '[DONE]' });
  const clean = new SseParser();
  all(clean, ['data: x\n\n']);
  assert.equal(clean.unfinished, undefined);
});

test('sse: `data: a` | `\\ndata: [DO` | `NE]`: peekData() shows the data so far and changes nothing', () => {
  const parser = new SseParser();
  assert.equal(parser.peekData(), '');
  assert.deepEqual(parser.feed('data: a'), []);
  assert.equal(parser.peekData(), 'a');
  parser.feed('\ndata: [DO');
  assert.equal(parser.peekData(), 'a\n[DO');
  parser.feed('NE]');
  assert.equal(parser.peekData(), 'a\n[DONE]');
  assert.equal(parser.peekData(), 'a\n[DONE]', 'peeking twice is the same');
  assert.deepEqual(
    parser.feed('\n\n').map((e) => e.data),
    ['a\n[DONE]'],
  );
  assert.equal(parser.peekData(), '');
});

test('sse: invalid UTF-8, and a character cut off by the end, are protocol errors', () => {
  assert.throws(() => new SseParser().feed(Uint8Array.of(0x64, 0x61, 0xff, 0x0a)), failsWith('protocol'));
  const parser = new SseParser();
  parser.feed(bytes('data: caf'));
  parser.feed(Uint8Array.of(0xc3));
  assert.throws(
    () => parser.end(),
    failsWith('protocol', (e) => assert.match(e.message, /cut off/)),
  );
});

test('sse: an event over maxEventSize is a protocol error, whether it grows by lines or inside one', () => {
  const byLines = new SseParser({ maxEventSize: 100 });
  assert.throws(
    () => {
      for (let i = 0; i < 20; i++) byLines.feed('data: 0123456789\n');
    },
    failsWith('protocol', (e) => assert.match(e.message, /limit of 100 characters/)),
  );
  const oneLine = new SseParser({ maxEventSize: 100 });
  assert.throws(() => {
    for (let i = 0; i < 20; i++) oneLine.feed('0123456789');
  }, failsWith('protocol'));
  // Events under the limit, one after another, never add up.
  const many = new SseParser({ maxEventSize: 100 });
  for (let i = 0; i < 100; i++) assert.equal(many.feed('data: 0123456789012345678901234567890123456789\n\n').length, 1);
  assert.throws(() => new SseParser({ maxEventSize: 0 }), RangeError);
});

test('sse: linear in the input whatever the chunking: 4× the bytes in tiny reads costs about 4× the time', () => {
  const time = (size: number): number => {
    const line = `data: ${'x'.repeat(size)}\n\n`;
    const encoded = bytes(line);
    const parser = new SseParser();
    const started = performance.now();
    for (let i = 0; i < encoded.length; i += 64) parser.feed(encoded.subarray(i, i + 64));
    assert.equal(parser.end().length, 0);
    return performance.now() - started;
  };
  time(200_000); // warm-up
  const small = Math.max(time(500_000), 1);
  const large = time(2_000_000);
  // Quadratic work would make this about 16; the slack covers a loaded machine.
  assert.ok(large / small < 10, `500 kB took ${small.toFixed(1)} ms, 2 MB ${large.toFixed(1)} ms`);
});

test('sse: many LFs after one CR are each found once (no rescan for the CR)', () => {
  const text = `data: a\r\n\r\n${'data: b\n\n'.repeat(20_000)}`;
  const events = new SseParser().feed(text);
  assert.equal(events.length, 20_001);
  assert.deepEqual(events[0], { data: 'a' });
});

// One bad byte after whole events in a read lost every one of them, `[DONE]` too, where the same
// bytes read one event at a time gave the answer: what came out depended on the chunking.
test('sse: bytes that are not UTF-8 after whole events of the same read: those events, then the error from the next call', () => {
  const good = 'data: a\n\ndata: b\n\n';
  const input = Uint8Array.of(...bytes(good), 0x64, 0xff, 0x0a);
  for (const pieces of [[input], [input.subarray(0, 9), input.subarray(9)]]) {
    const parser = new SseParser();
    const seen: SseEvent[] = [];
    let error: unknown;
    try {
      for (const piece of pieces) seen.push(...parser.feed(piece));
      seen.push(...parser.end());
    } catch (caught) {
      error = caught;
    }
    assert.deepEqual(seen, [{ data: 'a' }, { data: 'b' }]);
    assert.throws(() => {
      throw error;
    }, failsWith('protocol'));
  }
  // Before any event, it is thrown at once, as before.
  assert.throws(() => new SseParser().feed(Uint8Array.of(0x64, 0xff, 0x0a)), failsWith('protocol'));
});

test('sse: bytes that are not UTF-8 in a comment are no error, in one read or byte by byte, after LF or CRLF', () => {
  for (const eol of ['\n', '\r\n']) {
    const input = Uint8Array.of(
      ...bytes(`data: 🦙 a${eol}${eol}: ping `),
      0xff,
      ...bytes(`${eol}${eol}data: b${eol}${eol}`),
    );
    const whole = new SseParser();
    assert.deepEqual(all(whole, [input]), [{ data: '🦙 a' }, { data: 'b' }], JSON.stringify(eol));
    // A character cut between reads before the bad comment stays whole.
    const cut = new SseParser();
    assert.deepEqual(all(cut, [input.subarray(0, 8), input.subarray(8)]), [{ data: '🦙 a' }, { data: 'b' }]);
    const tiny = new SseParser();
    assert.deepEqual(
      all(
        tiny,
        Array.from(input, (byte) => Uint8Array.of(byte)),
      ),
      [{ data: '🦙 a' }, { data: 'b' }],
    );
  }
});
