// POST /api/pull and POST /api/push: their progress streams, stream:false, their errors, and the
// stream knobs on a pull (an interrupted pull installs nothing).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { performance } from 'node:perf_hooks';
import type { FakeOllama } from '../support/fake-ollama.ts';
import {
  CATALOGUE,
  checkTransfer,
  closedRecord,
  DEFAULT_ERROR,
  emptyOk,
  errorOf,
  fake,
  type Json,
  NDJSON,
  ndjson,
  post,
  progressOf,
  reads,
  send,
} from './helpers.ts';

const PULL = { model: 'tinyllama' };

// ---- pull

test('a pull streams pulling manifest, six layer lines, then verifying, writing manifest and success', async (t) => {
  const f = await fake(t);
  const lines = await progressOf(f, '/api/pull', PULL);
  assert.equal(lines.length, 1 + 6 + 3);
  assert.deepEqual(lines[0], { status: 'pulling manifest' });
  assert.deepEqual(lines.slice(-3), [
    { status: 'verifying sha256 digest' },
    { status: 'writing manifest' },
    { status: 'success' },
  ]);
});

test('a pull sends each of the three layers whole, the weights first with most of the lines', async (t) => {
  const f = await fake(t);
  const pulling = (await progressOf(f, '/api/pull', PULL)).slice(1, -3);
  const layers = checkTransfer(pulling, 'pulling');
  assert.equal(layers.length, 3);
  assert.equal(pulling.filter((l) => l['digest'] === layers[0]).length, 4, 'the weights take most of the lines');
  assert.equal(
    pulling.reduce((sum, l) => sum + (l['digest'] === layers[0] ? 0 : 1), 0),
    2,
  );
});

test('a pulled model is installed and listed first, its layers adding up to the listed size', async (t) => {
  const f = await fake(t);
  const lines = await progressOf(f, '/api/pull', PULL);
  assert.ok(f.models().includes('tinyllama:latest'));
  const tags = (await (await fetch(f.url + '/api/tags')).json()) as { models: Json[] };
  assert.equal(tags.models[0]?.['name'], 'tinyllama:latest', 'the newest manifest is listed first');
  assert.equal(
    tags.models[0]?.['size'],
    lines.slice(1, -3).reduce((sum, l) => sum + (l['completed'] === l['total'] ? (l['total'] as number) : 0), 0),
    'the layers add up to the listed size',
  );
});

test('a pulled model can be used at once', async (t) => {
  const f = await fake(t);
  await progressOf(f, '/api/pull', PULL);
  assert.equal((await post(f, '/api/generate', { model: 'tinyllama', prompt: 'hi', stream: false })).status, 200);
});

test('progressUpdates is exactly the number of pulling lines', async (t) => {
  const f = await fake(t);
  for (const progressUpdates of [0, 1, 2, 3, 20, 197]) {
    const counted = await progressOf(f, '/api/pull', { model: 'All-MiniLM' }, { progressUpdates });
    assert.equal(counted.length, 1 + progressUpdates + 3, `progressUpdates ${progressUpdates}`);
    const pulling = counted.slice(1, -3);
    assert.ok(pulling.every((l) => (l['status'] as string).startsWith('pulling ')));
    checkTransfer(pulling, 'pulling');
  }
});

test('a fully qualified name pulls, with the legacy name field and insecure', async (t) => {
  const f = await fake(t);
  const qualified = await progressOf(f, '/api/pull', {
    name: 'registry.ollama.ai/library/llama3.2:latest',
    insecure: true,
  });
  assert.equal(qualified.at(-1)?.['status'], 'success');
});

test('a pull with stream:false answers the last progress object as a bare application/json', async (t) => {
  const f = await fake(t);
  const single = await post(f, '/api/pull', { model: 'tinyllama', stream: false });
  assert.equal(single.status, 200);
  assert.equal(single.headers.get('content-type'), 'application/json');
  assert.equal(await single.text(), '{"status":"success"}');
});

test('pulling a model the registry lacks: the manifest line, then the error in-band', async (t) => {
  const f = await fake(t);
  for (const model of ['mistral', 'tinyllama:7b']) {
    const res = await post(f, '/api/pull', { model });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), NDJSON);
    assert.equal(
      await res.text(),
      '{"status":"pulling manifest"}\n{"error":"pull model manifest: file does not exist"}\n',
    );
  }
});

