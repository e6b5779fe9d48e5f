// The stand-in's /v1 side, read with plain fetch: the bytes each dialect puts on the wire, so
// that the client tests stand on shapes checked apart from the client.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type FakeOllama, startFakeOllama } from '../support/fake-ollama.ts';

let fake: FakeOllama;
before(async () => {
  fake = await startFakeOllama();
});
after(() => fake.close());

async function post(path: string, body: object, behaviour: object = {}): Promise<Response> {
  return fetch(`${fake.url}/v1${path}`, {
    method: 'POST',
    headers: { 'x-fake-behaviour': JSON.stringify(behaviour) },
    body: JSON.stringify(body),
  });
}

const hello = { model: 'llama3.2', messages: [{ role: 'user', content: 'Hi' }], stream: true };

test('stand-in /v1 as Ollama: data-only events, role first, finish chunk with delta {}, usage chunk, [DONE]', async () => {
  const response = await post(
    '/chat/completions',
    { ...hello, stream_options: { include_usage: true } },
    { tokens: ['A'] },
  );
  assert.equal(response.headers.get('content-type'), 'text/event-stream');
  const text = await response.text();
  const events = text.split('\n\n').filter((e) => e !== '');
  assert.ok(events.every((e) => e.startsWith('data: ') && !e.includes('\n')));
  assert.equal(events.at(-1), 'data: [DONE]');
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)));
  assert.deepEqual(chunks[0].choices[0].delta, { role: 'assistant', content: 'A' });
  assert.deepEqual(chunks[1].choices[0], { index: 0, delta: {}, finish_reason: 'stop' });
  assert.deepEqual(chunks[2].choices, []);
  assert.equal(chunks[2].usage.completion_tokens, 1);
});

test("stand-in /v1 errors: Ollama's body for 404 and 400, with a trailing newline", async () => {
  const missing = await post('/chat/completions', { ...hello, model: 'nope' });
  assert.equal(missing.status, 404);
  const body = await missing.text();
  assert.ok(body.endsWith('\n'));
  assert.deepEqual(JSON.parse(body), {
    error: {
      message: 'model "nope" not found, try pulling it first',
      type: 'not_found_error',
      param: null,
      code: null,
    },
  });
  const empty = await post('/chat/completions', { ...hello, messages: [] });
  assert.equal(empty.status, 400);
  assert.equal(((await empty.json()) as { error: { type: string } }).error.type, 'invalid_request_error');
});

test("stand-in /v1 mid-stream failures: each dialect's own shape", async () => {
  const failing = (dialect: string) => post('/chat/completions', hello, { dialect, errorAfter: 1, errorText: 'boom' });
  const ollama = await (await failing('ollama')).text();
  assert.doesNotMatch(ollama, /\[DONE\]|finish_reason":"stop|boom/, 'Ollama loses the text and sends no end');
  const vllm = await (await failing('vllm')).text();
  assert.match(vllm, /data: \{"object":"error","message":"boom"[^\n]*\n\ndata: \[DONE\]\n\n$/);
  const openrouter = await (await failing('openrouter')).text();
  assert.match(openrouter, /^: OPENROUTER PROCESSING\n\n/);
  assert.match(openrouter, /"finish_reason":"error".*"error":\{"code":"server_error","message":"boom"\}/);
  const llamacpp = await (await failing('llamacpp')).text();
  assert.match(llamacpp, /\nerror: \{"code":500,"message":"boom","type":"server_error"\}\n\n$/);
});

test('stand-in /v1 as vLLM: tool calls in fragments, interleaved by index, and reasoning_content', async () => {
  const tools = [
    { type: 'function', function: { name: 'a' } },
    { type: 'function', function: { name: 'b' } },
  ];
  const text = await (
    await post('/chat/completions', { ...hello, tools }, { dialect: 'vllm', toolCallCount: 2 })
  ).text();
  const deltas = text
    .split('\n\n')
    .filter((e) => e.startsWith('data: {'))
    .map((e) => JSON.parse(e.slice(6)).choices[0]?.delta?.tool_calls?.[0])
    .filter((d) => d !== undefined);
  assert.equal(deltas[0].function.arguments, '');
  assert.deepEqual(
    deltas.map((d: { index: number }) => d.index),
    [0, 1, 0, 1, 0, 1, 0, 1],
  );
  const args = (index: number) =>
    deltas
      .filter((d: { index: number }) => d.index === index)
      .map((d: { function: { arguments: string } }) => d.function.arguments)
      .join('');
  assert.deepEqual(JSON.parse(args(1)), { city: 'Lima', n: 1 });
  const reasoning = await (
    await post('/chat/completions', { ...hello, reasoning_effort: 'low' }, { dialect: 'vllm' })
  ).text();
  assert.match(reasoning, /"reasoning_content":"Let me"/);
});

test('stand-in /v1 models and embeddings: data null with noModels, base64 of the same float32 values', async () => {
  const none = (await (
    await fetch(`${fake.url}/v1/models`, { headers: { 'x-fake-behaviour': '{"noModels":true}' } })
  ).json()) as { data: unknown };
  assert.equal(none.data, null);
  const floats = (await (await post('/embeddings', { model: 'nomic-embed-text', input: ['x'] })).json()) as {
    data: { embedding: number[] }[];
  };
  const b64 = (await (
    await post('/embeddings', { model: 'nomic-embed-text', input: ['x'], encoding_format: 'base64' })
  ).json()) as {
    data: { embedding: string }[];
  };
  const bytes = Buffer.from(b64.data[0]!.embedding, 'base64');
  const decoded = Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
  assert.deepEqual(decoded, floats.data[0]!.embedding);
  const bad = await post('/embeddings', { model: 'nomic-embed-text', input: 'x', encoding_format: 'int8' });
  assert.equal(bad.status, 400);
});
