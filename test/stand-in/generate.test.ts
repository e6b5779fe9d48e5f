// POST /api/generate: stream:false and its context, raw mode, thinking, load and unload, and the
// requests it refuses.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Behaviour } from '../support/fake-ollama.ts';
import { checkAggregated, fake, type Json, JSON_UTF8, post, streamed } from './helpers.ts';

test('a generate with stream:false answers the stream aggregated as Ollama does it', async (t) => {
  const f = await fake(t);
  const cases: Array<{ body: Json; behaviour?: Behaviour }> = [
    { body: { model: 'qwen3', prompt: 'why is the sky blue', logprobs: true } },
    { body: { model: 'llama3.2', prompt: 'raw', raw: true }, behaviour: { tokens: ['a', 'b'], doneReason: 'length' } },
  ];
  for (const { body, behaviour } of cases) await checkAggregated(f, '/api/generate', body, behaviour);
});

test("a stream:false generate has Go's field order, context included", async (t) => {
  const f = await fake(t);
  const generated = (await (
    await post(f, '/api/generate', { model: 'llama3.2', prompt: 'two words', stream: false })
  ).json()) as Json;
  assert.deepEqual(Object.keys(generated), [
    'model',
    'created_at',
    'response',
    'done',
    'done_reason',
    'context',
    'total_duration',
    'load_duration',
    'prompt_eval_count',
    'prompt_eval_duration',
    'eval_count',
    'eval_duration',
  ]);
});

test('the context has one token per prompt word and per generated chunk', async (t) => {
  const f = await fake(t);
  const generated = (await (
    await post(f, '/api/generate', { model: 'llama3.2', prompt: 'two words', stream: false })
  ).json()) as Json;
  const evalCount = generated['eval_count'] as number;
  assert.deepEqual(
    generated['context'],
    Array.from({ length: evalCount + 2 }, (_, k) => k + 1),
  );
});

test('raw mode answers no context', async (t) => {
  const f = await fake(t);
  const raw = (await (
    await post(f, '/api/generate', { model: 'llama3.2', prompt: 'x', raw: true, stream: false })
  ).json()) as Json;
  assert.equal(raw['context'], undefined);
});

test('a thinking model streams its thinking in a field after the response', async (t) => {
  const f = await fake(t);
  const generated = await streamed(f, '/api/generate', { model: 'QWEN3:latest', prompt: 'x', think: 'high' });
  assert.deepEqual(Object.keys(generated[0] as Json), ['model', 'created_at', 'response', 'thinking', 'done']);
});

test('the model is named in every chunk exactly as the request spelled it', async (t) => {
  const f = await fake(t);
  const generated = await streamed(f, '/api/generate', { model: 'QWEN3:latest', prompt: 'x', think: 'high' });
  assert.equal(generated[0]?.['model'], 'QWEN3:latest');
  assert.ok(generated.every((c) => c['model'] === 'QWEN3:latest'));
});

test('a generate without a prompt loads the model, or with keep_alive 0 unloads it: one JSON object', async (t) => {
  const f = await fake(t);
  const loaded = (model: string, reason: string): Json => ({
    model,
    created_at: '2026-01-01T00:00:00Z',
    response: '',
    done: true,
    done_reason: reason,
  });
  const cases: Array<[Json, Json]> = [
    [{ model: 'llama3.2:latest', prompt: '' }, loaded('llama3.2:latest', 'load')],
    [{ model: 'llama3.2', keep_alive: '0' }, loaded('llama3.2', 'unload')],
    [{ model: 'llama3.2', keep_alive: '5m' }, loaded('llama3.2', 'load')],
  ];
  for (const [body, expected] of cases) {
    const res = await post(f, '/api/generate', body);
    assert.equal(res.headers.get('content-type'), JSON_UTF8);
    assert.equal(await res.text(), JSON.stringify(expected));
  }
});

test("a generate Ollama would refuse gets Ollama's status and error text", async (t) => {
  const f = await fake(t);
  const cases: Array<[string, number, string]> = [
    ['{"model":"","prompt":"x"}', 404, "model '' not found"],
    ['{"model":"Mistral:7b","prompt":"x"}', 404, "model 'Mistral:7b' not found"],
    ['{"model":"nomic-embed-text","prompt":"x"}', 400, '"nomic-embed-text" does not support generate'],
    [
      '{"model":"llama3.2","prompt":"x","raw":true,"system":"s"}',
      400,
      'raw mode does not support template, system, or context',
    ],
    ['{"model":"llama3.2","prompt":"x","top_logprobs":-1}', 400, 'top_logprobs must be between 0 and 20'],
  ];
  for (const [body, status, error] of cases) {
    const res = await post(f, '/api/generate', body);
    assert.equal(res.status, status, body);
    assert.equal(res.headers.get('content-type'), JSON_UTF8);
    assert.deepEqual(await res.json(), { error }, body);
  }
});
