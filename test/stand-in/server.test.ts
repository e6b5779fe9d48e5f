// The stand-in as an HTTP server: the fixed answers, gin's 404 and 405, what it records of each
// request, the out-of-band /_fake/ answers and static files, close() and waitFor().

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FakeOllama } from '../support/fake-ollama.ts';
import { closedRecord, fake, type Json, JSON_UTF8, post, send, userSays } from './helpers.ts';

test('GET / answers "Ollama is running" as plain text', async (t) => {
  const f = await fake(t);
  const root = await fetch(f.url + '/');
  assert.equal(root.headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.equal(await root.text(), 'Ollama is running');
});

test('HEAD / answers 200 with an empty body', async (t) => {
  const f = await fake(t);
  const head = await fetch(f.url + '/', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), '');
});

test('GET /api/version answers the version as JSON', async (t) => {
  const f = await fake(t);
  const version = await fetch(f.url + '/api/version');
  assert.equal(version.headers.get('content-type'), JSON_UTF8);
  assert.equal(await version.text(), '{"version":"0.12.0"}');
});

test('an unknown path is a plain-text 404 page not found', async (t) => {
  const f = await fake(t);
  const cases: Array<[string, string]> = [
    ['GET', '/api/nope'],
    ['POST', '/api/pulls'],
    ['POST', '/api/show/x'],
    ['POST', '/api/blob/sha256:0'],
    ['POST', '/api/status'],
  ];
  for (const [method, path] of cases) {
    const res = await send(f, method, path, method === 'GET' ? undefined : {});
    assert.equal(res.status, 404, path);
    assert.equal(res.headers.get('content-type'), 'text/plain', path);
    assert.equal(await res.text(), '404 page not found');
  }
});

test('a wrong method on a known route is a plain-text 405 method not allowed', async (t) => {
  const f = await fake(t);
  const blob = `/api/blobs/sha256:${'0'.repeat(64)}`;
  const cases: Array<[string, string]> = [
    ['GET', '/api/chat'],
    ['POST', '/api/tags'],
    ['GET', '/api/show'],
    ['GET', '/api/copy'],
    ['POST', '/api/delete'],
    ['GET', '/api/pull'],
    ['GET', '/api/push'],
    ['GET', '/api/create'],
    ['POST', '/api/ps'],
    ['PUT', blob],
    ['GET', blob],
    ['DELETE', blob],
  ];
  for (const [method, path] of cases) {
    const res = await send(f, method, path);
    assert.equal(res.status, 405, `${method} ${path}`);
    assert.equal(res.headers.get('content-type'), 'text/plain');
    assert.equal(await res.text(), '405 method not allowed');
  }
  // A body does not change that.
  assert.equal((await post(f, '/api/delete', { model: 'llama3.2' })).status, 405);
});

/** A whole streamed chat, read to its end: how many NDJSON lines it had. */
async function chatToTheEnd(f: FakeOllama): Promise<number> {
  const res = await post(f, '/api/chat', { model: 'llama3.2', messages: userSays('hello world') });
  assert.equal(res.status, 200);
  return (await res.text()).split('\n').slice(0, -1).length;
}

test('a request is recorded with its method, path and parsed body', async (t) => {
  const f = await fake(t);
  await chatToTheEnd(f);
  const rec = await closedRecord(f);
  assert.equal(rec.method, 'POST');
  assert.equal(rec.path, '/api/chat');
  assert.deepEqual(rec.body, { model: 'llama3.2', messages: userSays('hello world') });
});

test('a stream read to its end is recorded with every chunk written, none pending, the client still there', async (t) => {
  const f = await fake(t);
  const lines = await chatToTheEnd(f);
  const rec = await closedRecord(f);
  assert.equal(rec.chunksWritten, lines);
  assert.equal(rec.pendingChunks, 0);
  assert.equal(rec.clientDisconnected, false);
});

test("a record's times are in order: body received, first byte written, closed", async (t) => {
  const f = await fake(t);
  await chatToTheEnd(f);
  const rec = await closedRecord(f);
  assert.ok((rec.firstByteAt ?? -1) >= rec.receivedAt);
  assert.ok((rec.closedAt ?? -1) >= (rec.firstByteAt ?? Infinity));
});

test('files given to startFakeOllama are served on GET with their type', async (t) => {
  const f = await fake(t, { files: { '/page.html': { type: 'text/html', body: '<p>hi</p>' } } });
  const page = await fetch(`${f.url}/page.html`);
  assert.equal(page.headers.get('content-type'), 'text/html');
  assert.equal(await page.text(), '<p>hi</p>');
});