test('pulling a model the registry lacks with stream:false is a 500', async (t) => {
  const f = await fake(t);
  await errorOf(
    await post(f, '/api/pull', { model: 'mistral', stream: false }),
    500,
    'pull model manifest: file does not exist',
    'application/json',
  );
});

test("a pull Ollama would refuse gets Ollama's status and error text", async (t) => {
  const f = await fake(t);
  const cases: Array<[Json, string]> = [
    [{}, 'invalid model name'],
    [{ model: 'bad name!' }, 'invalid model name'],
    [{ model: 7 }, 'json: cannot unmarshal number into Go struct field PullRequest.model of type string'],
  ];
  for (const [body, error] of cases) await errorOf(await post(f, '/api/pull', body), 400, error);
});

test('a failed pull installs nothing, and its script ends after the one line it wrote', async (t) => {
  const f = await fake(t);
  await (await post(f, '/api/pull', { model: 'mistral' })).text();
  await errorOf(await post(f, '/api/pull', { model: 'bad name!' }), 400, 'invalid model name');
  assert.deepEqual(f.models(), ['llama3.2:latest', 'qwen3:latest', 'nomic-embed-text:latest']);
  const record = await closedRecord(f, 0);
  assert.equal(record.chunksWritten, 1);
  assert.equal(record.pendingChunks, 0);
});

// ---- the stream knobs on a pull

/** What a pull's interruption leaves: once every request has closed, is tinyllama installed? */
async function installedAfterAll(f: FakeOllama): Promise<boolean> {
  await f.waitFor((r) => r.every((x) => x.closedAt !== undefined), 3000);
  return f.models().includes('tinyllama:latest');
}

test('chunkDelayMs paces the lines of a pull', async (t) => {
  const f = await fake(t);
  const t0 = performance.now();
  const paced = await progressOf(f, '/api/pull', PULL, { progressUpdates: 3, chunkDelayMs: 30 });
  assert.equal(paced.length, 7);
  assert.ok(performance.now() - t0 >= 6 * 30 - 10, 'a pause between lines');
});

test('errorAfter N ends a pull after N lines with the error in-band, and installs nothing', async (t) => {
  const f = await fake(t);
  const failing = await post(f, '/api/pull', PULL, { errorAfter: 2, errorText: 'disk full' });
  assert.equal(failing.status, 200);
  const failed = ndjson(await failing.text());
  assert.deepEqual(failed.at(-1), { error: 'disk full' });
  assert.equal(failed.length, 3);
  assert.ok(!(await installedAfterAll(f)), 'no interrupted or replaced pull installed the model');
});

test('errorAfter 0 answers a pull with the error status instead, and installs nothing', async (t) => {
  const f = await fake(t);
  await errorOf(
    await post(f, '/api/pull', PULL, { errorAfter: 0, errorStatus: 503 }),
    503,
    DEFAULT_ERROR,
    'application/json',
  );
  assert.ok(!(await installedAfterAll(f)), 'no interrupted or replaced pull installed the model');
});

test('a pull broken by a reset or a FIN, before or after some lines, installs nothing', async (t) => {
  const f = await fake(t);
  await assert.rejects((await post(f, '/api/pull', PULL, { resetAfter: 3 })).text());
  await assert.rejects(post(f, '/api/pull', PULL, { closeAfter: 0 }));
  await assert.rejects((await post(f, '/api/pull', PULL, { closeAfter: 9 })).text());
  assert.ok(!(await installedAfterAll(f)), 'no interrupted or replaced pull installed the model');
});

test('a pull answered by respond gets exactly that, and installs nothing', async (t) => {
  const f = await fake(t);
  const garbled = await post(f, '/api/pull', PULL, { respond: { status: 502, body: 'bad gateway' } });
  assert.equal(await garbled.text(), 'bad gateway');
  assert.ok(!(await installedAfterAll(f)), 'no interrupted or replaced pull installed the model');
});

test('omitDone ends a pull after writing manifest, leaving out success', async (t) => {
  const f = await fake(t);
  const noSuccess = await progressOf(f, '/api/pull', PULL, { omitDone: true });
  assert.equal(noSuccess.length, 1 + 6 + 2);
  assert.equal(noSuccess.at(-1)?.['status'], 'writing manifest');
});

