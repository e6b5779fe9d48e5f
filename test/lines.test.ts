import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LineSplitter, OllamaError, readNdjson } from '../lib/index.ts';
import { bytes, chatFixture, collect, cut, encoder, seeded, streamOf } from './support/chunks.ts';

/** Feeds every piece and the end, returning all lines in order. */
function lines(pieces: Array<Uint8Array | string>, options?: { maxLineLength?: number }): string[] {
  const splitter = new LineSplitter(options);
  const out: string[] = [];
  for (const piece of pieces) out.push(...splitter.feed(piece));
  out.push(...splitter.end());
  return out;
}

function isProtocol(error: unknown): boolean {
  return error instanceof OllamaError && error.kind === 'protocol';
}

describe('LineSplitter: the bytes it pins down', () => {
  test('`{"a":1}\\r\\n{"a":2}\\r\\n`: CRLF ends a line and the CR is not part of it', () => {
    assert.deepEqual(lines([bytes('{"a":1}\r\n{"a":2}\r\n')]), ['{"a":1}', '{"a":2}']);
  });

  test('`…}\\r` | `\\n{…`: a CR ending one chunk and the LF opening the next make one line end', () => {
    // Two lines, not three: the split CRLF must not yield an empty or a "\r" line.
    assert.deepEqual(lines([bytes('{"a":1}\r'), bytes('\n{"a":2}\n')]), ['{"a":1}', '{"a":2}']);
    assert.deepEqual(lines(['{"a":1}\r', '\n', '{"a":2}\r', '\n']), ['{"a":1}', '{"a":2}']);
  });

  test('`\\n\\n{"a":1}\\n\\r\\n \\t\\n{"a":2}\\n`: blank and whitespace-only lines are skipped', () => {
    assert.deepEqual(lines([bytes('\n\n{"a":1}\n\r\n \t\n{"a":2}\n')]), ['{"a":1}', '{"a":2}']);
  });

  test('`{"a":1}\\n{"b":` | `2}` | `F0 9F`: peek() shows the line in progress and changes nothing', () => {
    const splitter = new LineSplitter();
    assert.equal(splitter.peek(), '');
    assert.deepEqual(splitter.feed(bytes('{"a":1}\n{"b":')), ['{"a":1}']);
    assert.equal(splitter.peek(), '{"b":');
    assert.deepEqual(splitter.feed(bytes('2}')), []);
    assert.equal(splitter.peek(), '{"b":2}');
    assert.equal(splitter.peek(), '{"b":2}', 'peeking twice is the same');
    // Half of 🦙 (F0 9F A6 99): not text yet.
    assert.deepEqual(splitter.feed(bytes([0xf0, 0x9f])), []);
    assert.equal(splitter.peek(), '');
    assert.deepEqual(splitter.feed(bytes([0xa6, 0x99], '\n')), ['{"b":2}\u{1f999}']);
    assert.equal(splitter.peek(), '');
    const text = new LineSplitter();
    text.feed('{"c":');
    assert.equal(text.peek(), '{"c":');
    assert.deepEqual(text.end(), ['{"c":']);
  });

  test('`EF BB BF {"a":1}\\n`: one byte-order mark at the start is dropped, also when cut inside it', () => {
    assert.deepEqual(lines([bytes([0xef, 0xbb, 0xbf], '{"a":1}\n')]), ['{"a":1}']);
    assert.deepEqual(lines([bytes([0xef]), bytes([0xbb]), bytes([0xbf], '{"a":1}\n')]), ['{"a":1}']);
    assert.deepEqual(lines(['\ufeff{"a":1}\n']), ['{"a":1}']);
  });

  test('a BOM that is not at the start of the stream is kept, so the line fails to parse', async () => {
    assert.deepEqual(lines([bytes('{"a":1}\n', [0xef, 0xbb, 0xbf], '{"a":2}\n')]), ['{"a":1}', '\ufeff{"a":2}']);
    await assert.rejects(
      collect(readNdjson(streamOf([bytes('{"a":1}\n', [0xef, 0xbb, 0xbf], '{"a":2}\n')]))),
      isProtocol,
    );
  });

  test('`{"a":1}\\n{"a":2}`: a final line without a line break is delivered by end()', () => {
    const splitter = new LineSplitter();
    assert.deepEqual(splitter.feed(bytes('{"a":1}\n{"a":2}')), ['{"a":1}']);
    assert.deepEqual(splitter.end(), ['{"a":2}']);
    assert.deepEqual(lines([bytes('{"a":1}\r')]), ['{"a":1}']);
  });

  test('`C3` | `A9`: a two-byte character cut between chunks arrives whole', () => {
    assert.deepEqual(lines([bytes('"', [0xc3]), bytes([0xa9], '"\n')]), ['"é"']);
  });

  test('`F0 9F` | `A6` | `99`: a four-byte emoji cut twice arrives whole', () => {
    const llama = encoder.encode('🦙');
    assert.deepEqual(lines([bytes('"', [llama[0]!, llama[1]!]), bytes([llama[2]!]), bytes([llama[3]!], '"\n')]), [
      '"🦙"',
    ]);
  });

  test('`FF`: invalid UTF-8 is a protocol error, never a silent U+FFFD', () => {
    assert.throws(() => lines([bytes('{"a":"', [0xff], '"}\n')]), isProtocol);
  });

  test('`"E6 BC`<end>: a stream cut inside a character is a protocol error', () => {
    assert.throws(
      () => lines([bytes('{"a":"', [0xe6, 0xbc])]),
      (error) => isProtocol(error) && /multi-byte/.test((error as Error).message),
    );
  });

  test('a 10 MB line in 64 KiB chunks comes out whole and parses', () => {
    const payload = 'é漢🦙x'.repeat(10_000_000 / 10);
    const data = encoder.encode(`${JSON.stringify({ response: payload })}\n`);
    assert.ok(data.length >= 10_000_000);
    const pieces = cut(
      data,
      Array.from({ length: Math.floor(data.length / 65536) }, (_, i) => (i + 1) * 65536),
    );
    const out = lines(pieces);
    assert.equal(out.length, 1);
    assert.equal((JSON.parse(out[0]!) as { response: string }).response, payload);
  });

  test('a line over maxLineLength is a protocol error as soon as it passes the limit', () => {
    const splitter = new LineSplitter({ maxLineLength: 1024 });
    let fed = 0;
    assert.throws(() => {
      // 1 MiB without a line break, 100 bytes at a time: it must stop near the limit, not at the end.
      for (let i = 0; i < 10_486; i++) {
        fed += 100;
        splitter.feed(bytes('x'.repeat(100)));
      }
    }, isProtocol);
    assert.ok(fed <= 1024 + 100, `fed ${fed} bytes before the error`);
    // A complete line that is too long fails too, whether it came as bytes or as text.
    assert.throws(() => lines([bytes(`"${'y'.repeat(2000)}"\n`)], { maxLineLength: 1024 }), isProtocol);
    assert.throws(() => lines([`"${'y'.repeat(2000)}"\n`], { maxLineLength: 1024 }), isProtocol);
  });

  test('a runaway line from a stream stops the read near the limit: memory stays bounded', async () => {
    const limit = 1024 * 1024;
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= 256 * limit) return controller.close(); // bound the loop all the same
        pulled += 16384;
        controller.enqueue(new Uint8Array(16384).fill(0x61));
      },
    });
    const before = process.memoryUsage().arrayBuffers;
    await assert.rejects(collect(readNdjson(endless, { maxLineLength: limit })), isProtocol);
    // It can only hold what it pulled, and it pulled one limit plus a little read-ahead.
    assert.ok(pulled <= limit + 4 * 16384, `pulled ${pulled} bytes`);
    assert.ok(process.memoryUsage().arrayBuffers - before < 16 * limit);
  });

  test('a line of exactly maxLineLength bytes passes however it is cut, its LF or CRLF not counted', () => {
    const line = `"${'x'.repeat(8)}"`; // 10 bytes
    const every = (text: string): Uint8Array[][] => {
      const encoded = bytes(text);
      const ways: Uint8Array[][] = [[encoded]];
      for (let at = 1; at < encoded.length; at++) ways.push([encoded.subarray(0, at), encoded.subarray(at)]);
      return ways;
    };
    for (const ending of ['\n', '\r\n']) {
      for (const pieces of every(`${line}${ending}{"a":1}\n`)) {
        assert.deepEqual(lines(pieces, { maxLineLength: 10 }), [line, '{"a":1}'], JSON.stringify(ending));
      }
      for (const pieces of every(`"${'x'.repeat(9)}"${ending}`)) {
        assert.throws(() => lines(pieces, { maxLineLength: 10 }), isProtocol, 'one byte over fails at every cut');
      }
    }
  });

  test('`"éééé"` (10 bytes, 6 UTF-16 units): measured in bytes, in one read or split inside a character', () => {
    const fits = bytes('"éééé"\n');
    const over = bytes('"ééééé"\n'); // 12 bytes
    for (let at = 1; at < fits.length; at++) {
      assert.deepEqual(lines([fits.subarray(0, at), fits.subarray(at)], { maxLineLength: 10 }), ['"éééé"']);
    }
    assert.deepEqual(lines([fits], { maxLineLength: 10 }), ['"éééé"']);
    for (let at = 0; at < over.length; at++) {
      const pieces = at === 0 ? [over] : [over.subarray(0, at), over.subarray(at)];
      assert.throws(() => lines(pieces, { maxLineLength: 10 }), isProtocol, `cut at ${at}`);
    }
  });

  test('`{"a":1}\n{"a":2}\nxxx…`: the complete lines before a line that runs past the limit are returned first', () => {
    const splitter = new LineSplitter({ maxLineLength: 100 });
    assert.deepEqual(splitter.feed(bytes(`{"a":1}\n{"a":2}\n${'x'.repeat(500)}`)), ['{"a":1}', '{"a":2}']);
    assert.throws(() => splitter.feed(bytes('x')), isProtocol);
  });

  test('maxLineLength must be a positive whole number', () => {
    assert.throws(() => new LineSplitter({ maxLineLength: 0 }), RangeError);
    assert.throws(() => new LineSplitter({ maxLineLength: Number.NaN }), RangeError);
  });
});

