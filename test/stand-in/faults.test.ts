// The misbehaviour knobs on the model endpoints: delays, split writes, line shapes, garbage and
// errors, stalls, resets and FINs, scripted answers, and a client that leaves.

import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { performance } from 'node:perf_hooks';
import { type Behaviour, behaviourHeader, type FakeOllama } from '../support/fake-ollama.ts';
import {
  closedRecord,
  DEFAULT_ERROR,
  fake,
  type Json,
  JSON_UTF8,
  ndjson,
  post,
  reads,
  streamed,
  userSays,
} from './helpers.ts';

const CHAT = { model: 'llama3.2', messages: userSays('x') };

test('headersDelayMs: not a single byte reaches the socket before the delay', async (t) => {
  const f = await fake(t);
  const delay = 200;
  const body = JSON.stringify(CHAT);
  const header = behaviourHeader({ headersDelayMs: delay })['x-fake-behaviour'] ?? '';
  const started = performance.now();
  const firstData = await new Promise<number>((resolve, reject) => {
    const socket = connect(f.port, '127.0.0.1', () => {
      socket.write(
        `POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nx-fake-behaviour: ${header}\r\nConnection: close\r\n\r\n${body}`,
      );
    });
    socket.once('data', () => {
      resolve(performance.now());
      socket.destroy();
    });
    socket.on('error', reject);
  });
  assert.ok(firstData - started >= delay - 5, `first byte after ${firstData - started} ms`);
  const rec = await closedRecord(f);
  assert.ok((rec.firstByteAt ?? 0) - rec.receivedAt >= delay - 5);
});

test('headersDelayMs holds back the response fetch resolves with, streaming or not', async (t) => {
  const f = await fake(t);
  for (const stream of [true, false]) {
    const t0 = performance.now();
    const res = await post(f, '/api/chat', { ...CHAT, stream }, { headersDelayMs: 120 });
    assert.ok(performance.now() - t0 >= 115, `stream: ${stream}`);
    assert.equal(res.status, 200);
    await res.text();
  }
});

test('cuts split a stream into reads that end exactly at each cut, even inside a character', async (t) => {
  const f = await fake(t);
  const body = { model: 'llama3.2', messages: userSays('héllo') };
  const plain = Buffer.from(await (await post(f, '/api/chat', body)).arrayBuffer());
  const e = plain.indexOf(Buffer.from('é'));
  const llama = plain.indexOf(Buffer.from('🦙'));
  const lineEnd = plain.indexOf(0x0a) + 1;
  assert.ok(e > 0 && llama > 0);
  const cuts = [7, e + 1, lineEnd, llama + 2, plain.length + 50];
  const pieces = await reads(await post(f, '/api/chat', body, { cuts, pieceDelayMs: 20 }));
  assert.deepEqual(Buffer.concat(pieces), plain);
  const boundaries = new Set<number>();
  let at = 0;
  for (const p of pieces) {
    at += p.length;
    boundaries.add(at);
  }
  for (const cut of cuts.slice(0, -1))
    assert.ok(boundaries.has(cut), `a read ends at ${cut}: ${[...boundaries].join(',')}`);
});

test('cuts split a stream:false answer too, without changing its bytes', async (t) => {
  const f = await fake(t);
  const body = { model: 'llama3.2', messages: userSays('héllo'), stream: false };
  const single = Buffer.from(await (await post(f, '/api/chat', body)).arrayBuffer());
  const singlePieces = await reads(
    await post(f, '/api/chat', body, { cuts: [3, single.indexOf(Buffer.from('漢')) + 1] }),
  );
  assert.deepEqual(Buffer.concat(singlePieces), single);
  assert.ok(singlePieces.length >= 3);
});

test('splitCharacters: no multi-byte character arrives whole in one read', async (t) => {
  const f = await fake(t);
  const body = { model: 'llama3.2', messages: userSays('Grüße 🦙 日本') };
  const plain = Buffer.from(await (await post(f, '/api/chat', body)).arrayBuffer());
  const pieces = await reads(await post(f, '/api/chat', body, { splitCharacters: true, pieceDelayMs: 5 }));
  assert.deepEqual(Buffer.concat(pieces), plain);
  // Every piece but the first starts with a continuation byte (10xxxxxx) or right after a cut of ours.
  const leads = [...plain].filter((b) => b >= 0xc0).length;
  assert.ok(leads >= 6, `the reply holds ${leads} multi-byte characters`);
  assert.ok(pieces.length > leads, `${pieces.length} reads for ${leads} split characters`);
  for (const piece of pieces.slice(0, -1)) {
    const last = piece[piece.length - 1] ?? 0;
    assert.ok(
      last < 0x80 || last >= 0xc0 || piece.length === 0,
      'a read ended inside a character other than after its lead byte',
    );
  }
});

const GENERATE = { model: 'llama3.2', prompt: 'x' };
const TOKENS = ['a', 'b'];

