// POST /api/chat: the stream's exact chunks and metrics, stream:false, thinking, tool calls,
// logprobs, load and unload, and the requests it refuses.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Behaviour, FakeOllama } from '../support/fake-ollama.ts';
import {
  checkAggregated,
  fake,
  type Json,
  JSON_UTF8,
  message,
  post,
  streamed,
  TIME,
  userSays,
  WEATHER,
} from './helpers.ts';

/** A plain streamed chat saying "hello world": the raw text, its lines, and them parsed. */
async function hello(f: FakeOllama): Promise<{ res: Response; text: string; lines: string[]; chunks: Json[] }> {
  const res = await post(f, '/api/chat', { model: 'llama3.2', messages: userSays('hello world') });
  const text = await res.text();
  const lines = text.split('\n').slice(0, -1);
  return { res, text, lines, chunks: lines.map((l) => JSON.parse(l) as Json) };
}

test('a streaming chat answers 200 application/x-ndjson, every line ending in a newline', async (t) => {
  const f = await fake(t);
  const { res, text } = await hello(f);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/x-ndjson');
  assert.ok(text.endsWith('}\n'));
});

test("a chat stream's first chunk is exactly what Ollama writes", async (t) => {
  const f = await fake(t);
  const { lines } = await hello(f);
  assert.equal(
    lines[0],
    '{"model":"llama3.2","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":"You"},"done":false}',
  );
});

test('the content echoes the last user message in pieces of at most three characters', async (t) => {
  const f = await fake(t);
  const body = (await hello(f)).chunks.slice(0, -1);
  assert.equal(body.map((c) => message(c)['content']).join(''), 'You said: hello world. é 漢字 🦙 done');
  for (const c of body) {
    assert.ok(Array.from(message(c)['content'] as string).length <= 3);
    assert.equal(c['done'], false);
    assert.deepEqual(Object.keys(c), ['model', 'created_at', 'message', 'done']);
  }
});

test('created_at moves on a millisecond per chunk', async (t) => {
  const f = await fake(t);
  const { chunks } = await hello(f);
  assert.equal(chunks[1]?.['created_at'], '2026-01-01T00:00:00.001Z');
});

test("the done chunk has an empty message, done_reason stop and the metrics, in Go's field order", async (t) => {
  const f = await fake(t);
  const final = (await hello(f)).chunks.at(-1) as Json;
  assert.deepEqual(Object.keys(final), [
    'model',
    'created_at',
    'message',
    'done',
    'done_reason',
    'total_duration',
    'load_duration',
    'prompt_eval_count',
    'prompt_eval_duration',
    'eval_count',
    'eval_duration',
  ]);
  assert.deepEqual(message(final), { role: 'assistant', content: '' });
  assert.equal(final['done_reason'], 'stop');
});

test('the metrics count the prompt words and the chunks, the durations follow from them', async (t) => {
  const f = await fake(t);
  const { chunks } = await hello(f);
  const final = chunks.at(-1) as Json;
  const body = chunks.slice(0, -1);
  assert.equal(final['prompt_eval_count'], 2);
  assert.equal(final['prompt_eval_duration'], 2000);
  assert.equal(final['eval_count'], body.length);
  assert.equal(final['eval_duration'], 2000 * body.length);
  assert.equal(final['total_duration'], 1_000_000 + 2000 + 2000 * body.length);
});

test('a chat with stream:false answers the stream aggregated as Ollama does it', async (t) => {
  const f = await fake(t);
  const cases: Array<{ body: Json; behaviour?: Behaviour }> = [
    { body: { model: 'llama3.2', messages: userSays('plain') } },
    { body: { model: 'qwen3', messages: userSays('think first') } },
    { body: { model: 'qwen3', think: false, messages: userSays('no thinking') } },
    {
      body: { model: 'llama3.2', messages: userSays('tools'), tools: [WEATHER, TIME] },
      behaviour: { toolCallCount: 2 },
    },
    {
      body: { model: 'qwen3', messages: userSays('tools'), tools: [WEATHER] },
      behaviour: { toolCallsIn: 'final' },
    },
    {
      body: { model: 'llama3.2', messages: userSays('lp'), logprobs: true, top_logprobs: 3 },
      behaviour: { finalText: '!' },
    },
  ];
  for (const { body, behaviour } of cases) await checkAggregated(f, '/api/chat', body, behaviour);
});

test("a thinking model's stream:false answer carries the thinking after the content", async (t) => {
  const f = await fake(t);
  const thinking = (await (
    await post(f, '/api/chat', { model: 'qwen3', stream: false, messages: userSays('x') })
  ).json()) as Json;
  assert.deepEqual(Object.keys(message(thinking)), ['role', 'content', 'thinking']);
  assert.equal(message(thinking)['thinking'], 'Let me think about it.');
});

test('think:false leaves the thinking out', async (t) => {
  const f = await fake(t);
  const noThinking = (await (
    await post(f, '/api/chat', { model: 'qwen3', think: false, stream: false, messages: userSays('x') })
  ).json()) as Json;
  assert.deepEqual(Object.keys(message(noThinking)), ['role', 'content']);
});

test('a thinking model streams its thinking first, in chunks of their own', async (t) => {
  const f = await fake(t);
  const thinkingChunks = await streamed(f, '/api/chat', { model: 'qwen3', messages: userSays('x') });
  assert.deepEqual(message(thinkingChunks[0]), { role: 'assistant', content: '', thinking: 'Let' });
});

test('think:true for a model that cannot think is a 400 naming the model', async (t) => {
  const f = await fake(t);
  const refused = await post(f, '/api/chat', { model: 'llama3.2', think: true, messages: userSays('x') });
  assert.equal(refused.status, 400);
  assert.equal(await refused.text(), '{"error":"\\"llama3.2\\" does not support thinking"}');
});