/** Every class of bytes that is not UTF-8, as it may arrive inside a line's JSON string. */
const BAD_BYTES: Array<[string, number[]]> = [
  ['a lone continuation byte 80', [0x80]],
  ['an overlong NUL C0 80', [0xc0, 0x80]],
  ['a UTF-16 surrogate ED A0 80', [0xed, 0xa0, 0x80]],
  ['the never-valid byte FF', [0xff]],
  ['a three-byte sequence cut short, E6 BC then a quote', [0xe6, 0xbc]],
  ['a four-byte sequence past U+10FFFF, F4 90 80 80', [0xf4, 0x90, 0x80, 0x80]],
];

describe('bad bytes after good lines in the same read (issue 12, item 2)', () => {
  for (const [name, bad] of BAD_BYTES) {
    test(`${name}: the complete lines before it are returned, in order, then the protocol error`, () => {
      const splitter = new LineSplitter();
      const read = bytes('{"a":1}\n{"a":2}\r\n{"a":"', bad, '"}\n{"a":4}\n');
      assert.deepEqual(splitter.feed(read), ['{"a":1}', '{"a":2}']);
      assert.throws(() => splitter.end(), isProtocol);
    });

    test(`${name}: readNdjson yields the values before it, then rejects with kind protocol, like a non-JSON line`, async () => {
      for (const line of [bytes('{"a":"', bad, '"}\n'), bytes('not json\n')]) {
        const seen: unknown[] = [];
        await assert.rejects(
          collect(readNdjson(streamOf([bytes('{"a":1}\n{"a":2}\n', [...line], '{"a":4}\n')])), seen),
          isProtocol,
        );
        assert.deepEqual(seen, [{ a: 1 }, { a: 2 }]);
      }
    });
  }

  test('bad bytes in a line still arriving: the lines completed before it come first, the error with the next read', () => {
    const splitter = new LineSplitter();
    assert.deepEqual(splitter.feed(bytes('{"a":1}\n{"a":"', [0xff])), ['{"a":1}']);
    assert.throws(() => splitter.feed(bytes('"}\n')), isProtocol);
  });

  test('a character cut between reads is still joined after a line was delivered in the first read', () => {
    const llama = encoder.encode('🦙');
    const splitter = new LineSplitter();
    assert.deepEqual(splitter.feed(bytes('{"a":1}\n"', [llama[0]!, llama[1]!])), ['{"a":1}']);
    assert.deepEqual(splitter.feed(bytes([llama[2]!, llama[3]!], '"\n')), ['"🦙"']);
  });
});

