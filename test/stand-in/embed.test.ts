// POST /api/embed and the legacy POST /api/embeddings.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FakeOllama } from '../support/fake-ollama.ts';
import { fake, type Json, JSON_UTF8, post } from './helpers.ts';

async function embed(f: FakeOllama, body: Json): Promise<Json> {
  return (await (await post(f, '/api/embed', body)).json()) as Json;
}

const vectorsOf = (answer: Json): number[][] => answer['embeddings'] as number[][];

test("/api/embed answers JSON in Go's field order", async (t) => {
  const f = await fake(t);
  const res = await post(f, '/api/embed', { model: 'nomic-embed-text', input: ['first text', 'second'] });
  assert.equal(res.headers.get('content-type'), JSON_UTF8);
  const answer = (await res.json()) as Json;
  assert.deepEqual(Object.keys(answer), [
    'model',
    'embeddings',
    'total_duration',
    'load_duration',
    'prompt_eval_count',
  ]);
});

test('/api/embed answers one unit vector of 8 dimensions per input, a different one per text', async (t) => {
  const f = await fake(t);
  const vectors = vectorsOf(await embed(f, { model: 'nomic-embed-text', input: ['first text', 'second'] }));
  assert.equal(vectors.length, 2);
  for (const v of vectors) {
    assert.equal(v.length, 8);
    assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-5);
  }
  assert.notDeepEqual(vectors[0], vectors[1]);
});

test('the same text gets the same vector, alone or in a batch, under either spelling of the model', async (t) => {
  const f = await fake(t);
  const vectors = vectorsOf(await embed(f, { model: 'nomic-embed-text', input: ['first text', 'second'] }));
  const again = await embed(f, { model: 'nomic-embed-text:latest', input: 'first text' });
  assert.deepEqual(vectorsOf(again)[0], vectors[0], 'deterministic');
});

test('dimensions sets the length of the vectors', async (t) => {
  const f = await fake(t);
  const short = await embed(f, { model: 'nomic-embed-text', input: 'x', dimensions: 4 });
  assert.equal(vectorsOf(short)[0]?.length, 4);
});

test('an empty input, an empty list or no input answers no embeddings', async (t) => {
  const f = await fake(t);
  for (const input of ['', [], undefined]) {
    const empty = await post(f, '/api/embed', { model: 'nomic-embed-text', input });
    assert.equal(await empty.text(), '{"model":"nomic-embed-text","embeddings":[]}', JSON.stringify(input));
  }
});

test('dropVectors answers that many fewer vectors than inputs', async (t) => {
  const f = await fake(t);
  const dropped = (await (
    await post(f, '/api/embed', { model: 'nomic-embed-text', input: ['a', 'b', 'c'] }, { dropVectors: 1 })
  ).json()) as Json;
  assert.equal((dropped['embeddings'] as unknown[]).length, 2);
});

test('/api/embeddings answers one vector of 8 dimensions, not normalised', async (t) => {
  const f = await fake(t);
  const legacy = (await (
    await post(f, '/api/embeddings', { model: 'nomic-embed-text', prompt: 'first text' })
  ).json()) as Json;
  assert.deepEqual(Object.keys(legacy), ['embedding']);
  const raw = legacy['embedding'] as number[];
  assert.equal(raw.length, 8);
  assert.ok(Math.abs(Math.hypot(...raw) - 1) > 1e-3, 'not normalised');
});

test('/api/embeddings with an empty prompt answers an empty vector', async (t) => {
  const f = await fake(t);
  assert.equal(
    await (await post(f, '/api/embeddings', { model: 'nomic-embed-text', prompt: '' })).text(),
    '{"embedding":[]}',
  );
});

test("an embed request Ollama would refuse gets Ollama's status and error text", async (t) => {
  const f = await fake(t);
  const cases: Array<[string, string, number, string]> = [
    ['/api/embed', '{"model":"","input":"x"}', 404, "model '' not found"],
    ['/api/embed', '{"model":"mistral","input":"x"}', 404, 'model "mistral" not found, try pulling it first'],
    ['/api/embed', '{"model":"nomic-embed-text","input":["a",1]}', 400, 'invalid input type'],
    ['/api/embed', '{"model":"nomic-embed-text","input":7}', 400, 'invalid input type'],
    ['/api/embeddings', '{"model":"","prompt":"x"}', 400, 'model is required'],
    ['/api/embeddings', '{"model":"mistral","prompt":"x"}', 404, 'model "mistral" not found, try pulling it first'],
  ];
  for (const [path, body, status, error] of cases) {
    const res = await post(f, path, body);
    assert.equal(res.status, status, `${path} ${body}`);
    assert.equal(res.headers.get('content-type'), JSON_UTF8);
    assert.deepEqual(await res.json(), { error }, `${path} ${body}`);
  }
});
