// HEAD and POST /api/blobs/:digest: uploads, lookups by either separator, digest checks, and the
// route's edges.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FakeOllama } from '../support/fake-ollama.ts';
import { emptyOk, errorOf, fake, type Json, JSON_UTF8, progressOf, send, sha256 } from './helpers.ts';

/** 3 MB that are not all alike, their digest and their blob path. */
function bigBlob(): { bytes: Buffer; digest: string; hex: string; path: string } {
  const bytes = Buffer.alloc(3 * 1024 * 1024);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + (i >> 10)) & 255;
  const digest = sha256(bytes);
  return { bytes, digest, hex: digest.slice(7), path: `/api/blobs/${digest}` };
}

async function uploaded(f: FakeOllama): Promise<ReturnType<typeof bigBlob>> {
  const blob = bigBlob();
  await emptyOk(await send(f, 'POST', blob.path, blob.bytes), 201);
  return blob;
}

test('HEAD of a blob the server lacks is a 404 whose length is the error, with no body', async (t) => {
  const f = await fake(t);
  const { digest, path } = bigBlob();
  const before = await send(f, 'HEAD', path);
  assert.equal(before.status, 404);
  assert.equal(before.headers.get('content-type'), JSON_UTF8);
  assert.equal(
    before.headers.get('content-length'),
    String(JSON.stringify({ error: `blob "${digest}" not found` }).length),
  );
  assert.equal(await before.text(), '', 'HEAD has no body');
});

test('POST uploads 3 MB: an empty 201, the bytes kept under their digest, the body recorded', async (t) => {
  const f = await fake(t);
  const { bytes, digest, path } = await uploaded(f);
  assert.ok(f.blobs.get(digest)?.equals(bytes));
  assert.deepEqual([...f.blobs.keys()], [digest]);
  const recorded = f.requests.find((r) => r.method === 'POST' && r.path === path);
  assert.equal(recorded?.rawBody.length, bytes.length);
});

test('HEAD finds an uploaded blob by either separator, escaped or not', async (t) => {
  const f = await fake(t);
  const { hex, path } = await uploaded(f);
  await emptyOk(await send(f, 'HEAD', path));
  await emptyOk(await send(f, 'HEAD', `/api/blobs/sha256-${hex}`), 200);
  await emptyOk(await send(f, 'HEAD', `/api/blobs/sha256%3A${hex}`), 200);
});

test('POST of a blob the server has answers 200 without reading it into the blob', async (t) => {
  const f = await fake(t);
  const { bytes, digest, path } = await uploaded(f);
  await emptyOk(await send(f, 'POST', path, 'anything at all'), 200);
  assert.ok(f.blobs.get(digest)?.equals(bytes), 'an existing blob is not replaced');
  assert.equal(f.requests.at(-1)?.rawBody.toString(), 'anything at all');
});

test('a body that does not match its digest is a 400, and a dash never matches', async (t) => {
  const f = await fake(t);
  const small = Buffer.from('adapter weights');
  const smallDigest = sha256(small);
  const wrong = `sha256:${'0'.repeat(64)}`;
  await errorOf(
    await send(f, 'POST', `/api/blobs/${wrong}`, small),
    400,
    `digest mismatch, expected "${wrong}", got "${smallDigest}"`,
  );
  const dashed = smallDigest.replace(':', '-');
  await errorOf(
    await send(f, 'POST', `/api/blobs/${dashed}`, small),
    400,
    `digest mismatch, expected "${dashed}", got "${smallDigest}"`,
  );
  assert.equal(f.blobs.size, 0, 'nothing was stored');
});

test('a malformed digest is a 400 invalid digest format, for POST and HEAD', async (t) => {
  const f = await fake(t);
  const small = Buffer.from('adapter weights');
  for (const bad of ['sha256:abc', 'md5:' + '0'.repeat(64), 'sha256:' + 'g'.repeat(64), 'sha256:' + '0'.repeat(65)]) {
    await errorOf(await send(f, 'POST', `/api/blobs/${bad}`, small), 400, 'invalid digest format');
    const head = await send(f, 'HEAD', `/api/blobs/${bad}`);
    assert.equal(head.status, 400);
    assert.equal(await head.text(), '');
  }
});

test('HEAD finds the layers of a pulled model, which hold no bytes here', async (t) => {
  const f = await fake(t);
  const pulledLayer = ((await progressOf(f, '/api/pull', { model: 'tinyllama' }))[1] as Json)['digest'] as string;
  await emptyOk(await send(f, 'HEAD', `/api/blobs/${pulledLayer}`), 200);
  assert.equal(f.blobs.size, 0, 'pulled layers hold no bytes here');
});

test('a blob path without a digest, or with a further segment, is a 404', async (t) => {
  const f = await fake(t);
  const { digest } = bigBlob();
  for (const missing of ['/api/blobs/', '/api/blobs', `/api/blobs/${digest}/x`]) {
    const res = await send(f, 'HEAD', missing);
    assert.equal(res.status, 404, missing);
  }
});