describe('readNdjson', () => {
  test('`{"a":1}\\nnot json\\n`: a garbage line is a protocol error carrying the line', async () => {
    const seen: unknown[] = [];
    await assert.rejects(
      (async () => {
        for await (const value of readNdjson(streamOf([bytes('{"a":1}\nnot json\n{"a":3}\n')]), {
          url: 'http://x/api/chat',
        })) {
          seen.push(value);
        }
      })(),
      (error) =>
        isProtocol(error) &&
        (error as OllamaError).line === 'not json' &&
        (error as OllamaError).url === 'http://x/api/chat' &&
        /not JSON/.test((error as Error).message),
    );
    assert.deepEqual(seen, [{ a: 1 }]);
  });

  test('a very long garbage line is cut to 200 characters on the error', async () => {
    const garbage = 'z'.repeat(5000);
    await assert.rejects(
      collect(readNdjson(streamOf([bytes(`${garbage}\n`)]))),
      (error) =>
        isProtocol(error) && (error as OllamaError).line?.length === 200 && (error as Error).message.length < 600,
    );
  });

  test('an oversized line names the URL it came from', async () => {
    await assert.rejects(
      collect(readNdjson(streamOf([bytes('x'.repeat(5000))]), { maxLineLength: 100, url: 'http://h/api/generate' })),
      (error) => isProtocol(error) && (error as OllamaError).url === 'http://h/api/generate',
    );
  });

  test('leaving the loop early cancels the source stream', async () => {
    let cancelled = false;
    let sent = 0;
    const source = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 1000) controller.enqueue(bytes('{"n":1}\n'));
        else controller.close();
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const value of readNdjson(source)) {
      assert.deepEqual(value, { n: 1 });
      break;
    }
    assert.equal(cancelled, true);
    assert.ok(sent < 1000);
  });
});

