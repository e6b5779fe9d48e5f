// The knobs on the management endpoints' one-object answers (show, copy, delete, blobs, a
// stream:false pull), and that only an answer of the stand-in's own changes the models.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { performance } from 'node:perf_hooks';
import { errorOf, fake, post, send } from './helpers.ts';

const BLOB = `/api/blobs/sha256:${'0'.repeat(64)}`;
const CASES: Array<[string, string, unknown]> = [
  ['POST', '/api/show', { model: 'llama3.2' }],
  ['POST', '/api/copy', { source: 'llama3.2', destination: 'copy' }],
  ['DELETE', '/api/delete', { model: 'qwen3' }],
  ['HEAD', BLOB, undefined],
  ['POST', BLOB, 'bytes'],
  ['POST', '/api/pull', { model: 'tinyllama', stream: false }],
];

test('respond replaces every one-object management answer, headers included', async (t) => {
  const f = await fake(t);
  for (const [method, path, body] of CASES) {
    const answered = await send(f, method, path, body, {
      respond: { status: 299, headers: { 'x-scripted': 'yes' }, body: '' },
    });
    assert.equal(answered.status, 299, path);
    assert.equal(answered.headers.get('x-scripted'), 'yes');
    await answered.text();
  }
});

test('resetAfter 0 and closeAfter 0 break every one-object management answer', async (t) => {
  const f = await fake(t);
  for (const [method, path, body] of CASES) {
    await assert.rejects(send(f, method, path, body, { resetAfter: 0 }), `${method} ${path} reset`);
    await assert.rejects(send(f, method, path, body, { closeAfter: 0 }), `${method} ${path} closed`);
  }
});

test('headersDelayMs delays every one-object management answer, which is then the real one', async (t) => {
  const f = await fake(t);
  for (const [method, path, body] of CASES) {
    const t0 = performance.now();
    const late = await send(f, method, path, body, { headersDelayMs: 80 });
    assert.ok(performance.now() - t0 >= 75, `${method} ${path} delayed`);
    assert.ok(late.status < 500);
    await late.text();
  }
});

test('stallAfter 0 with stallMs delays a show, which then answers', async (t) => {
  const f = await fake(t);
  const t1 = performance.now();
  const stalled = await post(f, '/api/show', { model: 'llama3.2' }, { stallAfter: 0, stallMs: 80 });
  assert.ok(performance.now() - t1 >= 75);
  assert.equal(stalled.status, 200);
  await stalled.text();
});

test('errorAfter 0 answers a show with the scripted error, status 500', async (t) => {
  const f = await fake(t);
  await errorOf(await post(f, '/api/show', { model: 'llama3.2' }, { errorAfter: 0, errorText: 'nope' }), 500, 'nope');
});

test("only an answer of the stand-in's own changes the models: not respond, nor a reset, nor a FIN", async (t) => {
  const f = await fake(t);
  for (const [method, path, body] of CASES) {
    const before = f.models();
    await (await send(f, method, path, body, { respond: { status: 299, body: '' } })).text();
    await assert.rejects(send(f, method, path, body, { resetAfter: 0 }));
    await assert.rejects(send(f, method, path, body, { closeAfter: 0 }));
    assert.deepEqual(f.models(), before, `${method} ${path}: nothing changed yet`);
    await (await send(f, method, path, body, { headersDelayMs: 1 })).text();
  }
  // The pull was the last write, so it is listed first; the copies and the delete went through
  // only where an answer of the stand-in's own went out.
  assert.deepEqual(f.models(), ['tinyllama:latest', 'copy:latest', 'llama3.2:latest', 'nomic-embed-text:latest']);
});