test('GET /_fake/requests?tag= tells another process what the server saw of its tagged requests', async (t) => {
  const f = await fake(t);
  const controller = new AbortController();
  const res = await post(
    f,
    '/api/chat',
    { model: 'llama3.2', messages: userSays('x') },
    { tag: 'left', chunkDelayMs: 200 },
    controller.signal,
  );
  const reader = res.body?.getReader();
  await reader?.read();
  controller.abort();
  await f.waitFor((r) => r[0]?.closedAt !== undefined, 2000);
  const mine = (await (await fetch(`${f.url}/_fake/requests?tag=left`)).json()) as Json[];
  assert.equal(mine.length, 1);
  assert.deepEqual(
    { ...mine[0], chunksWritten: undefined },
    {
      method: 'POST',
      path: '/api/chat',
      tag: 'left',
      chunksWritten: undefined,
      closed: true,
      clientDisconnected: true,
    },
  );
  assert.deepEqual(await (await fetch(`${f.url}/_fake/requests?tag=other`)).json(), []);
});

test('neither static files nor /_fake/requests queries are recorded', async (t) => {
  const f = await fake(t, { files: { '/page.html': { type: 'text/html', body: '<p>hi</p>' } } });
  await (await fetch(`${f.url}/page.html`)).text();
  await (await post(f, '/api/chat', { model: 'llama3.2', messages: userSays('x') }, { tag: 'one' })).text();
  await (await fetch(`${f.url}/_fake/requests?tag=one`)).json();
  await (await fetch(`${f.url}/_fake/requests`)).json();
  assert.equal(f.requests.length, 1);
});

test('close() ends a response stalled before its headers', async (t) => {
  const f = await fake(t);
  const beforeHeaders = post(f, '/api/chat', { model: 'llama3.2', messages: userSays('x') }, { stallAfter: 0 });
  beforeHeaders.catch(() => undefined);
  await f.waitFor((r) => r.length === 1 && r.every((x) => x.receivedAt > 0), 2000);
  await f.close();
  await assert.rejects(beforeHeaders);
  // The response's own close event may come a moment after the listener's.
  const r = await closedRecord(f);
  assert.notEqual(r.closedAt, undefined);
  assert.equal(r.clientDisconnected, false);
  assert.ok(r.pendingChunks > 0);
});

test('close() ends a response stalled mid-stream', async (t) => {
  const f = await fake(t);
  const midStream = await post(f, '/api/chat', { model: 'llama3.2', messages: userSays('x') }, { stallAfter: 2 });
  const text = midStream.text();
  text.catch(() => undefined);
  await f.waitFor((r) => r.some((x) => x.chunksWritten === 2), 2000);
  await f.close();
  await assert.rejects(text);
  // The response's own close event may come a moment after the listener's.
  const r = await closedRecord(f);
  assert.notEqual(r.closedAt, undefined);
  assert.equal(r.clientDisconnected, false);
  assert.ok(r.pendingChunks > 0);
});

test('waitFor rejects after its timeout, naming the requests seen so far', async (t) => {
  const f = await fake(t);
  await (await post(f, '/api/chat', { model: 'llama3.2', stream: false, messages: userSays('x') })).json();
  await assert.rejects(
    f.waitFor((r) => r.length > 99, 40),
    /condition still false after 40 ms.*POST \/api\/chat/,
  );
});

test('concurrent counts the requests to the same path in flight when the body had arrived', async (t) => {
  const f = await fake(t);
  const model = 'nomic-embed-text';
  f.script({ headersDelayMs: 150 }, { headersDelayMs: 150 }, { headersDelayMs: 150 });
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < 3) {
      const k = next++;
      const res = await post(f, '/api/embed', { model, input: [`batch ${k}`] });
      assert.equal(res.status, 200);
      await res.json();
    }
  };
  await Promise.all([worker(), worker()]);
  assert.equal(f.requests.length, 3);
  assert.equal(Math.max(...f.requests.map((r) => r.concurrent)), 2);
});

test('requests one after the other are each alone in flight', async (t) => {
  const serial = await fake(t);
  for (let k = 0; k < 3; k++)
    await (await post(serial, '/api/embed', { model: 'nomic-embed-text', input: 'x' }, { headersDelayMs: 20 })).json();
  assert.deepEqual(
    serial.requests.map((r) => r.concurrent),
    [1, 1, 1],
  );
});

test('concurrent leaves out other paths, and a request the client gave up on once it has closed', async (t) => {
  const other = await fake(t);
  const ac = new AbortController();
  const stalled = post(
    other,
    '/api/chat',
    { model: 'llama3.2', messages: userSays('x') },
    { stallAfter: 0 },
    ac.signal,
  );
  stalled.catch(() => undefined);
  await other.waitFor((r) => r.length === 1, 2000);
  await (await post(other, '/api/embed', { model: 'nomic-embed-text', input: 'x' })).json();
  const during = await post(other, '/api/chat', { model: 'llama3.2', stream: false, messages: userSays('y') });
  await during.json();
  ac.abort();
  await closedRecord(other, 0);
  await (await post(other, '/api/chat', { model: 'llama3.2', stream: false, messages: userSays('z') })).json();
  assert.deepEqual(
    other.requests.map((r) => `${r.path} ${r.concurrent}`),
    ['/api/chat 1', '/api/embed 1', '/api/chat 2', '/api/chat 1'],
  );
});