describe('chunking never changes what comes out', () => {
  const { objects, ndjson } = chatFixture(60);

  test('the fixture holds é, 漢字, 🦙 and \\n inside strings, in at least 50 chunks', () => {
    const text = new TextDecoder().decode(ndjson);
    for (const needle of ['é', '漢字', '🦙', '\\n']) assert.ok(text.includes(needle), needle);
    assert.ok(objects.length >= 50);
  });

  test('cut in two at every byte offset, the splitter and the reader yield the same objects', async () => {
    for (let offset = 0; offset <= ndjson.length; offset++) {
      const pieces = cut(ndjson, [offset]);
      assert.deepEqual(
        lines(pieces).map((line) => JSON.parse(line) as unknown),
        objects,
        `cut at ${offset}`,
      );
      assert.deepEqual(await collect(readNdjson(streamOf(pieces))), objects, `reader, cut at ${offset}`);
    }
  });

  test('2,000 seeded random chunkings (1 to 80 cuts each) yield the same objects', async () => {
    const random = seeded(0x11a3a);
    for (let run = 0; run < 2000; run++) {
      const count = 1 + Math.floor(random() * 80);
      const offsets = Array.from({ length: count }, () => Math.floor(random() * (ndjson.length + 1))).sort(
        (a, b) => a - b,
      );
      assert.deepEqual(
        await collect(readNdjson(streamOf(cut(ndjson, offsets)))),
        objects,
        `run ${run}: cuts ${offsets.join(',')}`,
      );
    }
  });

  test('with CRLF, blank lines, a BOM and no final line break, random chunkings still agree', async () => {
    const text = new TextDecoder().decode(ndjson).replace(/\n/g, '\r\n\r\n');
    const variant = bytes([0xef, 0xbb, 0xbf], text.slice(0, -4));
    const random = seeded(7);
    for (let run = 0; run < 300; run++) {
      const offsets = Array.from({ length: 1 + Math.floor(random() * 40) }, () =>
        Math.floor(random() * (variant.length + 1)),
      ).sort((a, b) => a - b);
      assert.deepEqual(await collect(readNdjson(streamOf(cut(variant, offsets)))), objects, `run ${run}`);
    }
  });

  test('one byte at a time yields the same objects', async () => {
    const offsets = Array.from({ length: ndjson.length - 1 }, (_, i) => i + 1);
    assert.deepEqual(await collect(readNdjson(streamOf(cut(ndjson, offsets)))), objects);
  });
});