/** The lines of a two-token generate with no line knob, without their ends: three of them. */
async function plainLines(f: FakeOllama): Promise<string[]> {
  const lines = (await (await post(f, '/api/generate', GENERATE, { tokens: TOKENS })).text()).split('\n');
  assert.equal(lines.pop(), '', 'the last line ends too');
  return lines;
}

const bytesOf = async (res: Response): Promise<Buffer> => Buffer.from(await res.arrayBuffer());

test('crlf ends every line with \\r\\n', async (t) => {
  const f = await fake(t);
  const lines = await plainLines(f);
  const text = await (await post(f, '/api/generate', GENERATE, { tokens: TOKENS, crlf: true })).text();
  assert.equal(text, lines.map((l) => `${l}\r\n`).join(''));
});

test('blankLines writes an empty line before every chunk', async (t) => {
  const f = await fake(t);
  const lines = await plainLines(f);
  const text = await (await post(f, '/api/generate', GENERATE, { tokens: TOKENS, blankLines: true })).text();
  assert.equal(text, lines.map((l) => `\n${l}\n`).join(''));
});

test('bom starts the body with the UTF-8 byte order mark', async (t) => {
  const f = await fake(t);
  const lines = await plainLines(f);
  const raw = await bytesOf(await post(f, '/api/generate', GENERATE, { tokens: TOKENS, bom: true }));
  assert.deepEqual(
    raw,
    Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(lines.map((l) => `${l}\n`).join(''))]),
  );
});

test('noFinalNewline leaves the last line without a line end', async (t) => {
  const f = await fake(t);
  const lines = await plainLines(f);
  const text = await (await post(f, '/api/generate', GENERATE, { tokens: TOKENS, noFinalNewline: true })).text();
  assert.equal(text, lines.join('\n'));
});

test('crlf, blankLines, bom and noFinalNewline combine', async (t) => {
  const f = await fake(t);
  const lines = await plainLines(f);
  assert.equal(lines.length, 3);
  const raw = await bytesOf(
    await post(f, '/api/generate', GENERATE, {
      tokens: TOKENS,
      crlf: true,
      blankLines: true,
      bom: true,
      noFinalNewline: true,
    }),
  );
  const expected = Buffer.concat([
    Buffer.from([0xef, 0xbb, 0xbf]),
    Buffer.from(lines.map((l) => `\r\n${l}`).join('\r\n')),
  ]);
  assert.deepEqual(raw, expected);
});

test('garbageAfter N writes a line that is not JSON after N chunks, and counts it as none', async (t) => {
  const f = await fake(t);
  const garbage = (await (await post(f, '/api/chat', CHAT, { tokens: ['a', 'b', 'c'], garbageAfter: 1 })).text()).split(
    '\n',
  );
  assert.equal(garbage[1], '<html>this is not json</html>');
  assert.equal(garbage.length, 6);
  assert.equal((await closedRecord(f, 0)).chunksWritten, 4);
});

test('errorAfter N streams N chunks, then the error line in-band under status 200', async (t) => {
  const f = await fake(t);
  const failing = await post(f, '/api/chat', CHAT, { tokens: ['a', 'b', 'c'], errorAfter: 2, errorText: 'boom <1>' });
  assert.equal(failing.status, 200);
  const failed = (await failing.text()).split('\n');
  assert.deepEqual(failed.slice(2), ['{"error":"boom \\u003c1\\u003e"}', '']);
  assert.ok(failed.slice(0, 2).every((l) => (JSON.parse(l) as Json)['done'] === false));
});

test('errorAfter N is where the script ends: N chunks written, none pending', async (t) => {
  const f = await fake(t);
  await (await post(f, '/api/chat', CHAT, { tokens: ['a', 'b', 'c'], errorAfter: 2 })).text();
  const failedRecord = await closedRecord(f, 0);
  assert.equal(failedRecord.chunksWritten, 2);
  assert.equal(failedRecord.pendingChunks, 0);
});

test('errorAfter 0 is a real error status, with a bare application/json', async (t) => {
  const f = await fake(t);
  const early = await post(f, '/api/chat', CHAT, { errorAfter: 0, errorStatus: 503 });
  assert.equal(early.status, 503);
  assert.equal(early.headers.get('content-type'), 'application/json');
  assert.equal(await early.text(), JSON.stringify({ error: DEFAULT_ERROR }));
});

test('errorAfter on a stream:false chat answers the error instead, status 500', async (t) => {
  const f = await fake(t);
  const notStreamed = await post(f, '/api/chat', { ...CHAT, stream: false }, { errorAfter: 2 });
  assert.equal(notStreamed.status, 500);
  assert.equal(notStreamed.headers.get('content-type'), JSON_UTF8);
  assert.deepEqual(await notStreamed.json(), { error: DEFAULT_ERROR });
});