test('think:false for a model that cannot think is accepted', async (t) => {
  const f = await fake(t);
  assert.equal((await post(f, '/api/chat', { model: 'llama3.2', think: false, messages: userSays('x') })).status, 200);
});

/** A chat with two tools and three calls, which arrive in chunks of their own. */
async function threeCalls(f: FakeOllama): Promise<{ chunks: Json[]; callChunks: Json[]; calls: Json[] }> {
  const chunks = await streamed(
    f,
    '/api/chat',
    { model: 'llama3.2', messages: userSays('x'), tools: [WEATHER, TIME] },
    { toolCallCount: 3 },
  );
  const callChunks = chunks.filter((c) => message(c)['tool_calls'] !== undefined);
  return { chunks, callChunks, calls: callChunks.flatMap((c) => message(c)['tool_calls'] as Json[]) };
}

test('tool calls arrive one per chunk, after the content and before the done chunk', async (t) => {
  const f = await fake(t);
  const { chunks, callChunks } = await threeCalls(f);
  assert.equal(callChunks.length, 3);
  assert.ok(callChunks.every((c) => c['done'] === false && message(c)['content'] === ''));
  assert.equal(chunks.indexOf(callChunks[0] as Json), chunks.length - 4, 'after the content, before the done chunk');
});

test("tool calls cycle through the request's tools, with every required argument", async (t) => {
  const f = await fake(t);
  const { calls } = await threeCalls(f);
  assert.deepEqual(
    calls.map((c) => c['function']),
    [
      { index: 0, name: 'get_weather', arguments: { city: 'value-city', unit: 'value-unit' } },
      { index: 1, name: 'get_time', arguments: { zone: 'value-zone' } },
      { index: 2, name: 'get_weather', arguments: { city: 'value-city', unit: 'value-unit' } },
    ],
  );
});

test('tool call ids look like call_ and eight characters, different for each call', async (t) => {
  const f = await fake(t);
  const { calls } = await threeCalls(f);
  for (const c of calls) assert.match(c['id'] as string, /^call_[a-z0-9]{8}$/);
  assert.notEqual(calls[0]?.['id'], calls[2]?.['id']);
});

test("toolCallsIn 'final' puts the tool calls in the done chunk", async (t) => {
  const f = await fake(t);
  const final = await streamed(
    f,
    '/api/chat',
    { model: 'llama3.2', messages: userSays('x'), tools: [WEATHER] },
    { toolCallsIn: 'final' },
  );
  assert.ok(final.slice(0, -1).every((c) => message(c)['tool_calls'] === undefined));
  assert.equal((message(final.at(-1))['tool_calls'] as Json[]).length, 1);
});

test('logprobs: every content chunk has its token, a negative logprob, its bytes and top_logprobs', async (t) => {
  const f = await fake(t);
  const withLogprobs = await streamed(f, '/api/chat', {
    model: 'llama3.2',
    messages: userSays('é'),
    logprobs: true,
    top_logprobs: 2,
  });
  for (const c of withLogprobs.slice(0, -1)) {
    const [entry] = c['logprobs'] as Json[];
    const token = message(c)['content'] as string;
    assert.equal(entry?.['token'], token);
    assert.ok((entry?.['logprob'] as number) < 0);
    assert.deepEqual(entry?.['bytes'], [...Buffer.from(token)]);
    assert.equal((entry!['top_logprobs'] as Json[]).length, 2);
  }
  assert.equal(withLogprobs.at(-1)?.['logprobs'], undefined, 'a done chunk without text has none');
});

test('a chat without messages loads the model, or with keep_alive 0 unloads it: one JSON object', async (t) => {
  const f = await fake(t);
  const loaded = (model: string, reason: string): Json => ({
    model,
    created_at: '2026-01-01T00:00:00Z',
    message: { role: 'assistant', content: '' },
    done: true,
    done_reason: reason,
  });
  const cases: Array<[Json, Json]> = [
    [{ model: 'llama3.2' }, loaded('llama3.2', 'load')],
    [{ model: 'llama3.2', messages: [], stream: true }, loaded('llama3.2', 'load')],
    [{ model: 'qwen3', messages: [], keep_alive: 0 }, loaded('qwen3', 'unload')],
    [{ model: 'qwen3', keep_alive: '0s' }, loaded('qwen3', 'unload')],
  ];
  for (const [body, expected] of cases) {
    const res = await post(f, '/api/chat', body);
    assert.equal(res.headers.get('content-type'), JSON_UTF8);
    assert.equal(await res.text(), JSON.stringify(expected));
  }
});

test("a chat Ollama would refuse gets Ollama's status and error text", async (t) => {
  const f = await fake(t);
  const cases: Array<[string, number, string]> = [
    ['{"model":""}', 400, 'model is required'],
    ['{"messages":[{"role":"user","content":"x"}]}', 400, 'model is required'],
    ['{"model":"mistral","messages":[]}', 404, "model 'mistral' not found"],
    [
      '{"model":"nomic-embed-text","messages":[{"role":"user","content":"x"}]}',
      400,
      '"nomic-embed-text" does not support chat',
    ],
    [
      '{"model":"llama3.2","messages":[{"role":"user","content":"x"}],"logprobs":true,"top_logprobs":21}',
      400,
      'top_logprobs must be between 0 and 20',
    ],
  ];
  for (const [body, status, error] of cases) {
    const res = await post(f, '/api/chat', body);
    assert.equal(res.status, status, body);
    assert.equal(res.headers.get('content-type'), JSON_UTF8);
    assert.deepEqual(await res.json(), { error }, body);
  }
});
