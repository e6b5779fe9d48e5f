// Where a request's behaviour comes from: its x-fake-behaviour header (one behaviour, or one step
// of a sequence), else the queue filled with script(), which only the endpoints that do something
// take from.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { performance } from 'node:perf_hooks';
import { type Behaviour, BUSY_TEXT, behaviourHeader, statusReply } from '../support/fake-ollama.ts';
import { emptyOk, fake, type Json, message, ndjson, post, progressOf, send, userSays } from './helpers.ts';

const CHAT = { model: 'llama3.2', messages: userSays('x') };

const firstContent = async (res: Response): Promise<unknown> => message(ndjson(await res.text())[0])['content'];

// ---- the header and the queue

test('the header wins over the queue and leaves it alone', async (t) => {
  const f = await fake(t);
  f.script({ tokens: ['queued'] });
  assert.equal(await firstContent(await post(f, '/api/chat', CHAT, { tokens: ['header'] })), 'header');
  assert.equal(await firstContent(await post(f, '/api/chat', CHAT)), 'queued');
});

test('queued behaviours go to the next requests in order, across endpoints, and then there are none', async (t) => {
  const f = await fake(t);
  f.script({ tokens: ['queued'] }, { tokens: ['second'] });
  assert.equal(await firstContent(await post(f, '/api/chat', CHAT)), 'queued');
  const second = (await (
    await post(f, '/api/generate', { model: 'llama3.2', prompt: 'x', stream: false })
  ).json()) as Json;
  assert.equal(second['response'], 'second');
  assert.equal(await firstContent(await post(f, '/api/chat', CHAT)), 'You');
});

test('GET /api/version in between takes nothing from the queue', async (t) => {
  const f = await fake(t);
  f.script({ tokens: ['queued'] });
  assert.equal(((await (await fetch(f.url + '/api/version')).json()) as Json)['version'], '0.12.0');
  assert.equal(await firstContent(await post(f, '/api/chat', CHAT)), 'queued');
});

test('the header delays a GET /api/tags', async (t) => {
  const f = await fake(t);
  const t0 = performance.now();
  const tags = await fetch(f.url + '/api/tags', { headers: behaviourHeader({ headersDelayMs: 60 }) });
  assert.ok(performance.now() - t0 >= 55);
  assert.equal(tags.status, 200);
  await tags.json();
});

test('the header can replace the answer of GET /api/version', async (t) => {
  const f = await fake(t);
  const broken = await fetch(f.url + '/api/version', {
    headers: behaviourHeader({ respond: { status: 500, body: 'nope' } }),
  });
  assert.equal(await broken.text(), 'nope');
});

test('the header delays a GET /api/ps', async (t) => {
  const f = await fake(t);
  const slowed = performance.now();
  const delayed = await fetch(f.url + '/api/ps', { headers: behaviourHeader({ headersDelayMs: 60 }) });
  assert.ok(performance.now() - slowed >= 55);
  assert.equal(delayed.status, 200);
  await delayed.text();
});

test('GET /api/ps leaves the queue to the next management request', async (t) => {
  const f = await fake(t);
  f.script({ respond: { status: 500, body: 'queued' } });
  assert.equal((await fetch(f.url + '/api/ps', { headers: behaviourHeader({ headersDelayMs: 1 }) })).status, 200);
  assert.equal((await fetch(f.url + '/api/ps')).status, 200, 'the queue is left alone');
  assert.equal(await (await post(f, '/api/show', { model: 'llama3.2' })).text(), 'queued');
});

// ---- the queue on the management endpoints

test("a scripted 503 answers a pull with its Retry-After and Ollama's busy text", async (t) => {
  const f = await fake(t);
  f.script(statusReply(503, '1'));
  const busy = await post(f, '/api/pull', { model: 'all-minilm' });
  assert.equal(busy.status, 503);
  assert.equal(busy.headers.get('retry-after'), '1');
  assert.deepEqual(await busy.json(), { error: BUSY_TEXT });
});