test('omitDone ends the stream cleanly without the done chunk, and the script counts as finished', async (t) => {
  const f = await fake(t);
  const noDone = ndjson(await (await post(f, '/api/chat', CHAT, { tokens: ['a', 'b', 'c'], omitDone: true })).text());
  assert.equal(noDone.length, 3);
  assert.ok(noDone.every((c) => c['done'] === false));
  assert.equal((await closedRecord(f, 0)).pendingChunks, 0);
});

test('stallAfter with stallMs pauses the stream, which then goes on to its end', async (t) => {
  const f = await fake(t);
  const t0 = performance.now();
  const chunks = await streamed(f, '/api/chat', CHAT, { tokens: ['a', 'b'], stallAfter: 1, stallMs: 150 });
  assert.ok(performance.now() - t0 >= 145);
  assert.equal(chunks.length, 3);
  assert.equal(chunks.at(-1)?.['done'], true);
});

test('resetAfter 0 and closeAfter 0 break the connection before any byte', async (t) => {
  const f = await fake(t);
  const cases: Array<[string, Json, Behaviour]> = [
    ['/api/chat', CHAT, { resetAfter: 0 }],
    ['/api/chat', CHAT, { closeAfter: 0 }],
    ['/api/embed', { model: 'nomic-embed-text', input: 'x' }, { resetAfter: 0 }],
  ];
  for (const [path, body, behaviour] of cases) await assert.rejects(post(f, path, body, behaviour));
});

for (const knob of ['resetAfter', 'closeAfter'] as const) {
  test(`${knob} N breaks the connection after N chunks, which the record does not blame on the client`, async (t) => {
    const f = await fake(t);
    const behaviour: Behaviour = knob === 'resetAfter' ? { resetAfter: 2 } : { closeAfter: 2 };
    const res = await post(f, '/api/chat', CHAT, { ...behaviour, chunkDelayMs: 5 });
    assert.equal(res.status, 200);
    await assert.rejects(res.text());
    const r = await closedRecord(f, 0);
    assert.equal(r.chunksWritten, 2);
    assert.equal(r.pendingChunks, 0);
    assert.equal(r.clientDisconnected, false);
  });
}

test('respond answers exactly the status, headers and body it is given', async (t) => {
  const f = await fake(t);
  const res = await post(f, '/api/chat', CHAT, {
    respond: {
      status: 502,
      headers: { 'content-type': 'text/html', 'x-proxy': 'nginx' },
      body: '<h1>Bad Gateway</h1>',
    },
  });
  assert.equal(res.status, 502);
  assert.equal(res.headers.get('content-type'), 'text/html');
  assert.equal(res.headers.get('x-proxy'), 'nginx');
  assert.equal(await res.text(), '<h1>Bad Gateway</h1>');
});

/** A 21-chunk chat paced at 25 ms, abandoned by its client after two lines. */
async function abandoned(f: FakeOllama): Promise<number> {
  const ac = new AbortController();
  const tokens = Array.from({ length: 20 }, (_, k) => `t${k}`);
  const res = await post(f, '/api/chat', CHAT, { tokens, chunkDelayMs: 25 }, ac.signal);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  let newlines = 0;
  for (let k = 0; k < 100 && newlines < 2; k++) {
    const { value, done } = await reader.read();
    if (done) break;
    newlines += value.filter((c) => c === 0x0a).length;
  }
  ac.abort();
  await reader.read().catch(() => undefined);
  return tokens.length + 1;
}

test('a client that aborts mid-stream is recorded as gone, with the chunks still pending', async (t) => {
  const f = await fake(t);
  const scripted = await abandoned(f);
  const rec = await closedRecord(f);
  assert.equal(rec.clientDisconnected, true);
  assert.ok(rec.pendingChunks > 0);
  assert.equal(rec.chunksWritten + rec.pendingChunks, scripted);
});

test('once the client has aborted, the server writes no more chunks', async (t) => {
  const f = await fake(t);
  await abandoned(f);
  const rec = await closedRecord(f);
  const written = rec.chunksWritten;
  await new Promise((resolve) => setTimeout(resolve, 80));
  assert.equal(rec.chunksWritten, written);
});

test('stallAfter holds back a stream:false answer, which then arrives whole', async (t) => {
  const f = await fake(t);
  const t0 = performance.now();
  const stalled = await post(f, '/api/chat', { ...CHAT, stream: false }, { stallAfter: 3, stallMs: 100 });
  assert.ok(performance.now() - t0 >= 95);
  assert.equal(((await stalled.json()) as Json)['done'], true);
});

test('respond replaces a stream:false answer', async (t) => {
  const f = await fake(t);
  const answered = await post(
    f,
    '/api/generate',
    { model: 'llama3.2', prompt: 'x', stream: false },
    { respond: { status: 200, body: 'not json' } },
  );
  assert.equal(await answered.text(), 'not json');
});