test('headersDelayMs and a stall delay a pull, which then runs to success', async (t) => {
  const f = await fake(t);
  const stalled = performance.now();
  const resumed = await progressOf(f, '/api/pull', PULL, { stallAfter: 1, stallMs: 100, headersDelayMs: 50 });
  assert.ok(performance.now() - stalled >= 145);
  assert.equal(resumed.at(-1)?.['status'], 'success');
});

test('cuts split a pull into reads without changing its bytes', async (t) => {
  const f = await fake(t);
  const plainBytes = Buffer.from(await (await post(f, '/api/pull', PULL)).arrayBuffer());
  await emptyOk(await send(f, 'DELETE', '/api/delete', PULL));
  const pieces = await reads(await post(f, '/api/pull', PULL, { cuts: [5, 40, 200] }));
  assert.ok(pieces.length >= 4);
  assert.deepEqual(Buffer.concat(pieces), plainBytes, 'the same bytes whatever the cuts');
});

test('errorAfter on a stream:false pull answers the error, status 500', async (t) => {
  const f = await fake(t);
  const notStreamed = await post(f, '/api/pull', { ...PULL, stream: false }, { errorAfter: 4 });
  await errorOf(notStreamed, 500, DEFAULT_ERROR, 'application/json');
});

test('omitDone on a stream:false pull answers the last line it got to', async (t) => {
  const f = await fake(t);
  const lastAnswer = await post(f, '/api/pull', { ...PULL, stream: false }, { omitDone: true });
  assert.equal(await lastAnswer.text(), '{"status":"writing manifest"}');
});

// ---- push

test('a push streams retrieving manifest, the layers, pushing manifest and success', async (t) => {
  const f = await fake(t);
  const lines = await progressOf(f, '/api/push', { model: 'llama3.2' });
  assert.equal(lines.length, 1 + 6 + 2);
  assert.deepEqual(lines[0], { status: 'retrieving manifest' });
  assert.deepEqual(lines.slice(-2), [{ status: 'pushing manifest' }, { status: 'success' }]);
  assert.equal(checkTransfer(lines.slice(1, -2), 'pushing').length, 3);
});

test('progressUpdates is exactly the number of pushing lines; the legacy name field works', async (t) => {
  const f = await fake(t);
  for (const progressUpdates of [0, 2, 50]) {
    assert.equal(
      (await progressOf(f, '/api/push', { name: 'llama3.2' }, { progressUpdates })).length,
      1 + progressUpdates + 2,
    );
  }
});

test('a push with stream:false answers the last progress object as a bare application/json', async (t) => {
  const f = await fake(t);
  const single = await post(f, '/api/push', { model: 'llama3.2', stream: false });
  assert.equal(single.headers.get('content-type'), 'application/json');
  assert.equal(await single.text(), '{"status":"success"}');
});

test('omitDone ends a push after pushing manifest', async (t) => {
  const f = await fake(t);
  assert.equal(
    (await progressOf(f, '/api/push', { model: 'llama3.2' }, { omitDone: true })).at(-1)?.['status'],
    'pushing manifest',
  );
});

test('a push without a model name is a 400', async (t) => {
  const f = await fake(t);
  for (const body of [{}, { model: '', name: '' }])
    await errorOf(await post(f, '/api/push', body), 400, 'model is required');
});

const MISSING_MANIFEST =
  'open /usr/share/ollama/.ollama/models/manifests/registry.ollama.ai/library/ghost/latest: no such file or directory';

test('pushing a model that is not installed: the error in-band, naming the manifest file', async (t) => {
  const f = await fake(t);
  assert.deepEqual(await progressOf(f, '/api/push', { model: 'ghost' }), [
    { status: 'retrieving manifest' },
    { status: "couldn't retrieve manifest" },
    { error: MISSING_MANIFEST },
  ]);
});

test('pushing a model that is not installed with stream:false is a 500', async (t) => {
  const f = await fake(t);
  await errorOf(
    await post(f, '/api/push', { model: 'ghost', stream: false }),
    500,
    MISSING_MANIFEST,
    'application/json',
  );
  assert.deepEqual(f.models(), CATALOGUE);
});