test('a pull answered by a scripted 503 installs nothing', async (t) => {
  const f = await fake(t);
  f.script(statusReply(503, '1'));
  await (await post(f, '/api/pull', { model: 'all-minilm' })).text();
  assert.ok(!f.models().includes('all-minilm:latest'), 'a 503 did nothing');
});

test('listings in between do not take from the queue: after the 503, the next queued behaviour pulls', async (t) => {
  const f = await fake(t);
  f.script(statusReply(503, '1'), {});
  assert.equal((await post(f, '/api/pull', { model: 'all-minilm' })).status, 503);
  assert.equal((await fetch(f.url + '/api/tags')).status, 200, 'listings do not take from the queue');
  assert.equal((await fetch(f.url + '/api/ps')).status, 200);
  const pulled = await progressOf(f, '/api/pull', { model: 'all-minilm' });
  assert.equal(pulled.at(-1)?.['status'], 'success');
  assert.ok(f.models().includes('all-minilm:latest'));
});

test('a delete answered by a scripted 503 deletes nothing', async (t) => {
  const f = await fake(t);
  await progressOf(f, '/api/pull', { model: 'all-minilm' });
  f.script(statusReply(503, '2'));
  assert.equal((await send(f, 'DELETE', '/api/delete', { model: 'all-minilm' })).status, 503);
  assert.ok(f.models().includes('all-minilm:latest'));
});

test('a queued headersDelayMs delays a delete, which then goes through', async (t) => {
  const f = await fake(t);
  await progressOf(f, '/api/pull', { model: 'all-minilm' });
  f.script({ headersDelayMs: 60 });
  const t0 = performance.now();
  await emptyOk(await send(f, 'DELETE', '/api/delete', { model: 'all-minilm' }));
  assert.ok(performance.now() - t0 >= 55, 'headersDelayMs from the queue');
  assert.ok(!f.models().includes('all-minilm:latest'));
});

test('on a management endpoint too, the header wins over the queue', async (t) => {
  const f = await fake(t);
  f.script({ respond: { status: 500, body: 'queued' } });
  const fromHeader = await post(
    f,
    '/api/copy',
    { source: 'llama3.2', destination: 'x' },
    { respond: { status: 418, body: 'header' } },
  );
  assert.equal(await fromHeader.text(), 'header');
});

test('HEAD /api/blobs/:digest takes from the queue too', async (t) => {
  const f = await fake(t);
  f.script({ respond: { status: 500, body: 'queued' } });
  assert.equal(
    await (await send(f, 'HEAD', `/api/blobs/sha256:${'0'.repeat(64)}`)).status,
    500,
    'HEAD takes from the queue too',
  );
});

// ---- sequences

const ONCE = { model: 'llama3.2', stream: false, messages: userSays('x') };

async function statusOf(res: Response): Promise<number> {
  await res.arrayBuffer();
  return res.status;
}

test('a sequence header answers its n-th request with its n-th behaviour, then repeats the last', async (t) => {
  const f = await fake(t);
  const sequence: Behaviour = { sequence: [statusReply(503), statusReply(500), {}], tag: 'seq-1' };
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) statuses.push(await statusOf(await post(f, '/api/chat', ONCE, sequence)));
  assert.deepEqual(statuses, [503, 500, 200, 200]);
});

test('a sequence with another tag is another sequence, from its start', async (t) => {
  const f = await fake(t);
  const sequence: Behaviour = { sequence: [statusReply(503), statusReply(500), {}], tag: 'seq-1' };
  assert.equal(await statusOf(await post(f, '/api/chat', ONCE, sequence)), 503);
  assert.equal(await statusOf(await post(f, '/api/chat', ONCE, sequence)), 500);
  const other = await post(f, '/api/chat', ONCE, { ...sequence, tag: 'seq-2' });
  assert.equal(other.status, 503);
  await other.arrayBuffer();
});

test('an empty sequence is a 400 saying what a sequence must be', async (t) => {
  const f = await fake(t);
  const bad = await post(f, '/api/chat', CHAT, { sequence: [] });
  assert.equal(bad.status, 400);
  assert.match(await bad.text(), /sequence must be a non-empty array/);
});
