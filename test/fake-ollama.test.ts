// Self-tests for the stand-in Ollama server: other tests trust it to behave like the real one
// and to misbehave exactly as scripted, so both are pinned down here with plain fetch.

import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { BUSY_TEXT, behaviourHeader, startFakeOllama, statusReply } from './support/fake-ollama.ts';
import type { Behaviour, FakeOllama, RecordedRequest } from './support/fake-ollama.ts';

type Json = Record<string, unknown>;

const DEFAULT_ERROR = 'an error was encountered while running the model: unexpected EOF';
const JSON_UTF8 = 'application/json; charset=utf-8';

async function fake(t: TestContext): Promise<FakeOllama> {
  const f = await startFakeOllama();
  t.after(() => f.close());
  return f;
}

function post(
  f: FakeOllama,
  path: string,
  body: unknown,
  behaviour?: Behaviour,
  signal?: AbortSignal,
): Promise<Response> {
  return fetch(f.url + path, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...(behaviour ? behaviourHeader(behaviour) : {}) },
    ...(signal ? { signal } : {}),
  });
}

const ndjson = (text: string): Json[] =>
  text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Json);

async function streamed(f: FakeOllama, path: string, body: Json, behaviour?: Behaviour): Promise<Json[]> {
  const res = await post(f, path, body, behaviour);
  assert.equal(res.status, 200);
  return ndjson(await res.text());
}

async function reads(res: Response): Promise<Buffer[]> {
  const out: Buffer[] = [];
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  for (let k = 0; k < 10_000; k++) {
    const { value, done } = await reader.read();
    if (done) return out;
    out.push(Buffer.from(value));
  }
  throw new Error('too many reads');
}

const message = (chunk: Json | undefined): Json => (chunk?.['message'] ?? {}) as Json;

// The stream:false answer, rebuilt from the stream the way Ollama's handlers build it.
function aggregate(chunks: Json[], endpoint: 'chat' | 'generate', hadTools: boolean): Json {
  const last = structuredClone(chunks.at(-1) as Json);
  const joined = (pick: (c: Json) => unknown): string =>
    chunks.map((c) => (pick(c) as string | undefined) ?? '').join('');
  const textKey = endpoint === 'chat' ? 'content' : 'response';
  const holder = endpoint === 'chat' ? message(last) : last;
  const part = (c: Json): Json => (endpoint === 'chat' ? message(c) : c);
  holder[textKey] = joined((c) => part(c)[textKey]);
  const thinking = joined((c) => part(c)['thinking']);
  if (thinking !== '') holder['thinking'] = thinking;
  if (endpoint === 'chat' && hadTools) {
    const calls = chunks.flatMap((c) => (message(c)['tool_calls'] as unknown[] | undefined) ?? []);
    if (calls.length > 0) holder['tool_calls'] = calls;
  }
  const logprobs = chunks.flatMap((c) => (c['logprobs'] as unknown[] | undefined) ?? []);
  if (logprobs.length > 0) last['logprobs'] = logprobs;
  return last;
}

async function closedRecord(f: FakeOllama, index = 0): Promise<RecordedRequest> {
  await f.waitFor((r) => r[index]?.closedAt !== undefined, 3000);
  return f.requests[index] as RecordedRequest;
}

const WEATHER = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: {
      type: 'object',
      required: ['city', 'unit'],
      properties: { city: { type: 'string' }, unit: { type: 'string' } },
    },
  },
};
const TIME = {
  type: 'function',
  function: {
    name: 'get_time',
    parameters: { type: 'object', required: ['zone'], properties: { zone: { type: 'string' } } },
  },
};
const userSays = (content: string): Json[] => [{ role: 'user', content }];

test('root, version, tags, unknown paths and wrong methods', async (t) => {
  const f = await fake(t);
  const root = await fetch(f.url + '/');
  assert.equal(root.headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.equal(await root.text(), 'Ollama is running');
  const head = await fetch(f.url + '/', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), '');

  const version = await fetch(f.url + '/api/version');
  assert.equal(version.headers.get('content-type'), JSON_UTF8);
  assert.equal(await version.text(), '{"version":"0.12.0"}');

  const tags = (await (await fetch(f.url + '/api/tags')).json()) as { models: Json[] };
  assert.deepEqual(
    tags.models.map((m) => m['name']),
    ['llama3.2:latest', 'qwen3:latest', 'nomic-embed-text:latest'],
  );
  const first = tags.models[0] as Json;
  assert.deepEqual(Object.keys(first), ['name', 'model', 'modified_at', 'size', 'digest', 'details', 'capabilities']);
  assert.match(first['digest'] as string, /^[0-9a-f]{64}$/);
  assert.deepEqual(first['capabilities'], ['completion', 'tools']);
  assert.deepEqual(Object.keys(first['details'] as Json), [
    'parent_model',
    'format',
    'family',
    'families',
    'parameter_size',
    'quantization_level',
  ]);

  const missing = await fetch(f.url + '/api/nope');
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get('content-type'), 'text/plain');
  assert.equal(await missing.text(), '404 page not found');
  const wrong = await fetch(f.url + '/api/chat');
  assert.equal(wrong.status, 405);
  assert.equal(await wrong.text(), '405 method not allowed');
  assert.equal((await fetch(f.url + '/api/tags', { method: 'POST' })).status, 405);
});

test('streaming chat: content type, exact chunks, final metrics, recording', async (t) => {
  const f = await fake(t);
  const res = await post(f, '/api/chat', { model: 'llama3.2', messages: userSays('hello world') });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/x-ndjson');
  const text = await res.text();
  assert.ok(text.endsWith('}\n'));
  const lines = text.split('\n').slice(0, -1);
  assert.equal(
    lines[0],
    '{"model":"llama3.2","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":"You"},"done":false}',
  );
  const chunks = lines.map((l) => JSON.parse(l) as Json);
  const body = chunks.slice(0, -1);
  assert.equal(body.map((c) => message(c)['content']).join(''), 'You said: hello world. é 漢字 🦙 done');
  for (const c of body) {
    assert.ok(Array.from(message(c)['content'] as string).length <= 3);
    assert.equal(c['done'], false);
    assert.deepEqual(Object.keys(c), ['model', 'created_at', 'message', 'done']);
  }
  assert.equal(chunks[1]?.['created_at'], '2026-01-01T00:00:00.001Z');

  const final = chunks.at(-1) as Json;
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
  assert.equal(final['prompt_eval_count'], 2);
  assert.equal(final['prompt_eval_duration'], 2000);
  assert.equal(final['eval_count'], body.length);
  assert.equal(final['eval_duration'], 2000 * body.length);
  assert.equal(final['total_duration'], 1_000_000 + 2000 + 2000 * body.length);

  const rec = await closedRecord(f);
  assert.equal(rec.method, 'POST');
  assert.equal(rec.path, '/api/chat');
  assert.deepEqual(rec.body, { model: 'llama3.2', messages: userSays('hello world') });
  assert.equal(rec.chunksWritten, chunks.length);
  assert.equal(rec.pendingChunks, 0);
  assert.equal(rec.clientDisconnected, false);
  assert.ok((rec.firstByteAt ?? -1) >= rec.receivedAt);
  assert.ok((rec.closedAt ?? -1) >= (rec.firstByteAt ?? Infinity));
});

test('stream:false is the stream aggregated as Ollama does it', async (t) => {
  const f = await fake(t);
  const cases: Array<{ path: '/api/chat' | '/api/generate'; body: Json; behaviour?: Behaviour }> = [
    { path: '/api/chat', body: { model: 'llama3.2', messages: userSays('plain') } },
    { path: '/api/chat', body: { model: 'qwen3', messages: userSays('think first') } },
    { path: '/api/chat', body: { model: 'qwen3', think: false, messages: userSays('no thinking') } },
    {
      path: '/api/chat',
      body: { model: 'llama3.2', messages: userSays('tools'), tools: [WEATHER, TIME] },
      behaviour: { toolCallCount: 2 },
    },
    {
      path: '/api/chat',
      body: { model: 'qwen3', messages: userSays('tools'), tools: [WEATHER] },
      behaviour: { toolCallsIn: 'final' },
    },
    {
      path: '/api/chat',
      body: { model: 'llama3.2', messages: userSays('lp'), logprobs: true, top_logprobs: 3 },
      behaviour: { finalText: '!' },
    },
    { path: '/api/generate', body: { model: 'qwen3', prompt: 'why is the sky blue', logprobs: true } },
    {
      path: '/api/generate',
      body: { model: 'llama3.2', prompt: 'raw', raw: true },
      behaviour: { tokens: ['a', 'b'], doneReason: 'length' },
    },
  ];
  for (const { path, body, behaviour } of cases) {
    const endpoint = path === '/api/chat' ? 'chat' : 'generate';
    const chunks = await streamed(f, path, body, behaviour);
    const res = await post(f, path, { ...body, stream: false }, behaviour);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), JSON_UTF8);
    const text = await res.text();
    assert.ok(!text.endsWith('\n'), 'no trailing newline');
    const single = JSON.parse(text) as Json;
    assert.deepEqual(single, aggregate(chunks, endpoint, Array.isArray(body['tools'])), JSON.stringify(body));
    assert.deepEqual(await f.expected(path, body, behaviour), single);
  }

  const thinking = (await (
    await post(f, '/api/chat', { model: 'qwen3', stream: false, messages: userSays('x') })
  ).json()) as Json;
  assert.deepEqual(Object.keys(message(thinking)), ['role', 'content', 'thinking']);
  assert.equal(message(thinking)['thinking'], 'Let me think about it.');
  const noThinking = (await (
    await post(f, '/api/chat', { model: 'qwen3', think: false, stream: false, messages: userSays('x') })
  ).json()) as Json;
  assert.deepEqual(Object.keys(message(noThinking)), ['role', 'content']);

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
  const evalCount = generated['eval_count'] as number;
  assert.deepEqual(
    generated['context'],
    Array.from({ length: evalCount + 2 }, (_, k) => k + 1),
  );
  const raw = (await (
    await post(f, '/api/generate', { model: 'llama3.2', prompt: 'x', raw: true, stream: false })
  ).json()) as Json;
  assert.equal(raw['context'], undefined);
});

test('thinking, tool calls and logprobs in the stream', async (t) => {
  const f = await fake(t);
  const thinkingChunks = await streamed(f, '/api/chat', { model: 'qwen3', messages: userSays('x') });
  assert.deepEqual(message(thinkingChunks[0]), { role: 'assistant', content: '', thinking: 'Let' });
  const generated = await streamed(f, '/api/generate', { model: 'QWEN3:latest', prompt: 'x', think: 'high' });
  assert.deepEqual(Object.keys(generated[0] as Json), ['model', 'created_at', 'response', 'thinking', 'done']);
  assert.equal(generated[0]?.['model'], 'QWEN3:latest');

  const refused = await post(f, '/api/chat', { model: 'llama3.2', think: true, messages: userSays('x') });
  assert.equal(refused.status, 400);
  assert.equal(await refused.text(), '{"error":"\\"llama3.2\\" does not support thinking"}');
  assert.equal((await post(f, '/api/chat', { model: 'llama3.2', think: false, messages: userSays('x') })).status, 200);

  const middle = await streamed(
    f,
    '/api/chat',
    { model: 'llama3.2', messages: userSays('x'), tools: [WEATHER, TIME] },
    { toolCallCount: 3 },
  );
  const callChunks = middle.filter((c) => message(c)['tool_calls'] !== undefined);
  assert.equal(callChunks.length, 3);
  assert.ok(callChunks.every((c) => c['done'] === false && message(c)['content'] === ''));
  const calls = callChunks.flatMap((c) => message(c)['tool_calls'] as Json[]);
  assert.deepEqual(
    calls.map((c) => c['function']),
    [
      { index: 0, name: 'get_weather', arguments: { city: 'value-city', unit: 'value-unit' } },
      { index: 1, name: 'get_time', arguments: { zone: 'value-zone' } },
      { index: 2, name: 'get_weather', arguments: { city: 'value-city', unit: 'value-unit' } },
    ],
  );
  for (const c of calls) assert.match(c['id'] as string, /^call_[a-z0-9]{8}$/);
  assert.notEqual(calls[0]?.['id'], calls[2]?.['id']);
  assert.equal(middle.indexOf(callChunks[0] as Json), middle.length - 4, 'after the content, before the done chunk');

  const final = await streamed(
    f,
    '/api/chat',
    { model: 'llama3.2', messages: userSays('x'), tools: [WEATHER] },
    { toolCallsIn: 'final' },
  );
  assert.ok(final.slice(0, -1).every((c) => message(c)['tool_calls'] === undefined));
  assert.equal((message(final.at(-1))['tool_calls'] as Json[]).length, 1);

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
  assert.equal(withLogprobs.at(-1)?.['logprobs'], undefined);
  const outOfRange = await post(f, '/api/chat', {
    model: 'llama3.2',
    messages: userSays('x'),
    logprobs: true,
    top_logprobs: 21,
  });
  assert.equal(outOfRange.status, 400);
  assert.deepEqual(await outOfRange.json(), { error: 'top_logprobs must be between 0 and 20' });
});

test('load and unload answer one JSON object whatever stream says', async (t) => {
  const f = await fake(t);
  const check = async (path: string, body: Json, expected: Json): Promise<void> => {
    const res = await post(f, path, body);
    assert.equal(res.headers.get('content-type'), JSON_UTF8);
    assert.equal(await res.text(), JSON.stringify(expected));
  };
  const at = '2026-01-01T00:00:00Z';
  const chatLoaded = (model: string, reason: string): Json => ({
    model,
    created_at: at,
    message: { role: 'assistant', content: '' },
    done: true,
    done_reason: reason,
  });
  const generateLoaded = (model: string, reason: string): Json => ({
    model,
    created_at: at,
    response: '',
    done: true,
    done_reason: reason,
  });
  await check('/api/chat', { model: 'llama3.2' }, chatLoaded('llama3.2', 'load'));
  await check('/api/chat', { model: 'llama3.2', messages: [], stream: true }, chatLoaded('llama3.2', 'load'));
  await check('/api/chat', { model: 'qwen3', messages: [], keep_alive: 0 }, chatLoaded('qwen3', 'unload'));
  await check('/api/chat', { model: 'qwen3', keep_alive: '0s' }, chatLoaded('qwen3', 'unload'));
  await check('/api/generate', { model: 'llama3.2:latest', prompt: '' }, generateLoaded('llama3.2:latest', 'load'));
  await check('/api/generate', { model: 'llama3.2', keep_alive: '0' }, generateLoaded('llama3.2', 'unload'));
  await check('/api/generate', { model: 'llama3.2', keep_alive: '5m' }, generateLoaded('llama3.2', 'load'));
});

test("validation and not-found errors have Ollama's status and text", async (t) => {
  const f = await fake(t);
  const table: Array<[string, string, number, string]> = [
    ['/api/chat', '', 400, 'missing request body'],
    ['/api/generate', '  \n', 400, 'missing request body'],
    ['/api/chat', 'xyz', 400, "invalid character 'x' looking for beginning of value"],
    ['/api/chat', '{"model":', 400, 'unexpected EOF'],
    ['/api/chat', '{"model" "x"}', 400, "invalid character '\"' after object key"],
    [
      '/api/chat',
      '{"model":1}',
      400,
      'json: cannot unmarshal number into Go struct field ChatRequest.model of type string',
    ],
    ['/api/chat', '{"model":"qwen3","keep_alive":"300"}', 400, 'time: missing unit in duration "300"'],
    [
      '/api/chat',
      '{"model":"qwen3","think":"hard"}',
      400,
      'invalid think value: "hard" (must be "high", "medium", "low", "max", true, or false)',
    ],
    ['/api/chat', '{"model":""}', 400, 'model is required'],
    ['/api/chat', '{"messages":[{"role":"user","content":"x"}]}', 400, 'model is required'],
    ['/api/generate', '{"model":"","prompt":"x"}', 404, "model '' not found"],
    ['/api/chat', '{"model":"mistral","messages":[]}', 404, "model 'mistral' not found"],
    ['/api/generate', '{"model":"Mistral:7b","prompt":"x"}', 404, "model 'Mistral:7b' not found"],
    ['/api/embed', '{"model":"","input":"x"}', 404, "model '' not found"],
    ['/api/embed', '{"model":"mistral","input":"x"}', 404, 'model "mistral" not found, try pulling it first'],
    ['/api/embeddings', '{"model":"","prompt":"x"}', 400, 'model is required'],
    ['/api/embeddings', '{"model":"mistral","prompt":"x"}', 404, 'model "mistral" not found, try pulling it first'],
    [
      '/api/chat',
      '{"model":"nomic-embed-text","messages":[{"role":"user","content":"x"}]}',
      400,
      '"nomic-embed-text" does not support chat',
    ],
    ['/api/generate', '{"model":"nomic-embed-text","prompt":"x"}', 400, '"nomic-embed-text" does not support generate'],
    [
      '/api/generate',
      '{"model":"llama3.2","prompt":"x","raw":true,"system":"s"}',
      400,
      'raw mode does not support template, system, or context',
    ],
    [
      '/api/generate',
      '{"model":"llama3.2","prompt":"x","top_logprobs":-1}',
      400,
      'top_logprobs must be between 0 and 20',
    ],
    ['/api/embed', '{"model":"nomic-embed-text","input":["a",1]}', 400, 'invalid input type'],
    ['/api/embed', '{"model":"nomic-embed-text","input":7}', 400, 'invalid input type'],
  ];
  for (const [path, body, status, error] of table) {
    const res = await post(f, path, body);
    assert.equal(res.status, status, `${path} ${body}`);
    assert.equal(res.headers.get('content-type'), JSON_UTF8);
    assert.deepEqual(await res.json(), { error }, `${path} ${body}`);
  }
  // gin's decoder stops after the first value, so trailing bytes are ignored.
  assert.equal((await post(f, '/api/chat', '{"model":"llama3.2"} trailing')).status, 200);
});

test('strings are escaped the way Go escapes them', async (t) => {
  const f = await fake(t);
  const res = await post(f, '/api/chat', { model: 'llama3.2', stream: false, messages: userSays('<a> & <b>') });
  const text = await res.text();
  assert.ok(text.includes('\\u003ca\\u003e \\u0026 \\u003cb\\u003e'), text);
  assert.ok(!/[<>&]/.test(text));
  assert.equal(message(JSON.parse(text) as Json)['content'], 'You said: <a> & <b>. é 漢字 🦙 done');
});

test('embed and embeddings', async (t) => {
  const f = await fake(t);
  const res = await post(f, '/api/embed', { model: 'nomic-embed-text', input: ['first text', 'second'] });
  assert.equal(res.headers.get('content-type'), JSON_UTF8);
  const embed = (await res.json()) as Json;
  assert.deepEqual(Object.keys(embed), ['model', 'embeddings', 'total_duration', 'load_duration', 'prompt_eval_count']);
  const vectors = embed['embeddings'] as number[][];
  assert.equal(vectors.length, 2);
  for (const v of vectors) {
    assert.equal(v.length, 8);
    assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-5);
  }
  assert.notDeepEqual(vectors[0], vectors[1]);
  const again = (await (
    await post(f, '/api/embed', { model: 'nomic-embed-text:latest', input: 'first text' })
  ).json()) as Json;
  assert.deepEqual((again['embeddings'] as number[][])[0], vectors[0], 'deterministic');
  const short = (await (
    await post(f, '/api/embed', { model: 'nomic-embed-text', input: 'x', dimensions: 4 })
  ).json()) as Json;
  assert.equal((short['embeddings'] as number[][])[0]?.length, 4);

  for (const input of ['', [], undefined]) {
    const empty = await post(f, '/api/embed', { model: 'nomic-embed-text', input });
    assert.equal(await empty.text(), '{"model":"nomic-embed-text","embeddings":[]}');
  }
  const dropped = (await (
    await post(f, '/api/embed', { model: 'nomic-embed-text', input: ['a', 'b', 'c'] }, { dropVectors: 1 })
  ).json()) as Json;
  assert.equal((dropped['embeddings'] as unknown[]).length, 2);

  const legacy = (await (
    await post(f, '/api/embeddings', { model: 'nomic-embed-text', prompt: 'first text' })
  ).json()) as Json;
  assert.deepEqual(Object.keys(legacy), ['embedding']);
  const raw = legacy['embedding'] as number[];
  assert.equal(raw.length, 8);
  assert.ok(Math.abs(Math.hypot(...raw) - 1) > 1e-3, 'not normalised');
  assert.equal(
    await (await post(f, '/api/embeddings', { model: 'nomic-embed-text', prompt: '' })).text(),
    '{"embedding":[]}',
  );
});

test('headersDelayMs: not a single byte before the delay', async (t) => {
  const f = await fake(t);
  const delay = 200;
  const body = JSON.stringify({ model: 'llama3.2', messages: userSays('x') });
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

  // fetch resolves with the headers, so it cannot resolve before the delay either; same for stream:false.
  for (const stream of [true, false]) {
    const t0 = performance.now();
    const res = await post(
      f,
      '/api/chat',
      { model: 'llama3.2', stream, messages: userSays('x') },
      { headersDelayMs: 120 },
    );
    assert.ok(performance.now() - t0 >= 115);
    assert.equal(res.status, 200);
    await res.text();
  }
});

test('cuts split the body exactly where asked, even inside a character', async (t) => {
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

  const single = Buffer.from(await (await post(f, '/api/chat', { ...body, stream: false })).arrayBuffer());
  const singlePieces = await reads(
    await post(f, '/api/chat', { ...body, stream: false }, { cuts: [3, single.indexOf(Buffer.from('漢')) + 1] }),
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

test('a sequence header answers its n-th request with its n-th behaviour, then repeats the last', async (t) => {
  const f = await fake(t);
  const sequence: Behaviour = { sequence: [statusReply(503), statusReply(500), {}], tag: 'seq-1' };
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) {
    const res = await post(f, '/api/chat', { model: 'llama3.2', stream: false, messages: userSays('x') }, sequence);
    statuses.push(res.status);
    await res.arrayBuffer();
  }
  assert.deepEqual(statuses, [503, 500, 200, 200]);
  // Another tag is another sequence.
  const other = await post(
    f,
    '/api/chat',
    { model: 'llama3.2', stream: false, messages: userSays('x') },
    { ...sequence, tag: 'seq-2' },
  );
  assert.equal(other.status, 503);
  await other.arrayBuffer();
  const bad = await post(f, '/api/chat', { model: 'llama3.2', messages: userSays('x') }, { sequence: [] });
  assert.equal(bad.status, 400);
  assert.match(await bad.text(), /sequence must be a non-empty array/);
});

test('GET /_fake/requests tells another process what the server saw, by tag; files are served as given', async (t) => {
  const f = await startFakeOllama({ files: { '/page.html': { type: 'text/html', body: '<p>hi</p>' } } });
  t.after(() => f.close());
  const page = await fetch(`${f.url}/page.html`);
  assert.equal(page.headers.get('content-type'), 'text/html');
  assert.equal(await page.text(), '<p>hi</p>');
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
  // Neither the page nor the queries were recorded.
  assert.equal(f.requests.length, 1);
});

test('crlf, blankLines, bom and noFinalNewline', async (t) => {
  const f = await fake(t);
  const body = { model: 'llama3.2', prompt: 'x' };
  const tokens = ['a', 'b'];
  const lines = (await (await post(f, '/api/generate', body, { tokens })).text()).split('\n').slice(0, -1);
  assert.equal(lines.length, 3);
  const raw = Buffer.from(
    await (
      await post(f, '/api/generate', body, { tokens, crlf: true, blankLines: true, bom: true, noFinalNewline: true })
    ).arrayBuffer(),
  );
  const expected = Buffer.concat([
    Buffer.from([0xef, 0xbb, 0xbf]),
    Buffer.from(lines.map((l) => `\r\n${l}`).join('\r\n')),
  ]);
  assert.deepEqual(raw, expected);
});

test('garbageAfter, errorAfter and omitDone', async (t) => {
  const f = await fake(t);
  const body = { model: 'llama3.2', messages: userSays('x') };
  const tokens = ['a', 'b', 'c'];

  const garbage = (await (await post(f, '/api/chat', body, { tokens, garbageAfter: 1 })).text()).split('\n');
  assert.equal(garbage[1], '<html>this is not json</html>');
  assert.equal(garbage.length, 6);
  assert.equal((await closedRecord(f, 0)).chunksWritten, 4);

  const failing = await post(f, '/api/chat', body, { tokens, errorAfter: 2, errorText: 'boom <1>' });
  assert.equal(failing.status, 200);
  const failed = (await failing.text()).split('\n');
  assert.deepEqual(failed.slice(2), ['{"error":"boom \\u003c1\\u003e"}', '']);
  assert.ok(failed.slice(0, 2).every((l) => (JSON.parse(l) as Json)['done'] === false));
  const failedRecord = await closedRecord(f, 1);
  assert.equal(failedRecord.chunksWritten, 2);
  assert.equal(failedRecord.pendingChunks, 0);

  const early = await post(f, '/api/chat', body, { errorAfter: 0, errorStatus: 503 });
  assert.equal(early.status, 503);
  assert.equal(early.headers.get('content-type'), 'application/json');
  assert.equal(await early.text(), JSON.stringify({ error: DEFAULT_ERROR }));

  const notStreamed = await post(f, '/api/chat', { ...body, stream: false }, { errorAfter: 2 });
  assert.equal(notStreamed.status, 500);
  assert.equal(notStreamed.headers.get('content-type'), JSON_UTF8);
  assert.deepEqual(await notStreamed.json(), { error: DEFAULT_ERROR });

  const noDone = ndjson(await (await post(f, '/api/chat', body, { tokens, omitDone: true })).text());
  assert.equal(noDone.length, 3);
  assert.ok(noDone.every((c) => c['done'] === false));
  assert.equal((await closedRecord(f, 4)).pendingChunks, 0);
});

test('stall with stallMs pauses, then the stream continues', async (t) => {
  const f = await fake(t);
  const t0 = performance.now();
  const chunks = await streamed(
    f,
    '/api/chat',
    { model: 'llama3.2', messages: userSays('x') },
    { tokens: ['a', 'b'], stallAfter: 1, stallMs: 150 },
  );
  assert.ok(performance.now() - t0 >= 145);
  assert.equal(chunks.length, 3);
  assert.equal(chunks.at(-1)?.['done'], true);
});

test('resetAfter and closeAfter break the connection', async (t) => {
  const f = await fake(t);
  const body = { model: 'llama3.2', messages: userSays('x') };
  await assert.rejects(post(f, '/api/chat', body, { resetAfter: 0 }));
  await assert.rejects(post(f, '/api/chat', body, { closeAfter: 0 }));
  await assert.rejects(post(f, '/api/embed', { model: 'nomic-embed-text', input: 'x' }, { resetAfter: 0 }));

  const reset = await post(f, '/api/chat', body, { resetAfter: 2, chunkDelayMs: 5 });
  assert.equal(reset.status, 200);
  await assert.rejects(reset.text());
  const closed = await post(f, '/api/chat', body, { closeAfter: 2, chunkDelayMs: 5 });
  assert.equal(closed.status, 200);
  await assert.rejects(closed.text());

  const records = f.requests.slice(-2);
  await f.waitFor(() => records.every((r) => r.closedAt !== undefined), 3000);
  for (const r of records) {
    assert.equal(r.chunksWritten, 2);
    assert.equal(r.pendingChunks, 0);
    assert.equal(r.clientDisconnected, false);
  }
});

test('respond answers exactly what it is given', async (t) => {
  const f = await fake(t);
  const res = await post(
    f,
    '/api/chat',
    { model: 'llama3.2', messages: userSays('x') },
    {
      respond: {
        status: 502,
        headers: { 'content-type': 'text/html', 'x-proxy': 'nginx' },
        body: '<h1>Bad Gateway</h1>',
      },
    },
  );
  assert.equal(res.status, 502);
  assert.equal(res.headers.get('content-type'), 'text/html');
  assert.equal(res.headers.get('x-proxy'), 'nginx');
  assert.equal(await res.text(), '<h1>Bad Gateway</h1>');
});

test('a client that aborts mid-stream is recorded, and the server stops writing', async (t) => {
  const f = await fake(t);
  const ac = new AbortController();
  const tokens = Array.from({ length: 20 }, (_, k) => `t${k}`);
  const res = await post(
    f,
    '/api/chat',
    { model: 'llama3.2', messages: userSays('x') },
    { tokens, chunkDelayMs: 25 },
    ac.signal,
  );
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  let newlines = 0;
  for (let k = 0; k < 100 && newlines < 2; k++) {
    const { value, done } = await reader.read();
    if (done) break;
    newlines += value.filter((c) => c === 0x0a).length;
  }
  ac.abort();
  await reader.read().catch(() => undefined);
  const rec = await closedRecord(f);
  assert.equal(rec.clientDisconnected, true);
  assert.ok(rec.pendingChunks > 0);
  assert.equal(rec.chunksWritten + rec.pendingChunks, tokens.length + 1);
  const written = rec.chunksWritten;
  await new Promise((resolve) => setTimeout(resolve, 80));
  assert.equal(rec.chunksWritten, written);
});

test('the x-fake-behaviour header wins over the queue and does not consume it', async (t) => {
  const f = await fake(t);
  const body = { model: 'llama3.2', messages: userSays('x') };
  f.script({ tokens: ['queued'] }, { tokens: ['second'] });
  const fromHeader = ndjson(await (await post(f, '/api/chat', body, { tokens: ['header'] })).text());
  assert.equal(message(fromHeader[0])['content'], 'header');
  assert.equal(((await (await fetch(f.url + '/api/version')).json()) as Json)['version'], '0.12.0');
  const queued = ndjson(await (await post(f, '/api/chat', body)).text());
  assert.equal(message(queued[0])['content'], 'queued');
  const second = (await (
    await post(f, '/api/generate', { model: 'llama3.2', prompt: 'x', stream: false })
  ).json()) as Json;
  assert.equal(second['response'], 'second');
  const unscripted = ndjson(await (await post(f, '/api/chat', body)).text());
  assert.equal(message(unscripted[0])['content'], 'You');

  // Outside the model endpoints only the header applies.
  const t0 = performance.now();
  const tags = await fetch(f.url + '/api/tags', { headers: behaviourHeader({ headersDelayMs: 60 }) });
  assert.ok(performance.now() - t0 >= 55);
  assert.equal(tags.status, 200);
  await tags.json();
  const broken = await fetch(f.url + '/api/version', {
    headers: behaviourHeader({ respond: { status: 500, body: 'nope' } }),
  });
  assert.equal(await broken.text(), 'nope');
});

test('close() ends stalled responses, before and after the headers', async (t) => {
  const f = await fake(t);
  const body = { model: 'llama3.2', messages: userSays('x') };
  const beforeHeaders = post(f, '/api/chat', body, { stallAfter: 0 });
  beforeHeaders.catch(() => undefined);
  const midStream = await post(f, '/api/chat', body, { stallAfter: 2 });
  const text = midStream.text();
  text.catch(() => undefined);
  await f.waitFor((r) => r.length === 2 && r.every((x) => x.receivedAt > 0), 2000);
  await f.waitFor((r) => r.some((x) => x.chunksWritten === 2), 2000);
  await f.close();
  await assert.rejects(beforeHeaders);
  await assert.rejects(text);
  for (const r of f.requests) {
    assert.notEqual(r.closedAt, undefined);
    assert.equal(r.clientDisconnected, false);
    assert.ok(r.pendingChunks > 0);
  }
});

test('stream:false honours stall and respond; waitFor explains a timeout', async (t) => {
  const f = await fake(t);
  const t0 = performance.now();
  const stalled = await post(
    f,
    '/api/chat',
    { model: 'llama3.2', stream: false, messages: userSays('x') },
    { stallAfter: 3, stallMs: 100 },
  );
  assert.ok(performance.now() - t0 >= 95);
  assert.equal(((await stalled.json()) as Json)['done'], true);
  const answered = await post(
    f,
    '/api/generate',
    { model: 'llama3.2', prompt: 'x', stream: false },
    { respond: { status: 200, body: 'not json' } },
  );
  assert.equal(await answered.text(), 'not json');

  await assert.rejects(
    f.waitFor((r) => r.length > 99, 40),
    /condition still false after 40 ms.*POST \/api\/chat/,
  );
});

// ------------------------------------------------------------------------------------------------
// Model management: ps, show, copy, delete, pull, push, create, blobs; and request overlap.

const NDJSON = 'application/x-ndjson';

function send(f: FakeOllama, method: string, path: string, body?: unknown, behaviour?: Behaviour): Promise<Response> {
  return fetch(f.url + path, {
    method,
    ...(body === undefined
      ? {}
      : {
          body:
            typeof body === 'string' ? body : body instanceof Uint8Array ? new Uint8Array(body) : JSON.stringify(body),
        }),
    headers: behaviour ? behaviourHeader(behaviour) : {},
  });
}

async function progressOf(f: FakeOllama, path: string, body: unknown, behaviour?: Behaviour): Promise<Json[]> {
  const res = await post(f, path, body, behaviour);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), NDJSON);
  const text = await res.text();
  assert.ok(text.endsWith('\n'));
  return ndjson(text);
}

async function errorOf(res: Response, status: number, error: string, type = JSON_UTF8): Promise<void> {
  assert.equal(res.status, status, error);
  assert.equal(res.headers.get('content-type'), type, error);
  assert.equal(await res.text(), JSON.stringify({ error }));
}

async function emptyOk(res: Response, status = 200): Promise<void> {
  assert.equal(res.status, status);
  assert.equal(res.headers.get('content-type'), null);
  assert.equal(res.headers.get('content-length'), '0');
  assert.equal(await res.text(), '');
}

const statuses = (lines: Json[]): unknown[] => lines.map((l) => l['status']);

// `<verb> <12 hex>` lines: whole layers one after the other, the biggest first, `completed`
// growing within each layer up to its `total`. Returns the layer digests in order.
function checkTransfer(lines: Json[], verb: 'pulling' | 'pushing'): string[] {
  const layers: Array<{ digest: string; total: number; completed: number }> = [];
  for (const line of lines) {
    assert.deepEqual(Object.keys(line), ['status', 'digest', 'total', 'completed']);
    const digest = line['digest'] as string;
    assert.match(digest, /^sha256:[0-9a-f]{64}$/);
    assert.equal(line['status'], `${verb} ${digest.slice(7, 19)}`);
    const total = line['total'] as number;
    const completed = line['completed'] as number;
    const current = layers.at(-1);
    if (current?.digest === digest) {
      assert.ok(completed >= current.completed, 'completed never goes back');
      assert.equal(total, current.total);
      current.completed = completed;
    } else {
      assert.ok(!layers.some((l) => l.digest === digest), 'a layer is sent in one piece');
      if (current !== undefined) assert.equal(current.completed, current.total, 'the previous layer finished');
      layers.push({ digest, total, completed });
    }
    assert.ok(completed > 0 && completed <= total);
  }
  const last = layers.at(-1);
  if (last !== undefined) assert.equal(last.completed, last.total);
  if (layers.length > 1)
    assert.ok(
      layers.slice(1).every((l) => l.total < (layers[0]?.total ?? 0)),
      'the big layer first',
    );
  return layers.map((l) => l.digest);
}

test('GET /api/ps: one loaded model; only the header applies', async (t) => {
  const f = await fake(t);
  const res = await fetch(f.url + '/api/ps');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), JSON_UTF8);
  const { models } = (await res.json()) as { models: Json[] };
  assert.equal(models.length, 1);
  const loaded = models[0] as Json;
  assert.deepEqual(Object.keys(loaded), [
    'name',
    'model',
    'size',
    'digest',
    'details',
    'expires_at',
    'size_vram',
    'context_length',
  ]);
  assert.equal(loaded['name'], 'llama3.2:latest');
  assert.equal(loaded['model'], 'llama3.2:latest');
  assert.match(loaded['digest'] as string, /^[0-9a-f]{64}$/);
  assert.match(loaded['expires_at'] as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+[+-]\d\d:\d\d$/);
  assert.equal(loaded['size_vram'], loaded['size']);
  assert.equal(loaded['context_length'], 4096);
  assert.equal((loaded['details'] as Json)['family'], 'llama');
  const tags = (await (await fetch(f.url + '/api/tags')).json()) as { models: Json[] };
  assert.equal(tags.models.find((m) => m['name'] === 'llama3.2:latest')?.['digest'], loaded['digest']);

  f.script({ respond: { status: 500, body: 'queued' } });
  const slowed = performance.now();
  const delayed = await fetch(f.url + '/api/ps', { headers: behaviourHeader({ headersDelayMs: 60 }) });
  assert.ok(performance.now() - slowed >= 55);
  assert.equal(delayed.status, 200);
  await delayed.text();
  assert.equal((await fetch(f.url + '/api/ps')).status, 200, 'the queue is left alone');
  assert.equal(await (await post(f, '/api/show', { model: 'llama3.2' })).text(), 'queued');
  assert.equal((await fetch(f.url + '/api/ps', { method: 'HEAD' })).status, 405);
});

test('POST /api/show: plain and verbose answers, legacy name, errors', async (t) => {
  const f = await fake(t);
  const res = await post(f, '/api/show', { model: 'llama3.2' });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), JSON_UTF8);
  const text = await res.text();
  assert.ok(!/[<>]/.test(text), 'the template is escaped the Go way');
  const plain = JSON.parse(text) as Json;
  assert.deepEqual(Object.keys(plain), [
    'license',
    'modelfile',
    'parameters',
    'template',
    'details',
    'model_info',
    'capabilities',
    'modified_at',
  ]);
  assert.match(plain['license'] as string, /^LLAMA 3\.2 COMMUNITY LICENSE/);
  assert.match(
    plain['modelfile'] as string,
    /^# Modelfile generated by "ollama show"\n[\s\S]*\nFROM \/\S+\/blobs\/sha256-[0-9a-f]{64}\n/,
  );
  assert.equal(
    plain['parameters'],
    ['stop', 'stop', 'stop']
      .map((k, i) => `${k.padEnd(30)} ${JSON.stringify(['<|start_header_id|>', '<|end_header_id|>', '<|eot_id|>'][i])}`)
      .join('\n'),
  );
  assert.match(plain['template'] as string, /<\|start_header_id\|>/);
  assert.deepEqual(plain['details'], {
    parent_model: '',
    format: 'gguf',
    family: 'llama',
    families: ['llama'],
    parameter_size: '3.2B',
    quantization_level: 'Q4_K_M',
  });
  assert.deepEqual(plain['capabilities'], ['completion', 'tools']);
  assert.equal(plain['modified_at'], '2025-12-01T09:15:42.318274913+01:00');
  const info = plain['model_info'] as Json;
  assert.deepEqual(Object.keys(info), Object.keys(info).sort(), 'Go sorts map keys');
  assert.equal(info['general.architecture'], 'llama');
  assert.equal(info['llama.context_length'], 131072);
  assert.equal(info['tokenizer.ggml.tokens'], undefined);
  assert.equal(plain['tensors'], undefined);

  const verbose = (await (await post(f, '/api/show', { name: 'LLAMA3.2:latest', verbose: true })).json()) as Json;
  const verboseInfo = verbose['model_info'] as Json;
  assert.ok(Object.keys(verboseInfo).length > Object.keys(info).length);
  for (const key of ['tokenizer.ggml.tokens', 'tokenizer.ggml.token_type', 'tokenizer.ggml.merges']) {
    assert.ok((verboseInfo[key] as unknown[]).length > 5, key);
  }
  const tensors = verbose['tensors'] as Json[];
  assert.deepEqual(tensors[0], { name: 'token_embd.weight', type: 'Q4_K', shape: [3072, 128256] });
  assert.deepEqual(Object.keys(verbose).slice(-3), ['tensors', 'capabilities', 'modified_at']);

  const embedder = (await (await post(f, '/api/show', { model: 'nomic-embed-text' })).json()) as Json;
  assert.deepEqual(embedder['capabilities'], ['embedding']);
  assert.equal((embedder['model_info'] as Json)['nomic-bert.embedding_length'], 768);
  const withSystem = (await (await post(f, '/api/show', { model: 'qwen3', system: 'Be terse.' })).json()) as Json;
  assert.equal(withSystem['system'], 'Be terse.');
  assert.match(withSystem['modelfile'] as string, /\nSYSTEM """Be terse\."""\n/);

  await errorOf(await post(f, '/api/show', {}), 400, 'model is required');
  await errorOf(await post(f, '/api/show', { model: '', name: '' }), 400, 'model is required');
  await errorOf(await post(f, '/api/show', { model: 'bad name!' }), 400, 'invalid model name');
  await errorOf(await post(f, '/api/show', { model: 'llama9' }), 404, "model 'llama9' not found");
  await errorOf(await post(f, '/api/show', ''), 400, 'missing request body');
  await errorOf(
    await post(f, '/api/show', { model: 'llama3.2', verbose: 'yes' }),
    400,
    'json: cannot unmarshal string into Go struct field ShowRequest.verbose of type bool',
  );
  assert.equal((await fetch(f.url + '/api/show')).status, 405);
});

test('POST /api/copy and DELETE /api/delete: empty 200s, the registry follows, errors', async (t) => {
  const f = await fake(t);
  await emptyOk(await post(f, '/api/copy', { source: 'llama3.2', destination: 'alice/llama-copy:v1' }));
  assert.deepEqual(f.models(), ['alice/llama-copy:v1', 'llama3.2:latest', 'qwen3:latest', 'nomic-embed-text:latest']);
  const tags = (await (await fetch(f.url + '/api/tags')).json()) as { models: Json[] };
  assert.equal(tags.models[0]?.['digest'], tags.models[1]?.['digest'], 'the same manifest under a second name');
  assert.equal(tags.models[0]?.['modified_at'], '2026-01-01T00:00:01Z');
  const copied = (await (await post(f, '/api/show', { model: 'Alice/Llama-Copy:v1' })).json()) as Json;
  assert.equal((copied['details'] as Json)['family'], 'llama');
  const chat = await post(f, '/api/chat', { model: 'alice/llama-copy:v1', stream: false, messages: userSays('hi') });
  assert.equal(chat.status, 200, 'a copy can be used at once');
  await emptyOk(await post(f, '/api/copy', { source: 'qwen3', destination: 'qwen3:latest' }), 200);
  assert.equal(f.models().length, 4, 'copying onto itself changes nothing');

  await errorOf(await post(f, '/api/copy', { source: 'ghost', destination: 'x' }), 404, 'model "ghost" not found');
  await errorOf(await post(f, '/api/copy', { source: '', destination: 'x' }), 400, 'source "" is invalid');
  await errorOf(
    await post(f, '/api/copy', { source: 'llama3.2', destination: 'bad name!' }),
    400,
    'destination "bad name!" is invalid',
  );
  await errorOf(
    await post(f, '/api/copy', { source: 'ghost', destination: 'a:b:c' }),
    400,
    'destination "a:b:c" is invalid',
  );

  await emptyOk(await send(f, 'DELETE', '/api/delete', { model: 'alice/llama-copy:v1' }));
  assert.deepEqual(f.models(), ['llama3.2:latest', 'qwen3:latest', 'nomic-embed-text:latest']);
  await errorOf(
    await send(f, 'DELETE', '/api/delete', { model: 'alice/llama-copy:v1' }),
    404,
    "model 'alice/llama-copy:v1' not found",
  );
  await emptyOk(await send(f, 'DELETE', '/api/delete', { name: 'QWEN3' }), 200);
  assert.ok(!f.models().includes('qwen3:latest'));
  await errorOf(
    await post(f, '/api/chat', { model: 'qwen3', messages: userSays('x') }),
    404,
    "model 'qwen3' not found",
  );
  await errorOf(await send(f, 'DELETE', '/api/delete', { model: 'ghost' }), 404, "model 'ghost' not found");
  await errorOf(await send(f, 'DELETE', '/api/delete', {}), 400, 'name "" is invalid');
  await errorOf(await send(f, 'DELETE', '/api/delete', { model: 'a/b/c/d' }), 400, 'name "a/b/c/d" is invalid');
  await errorOf(await send(f, 'DELETE', '/api/delete'), 400, 'missing request body');
  assert.equal((await post(f, '/api/delete', { model: 'llama3.2' })).status, 405);

  const other = await fake(t);
  assert.deepEqual(
    other.models(),
    ['llama3.2:latest', 'qwen3:latest', 'nomic-embed-text:latest'],
    'each server has its own models',
  );
});

test('POST /api/pull: the progress sequence, and exactly progressUpdates pulling lines', async (t) => {
  const f = await fake(t);
  const lines = await progressOf(f, '/api/pull', { model: 'tinyllama' });
  assert.equal(lines.length, 1 + 6 + 3);
  assert.deepEqual(lines[0], { status: 'pulling manifest' });
  assert.deepEqual(lines.slice(-3), [
    { status: 'verifying sha256 digest' },
    { status: 'writing manifest' },
    { status: 'success' },
  ]);
  const layers = checkTransfer(lines.slice(1, -3), 'pulling');
  assert.equal(layers.length, 3);
  assert.equal(
    lines.slice(1, -3).filter((l) => l['digest'] === layers[0]).length,
    4,
    'the weights take most of the lines',
  );
  assert.equal(
    lines.slice(1, -3).reduce((sum, l) => sum + (l['digest'] === layers[0] ? 0 : 1), 0),
    2,
  );
  assert.ok(f.models().includes('tinyllama:latest'));
  const tags = (await (await fetch(f.url + '/api/tags')).json()) as { models: Json[] };
  assert.equal(tags.models[0]?.['name'], 'tinyllama:latest', 'the newest manifest is listed first');
  assert.equal(
    tags.models[0]?.['size'],
    lines.slice(1, -3).reduce((sum, l) => sum + (l['completed'] === l['total'] ? (l['total'] as number) : 0), 0),
    'the layers add up to the listed size',
  );
  assert.equal((await post(f, '/api/generate', { model: 'tinyllama', prompt: 'hi', stream: false })).status, 200);

  for (const progressUpdates of [0, 1, 2, 3, 20, 197]) {
    const counted = await progressOf(f, '/api/pull', { model: 'All-MiniLM' }, { progressUpdates });
    assert.equal(counted.length, 1 + progressUpdates + 3, `progressUpdates ${progressUpdates}`);
    const pulling = counted.slice(1, -3);
    assert.ok(pulling.every((l) => (l['status'] as string).startsWith('pulling ')));
    checkTransfer(pulling, 'pulling');
  }
  const qualified = await progressOf(f, '/api/pull', {
    name: 'registry.ollama.ai/library/llama3.2:latest',
    insecure: true,
  });
  assert.equal(qualified.at(-1)?.['status'], 'success');

  const single = await post(f, '/api/pull', { model: 'tinyllama', stream: false });
  assert.equal(single.status, 200);
  assert.equal(single.headers.get('content-type'), 'application/json');
  assert.equal(await single.text(), '{"status":"success"}');
});

test('POST /api/pull: a model the registry lacks, and a bad name', async (t) => {
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
  await errorOf(
    await post(f, '/api/pull', { model: 'mistral', stream: false }),
    500,
    'pull model manifest: file does not exist',
    'application/json',
  );
  await errorOf(await post(f, '/api/pull', {}), 400, 'invalid model name');
  await errorOf(await post(f, '/api/pull', { model: 'bad name!' }), 400, 'invalid model name');
  await errorOf(
    await post(f, '/api/pull', { model: 7 }),
    400,
    'json: cannot unmarshal number into Go struct field PullRequest.model of type string',
  );
  assert.deepEqual(f.models(), ['llama3.2:latest', 'qwen3:latest', 'nomic-embed-text:latest']);
  const record = await closedRecord(f, 0);
  assert.equal(record.chunksWritten, 1);
  assert.equal(record.pendingChunks, 0);
});

test('POST /api/pull: the stream knobs apply, and an interrupted pull installs nothing', async (t) => {
  const f = await fake(t);
  const body = { model: 'tinyllama' };
  const t0 = performance.now();
  const paced = await progressOf(f, '/api/pull', body, { progressUpdates: 3, chunkDelayMs: 30 });
  assert.equal(paced.length, 7);
  assert.ok(performance.now() - t0 >= 6 * 30 - 10, 'a pause between lines');
  const plainBytes = Buffer.from(await (await post(f, '/api/pull', body)).arrayBuffer());
  await emptyOk(await send(f, 'DELETE', '/api/delete', body));

  const failing = await post(f, '/api/pull', body, { errorAfter: 2, errorText: 'disk full' });
  assert.equal(failing.status, 200);
  const failed = ndjson(await failing.text());
  assert.deepEqual(failed.at(-1), { error: 'disk full' });
  assert.equal(failed.length, 3);
  await errorOf(
    await post(f, '/api/pull', body, { errorAfter: 0, errorStatus: 503 }),
    503,
    DEFAULT_ERROR,
    'application/json',
  );
  await assert.rejects((await post(f, '/api/pull', body, { resetAfter: 3 })).text());
  await assert.rejects(post(f, '/api/pull', body, { closeAfter: 0 }));
  await assert.rejects((await post(f, '/api/pull', body, { closeAfter: 9 })).text());
  const garbled = await post(f, '/api/pull', body, { respond: { status: 502, body: 'bad gateway' } });
  assert.equal(await garbled.text(), 'bad gateway');
  await f.waitFor((r) => r.every((x) => x.closedAt !== undefined), 3000);
  assert.ok(!f.models().includes('tinyllama:latest'), 'no interrupted or replaced pull installed the model');

  const noSuccess = await progressOf(f, '/api/pull', body, { omitDone: true });
  assert.equal(noSuccess.length, 1 + 6 + 2);
  assert.equal(noSuccess.at(-1)?.['status'], 'writing manifest');
  const stalled = performance.now();
  const resumed = await progressOf(f, '/api/pull', body, { stallAfter: 1, stallMs: 100, headersDelayMs: 50 });
  assert.ok(performance.now() - stalled >= 145);
  assert.equal(resumed.at(-1)?.['status'], 'success');
  const pieces = await reads(await post(f, '/api/pull', body, { cuts: [5, 40, 200] }));
  assert.ok(pieces.length >= 4);
  assert.deepEqual(Buffer.concat(pieces), plainBytes, 'the same bytes whatever the cuts');

  const notStreamed = await post(f, '/api/pull', { ...body, stream: false }, { errorAfter: 4 });
  await errorOf(notStreamed, 500, DEFAULT_ERROR, 'application/json');
  const lastAnswer = await post(f, '/api/pull', { ...body, stream: false }, { omitDone: true });
  assert.equal(await lastAnswer.text(), '{"status":"writing manifest"}');
});

test('management endpoints take the scripted queue when no header is sent: 503, then the real answer', async (t) => {
  const f = await fake(t);
  f.script(statusReply(503, '1'), {}, statusReply(503, '2'), { headersDelayMs: 60 });
  const busy = await post(f, '/api/pull', { model: 'all-minilm' });
  assert.equal(busy.status, 503);
  assert.equal(busy.headers.get('retry-after'), '1');
  assert.deepEqual(await busy.json(), { error: BUSY_TEXT });
  assert.ok(!f.models().includes('all-minilm:latest'), 'a 503 did nothing');
  assert.equal((await fetch(f.url + '/api/tags')).status, 200, 'listings do not take from the queue');
  assert.equal((await fetch(f.url + '/api/ps')).status, 200);
  const pulled = await progressOf(f, '/api/pull', { model: 'all-minilm' });
  assert.equal(pulled.at(-1)?.['status'], 'success');
  assert.ok(f.models().includes('all-minilm:latest'));

  assert.equal((await send(f, 'DELETE', '/api/delete', { model: 'all-minilm' })).status, 503);
  assert.ok(f.models().includes('all-minilm:latest'));
  const t0 = performance.now();
  await emptyOk(await send(f, 'DELETE', '/api/delete', { model: 'all-minilm' }));
  assert.ok(performance.now() - t0 >= 55, 'headersDelayMs from the queue');
  assert.ok(!f.models().includes('all-minilm:latest'));

  f.script({ respond: { status: 500, body: 'queued' } });
  const fromHeader = await post(
    f,
    '/api/copy',
    { source: 'llama3.2', destination: 'x' },
    { respond: { status: 418, body: 'header' } },
  );
  assert.equal(await fromHeader.text(), 'header');
  assert.equal(
    await (await send(f, 'HEAD', `/api/blobs/sha256:${'0'.repeat(64)}`)).status,
    500,
    'HEAD takes from the queue too',
  );
});

test('one-object answers: respond, headersDelayMs, stallAfter, resetAfter 0 and closeAfter 0', async (t) => {
  const f = await fake(t);
  const blob = `/api/blobs/sha256:${'0'.repeat(64)}`;
  const cases: Array<[string, string, unknown]> = [
    ['POST', '/api/show', { model: 'llama3.2' }],
    ['POST', '/api/copy', { source: 'llama3.2', destination: 'copy' }],
    ['DELETE', '/api/delete', { model: 'qwen3' }],
    ['HEAD', blob, undefined],
    ['POST', blob, 'bytes'],
    ['POST', '/api/pull', { model: 'tinyllama', stream: false }],
  ];
  for (const [method, path, body] of cases) {
    const answered = await send(f, method, path, body, {
      respond: { status: 299, headers: { 'x-scripted': 'yes' }, body: '' },
    });
    assert.equal(answered.status, 299, path);
    assert.equal(answered.headers.get('x-scripted'), 'yes');
    await answered.text();
    await assert.rejects(send(f, method, path, body, { resetAfter: 0 }), `${method} ${path} reset`);
    await assert.rejects(send(f, method, path, body, { closeAfter: 0 }), `${method} ${path} closed`);
    const t0 = performance.now();
    const late = await send(f, method, path, body, { headersDelayMs: 80 });
    assert.ok(performance.now() - t0 >= 75, `${method} ${path} delayed`);
    assert.ok(late.status < 500);
    await late.text();
  }
  const t1 = performance.now();
  const stalled = await post(f, '/api/show', { model: 'llama3.2' }, { stallAfter: 0, stallMs: 80 });
  assert.ok(performance.now() - t1 >= 75);
  assert.equal(stalled.status, 200);
  await stalled.text();
  await errorOf(await post(f, '/api/show', { model: 'llama3.2' }, { errorAfter: 0, errorText: 'nope' }), 500, 'nope');
  // The pull was the last write, so it is listed first; the copies and the delete went through
  // only where an answer of the stand-in's own went out.
  assert.deepEqual(f.models(), ['tinyllama:latest', 'copy:latest', 'llama3.2:latest', 'nomic-embed-text:latest']);
});

test('POST /api/push: progress to success, errors', async (t) => {
  const f = await fake(t);
  const lines = await progressOf(f, '/api/push', { model: 'llama3.2' });
  assert.equal(lines.length, 1 + 6 + 2);
  assert.deepEqual(lines[0], { status: 'retrieving manifest' });
  assert.deepEqual(lines.slice(-2), [{ status: 'pushing manifest' }, { status: 'success' }]);
  assert.equal(checkTransfer(lines.slice(1, -2), 'pushing').length, 3);
  for (const progressUpdates of [0, 2, 50]) {
    assert.equal(
      (await progressOf(f, '/api/push', { name: 'llama3.2' }, { progressUpdates })).length,
      1 + progressUpdates + 2,
    );
  }
  const single = await post(f, '/api/push', { model: 'llama3.2', stream: false });
  assert.equal(single.headers.get('content-type'), 'application/json');
  assert.equal(await single.text(), '{"status":"success"}');
  assert.equal(
    (await progressOf(f, '/api/push', { model: 'llama3.2' }, { omitDone: true })).at(-1)?.['status'],
    'pushing manifest',
  );

  await errorOf(await post(f, '/api/push', {}), 400, 'model is required');
  await errorOf(await post(f, '/api/push', { model: '', name: '' }), 400, 'model is required');
  const missing =
    'open /usr/share/ollama/.ollama/models/manifests/registry.ollama.ai/library/ghost/latest: no such file or directory';
  assert.deepEqual(await progressOf(f, '/api/push', { model: 'ghost' }), [
    { status: 'retrieving manifest' },
    { status: "couldn't retrieve manifest" },
    { error: missing },
  ]);
  await errorOf(await post(f, '/api/push', { model: 'ghost', stream: false }), 500, missing, 'application/json');
});

test('POST /api/create: from a model, from an uploaded GGUF, and every error', async (t) => {
  const f = await fake(t);
  const fromModel = await progressOf(f, '/api/create', {
    model: 'alice/terse',
    from: 'llama3.2',
    system: 'Be terse.',
    parameters: { temperature: 0.2 },
    license: ['MIT'],
  });
  const notes = statuses(fromModel) as string[];
  assert.deepEqual(notes.slice(-2), ['writing manifest', 'success']);
  assert.match(notes[0] ?? '', /^using existing layer sha256:[0-9a-f]{64}$/, 'the weights');
  assert.equal(notes.filter((s) => s.startsWith('using existing layer ')).length, 2, 'weights and template are reused');
  assert.equal(notes.filter((s) => s.startsWith('creating new layer ')).length, 3, 'system, license, parameters');
  assert.ok(f.models().includes('alice/terse:latest'));
  const shown = (await (await post(f, '/api/show', { model: 'alice/terse' })).json()) as Json;
  assert.equal(shown['system'], 'Be terse.');
  assert.equal((shown['details'] as Json)['parent_model'], 'llama3.2:latest');
  const parameters = (shown['parameters'] as string).split('\n');
  assert.equal(parameters[0], `${'stop'.padEnd(30)} "<|start_header_id|>"`);
  assert.equal(parameters.at(-1), `${'temperature'.padEnd(30)} 0.2`);
  assert.match(shown['license'] as string, /\nMIT$/);
  // The same again: every layer now exists.
  const again = statuses(
    await progressOf(f, '/api/create', {
      model: 'alice/terse',
      from: 'llama3.2',
      system: 'Be terse.',
      parameters: { temperature: 0.2 },
      license: ['MIT'],
    }),
  ) as string[];
  assert.ok(again.slice(0, -2).every((s) => s.startsWith('using existing layer ')));

  const gguf = Buffer.from('GGUF\x03\x00\x00\x00 a tiny fake model');
  const digest = `sha256:${createHash('sha256').update(gguf).digest('hex')}`;
  assert.equal((await send(f, 'POST', `/api/blobs/${digest}`, gguf)).status, 201);
  // A template no model has yet is a new layer; one that exists (nomic-embed-text's) is reused.
  const template = '{{ .System }} {{ .Prompt }}';
  const fromFile = await progressOf(f, '/api/create', { model: 'imported', files: { 'model.gguf': digest }, template });
  assert.deepEqual(statuses(fromFile), [
    'parsing GGUF',
    `using existing layer ${digest}`,
    `creating new layer sha256:${createHash('sha256').update(template).digest('hex')}`,
    'writing manifest',
    'success',
  ]);
  const reused = statuses(
    await progressOf(f, '/api/create', { model: 'plain', files: { 'm.bin': digest }, template: '{{ .Prompt }}' }),
  );
  assert.match(reused[2] as string, /^using existing layer /);
  const imported = (await (await fetch(f.url + '/api/tags')).json()) as { models: Json[] };
  assert.equal(imported.models[1]?.['name'], 'imported:latest');
  assert.equal(imported.models[1]?.['size'], gguf.length + template.length);
  const quantized = statuses(
    await progressOf(f, '/api/create', { model: 'imported:q8', from: 'imported', quantize: 'q8_0' }),
  ) as string[];
  assert.equal(quantized[0], 'quantizing F16 model to Q8_0');
  assert.match(quantized[1] ?? '', /^creating new layer /);
  const single = await post(f, '/api/create', { model: 'imported:again', from: 'imported', stream: false });
  assert.equal(single.headers.get('content-type'), 'application/json');
  assert.equal(await single.text(), '{"status":"success"}');

  // A base that is not installed is pulled first, its own `success` included.
  const pulledBase = statuses(
    await progressOf(f, '/api/create', { model: 'chatty', from: 'tinyllama', system: 'Hi.' }, { progressUpdates: 2 }),
  );
  assert.deepEqual(pulledBase.slice(0, 6), [
    'pulling manifest',
    pulledBase[1],
    pulledBase[2],
    'verifying sha256 digest',
    'writing manifest',
    'success',
  ]);
  assert.ok(f.models().includes('tinyllama:latest') && f.models().includes('chatty:latest'));

  await errorOf(await post(f, '/api/create', { from: 'llama3.2' }), 400, 'invalid model name');
  await errorOf(await post(f, '/api/create', { model: 'bad name!', from: 'llama3.2' }), 400, 'invalid model name');
  await errorOf(
    await post(f, '/api/create', { model: 'm', files: { 'model.gguf': '' } }),
    400,
    'invalid digest format',
  );
  await errorOf(
    await post(f, '/api/create', { model: 'm', files: { 'model.gguf': 'sha256:xyz' } }),
    400,
    'invalid digest format',
  );
  await errorOf(
    await post(f, '/api/create', { model: 'm', files: { 'model.gguf': 7 } }),
    400,
    'json: cannot unmarshal number into Go struct field CreateRequest.files of type string',
  );
  await errorOf(
    await post(f, '/api/create', { model: 'm' }),
    400,
    "neither 'from' or 'files' was specified",
    'application/json',
  );
  await errorOf(
    await post(f, '/api/create', { model: 'm', from: 'bad name!' }),
    400,
    'invalid model name',
    'application/json',
  );
  await errorOf(
    await post(f, '/api/create', { model: 'm', files: { 'notes.txt': digest } }),
    400,
    'unknown type',
    'application/json',
  );
  await errorOf(
    await post(f, '/api/create', { model: 'm', from: 'llama3.2', quantize: 'q4_k_m' }),
    500,
    'quantization is only supported for F16 and F32 models',
    'application/json',
  );
  await errorOf(
    await post(f, '/api/create', { model: 'm', from: 'imported', quantize: 'q2_k' }),
    500,
    'unsupported quantization type Q2_K - supported types are F32, F16, Q4_K_S, Q4_K_M, Q8_0',
    'application/json',
  );

  const absent = '0'.repeat(64);
  assert.deepEqual(await progressOf(f, '/api/create', { model: 'm', files: { 'model.gguf': `sha256:${absent}` } }), [
    { status: 'parsing GGUF' },
    { error: `open /usr/share/ollama/.ollama/models/blobs/sha256-${absent}: no such file or directory` },
  ]);
  const text = Buffer.from('not a gguf file');
  const textDigest = `sha256:${createHash('sha256').update(text).digest('hex')}`;
  assert.equal((await send(f, 'POST', `/api/blobs/${textDigest}`, text)).status, 201);
  assert.deepEqual(await progressOf(f, '/api/create', { model: 'm', files: { 'model.gguf': textDigest } }), [
    { status: 'parsing GGUF' },
    { error: 'supplied file was not in GGUF format' },
  ]);
  await errorOf(
    await post(f, '/api/create', { model: 'm', files: { 'model.gguf': textDigest }, stream: false }),
    400,
    'supplied file was not in GGUF format',
    'application/json',
  );
  assert.deepEqual(await progressOf(f, '/api/create', { model: 'm', from: 'ghost' }), [
    { status: 'pulling manifest' },
    { error: 'pull model manifest: file does not exist' },
  ]);
  assert.ok(!f.models().includes('m:latest'));

  const cut = await post(f, '/api/create', { model: 'late', from: 'llama3.2' }, { resetAfter: 1 });
  await assert.rejects(cut.text());
  const noDone = await progressOf(
    f,
    '/api/create',
    { model: 'quiet', from: 'llama3.2' },
    { omitDone: true, chunkDelayMs: 5 },
  );
  assert.equal(noDone.at(-1)?.['status'], 'writing manifest');
  await f.waitFor((r) => r.every((x) => x.closedAt !== undefined), 3000);
  assert.ok(!f.models().includes('late:latest'));
});

test('/api/blobs/:digest: a 3 MB upload, HEAD, mismatch, bad digests, routes', async (t) => {
  const f = await fake(t);
  const bytes = Buffer.alloc(3 * 1024 * 1024);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + (i >> 10)) & 255;
  const hex = createHash('sha256').update(bytes).digest('hex');
  const digest = `sha256:${hex}`;
  const path = `/api/blobs/${digest}`;

  const before = await send(f, 'HEAD', path);
  assert.equal(before.status, 404);
  assert.equal(before.headers.get('content-type'), JSON_UTF8);
  assert.equal(
    before.headers.get('content-length'),
    String(JSON.stringify({ error: `blob "${digest}" not found` }).length),
  );
  assert.equal(await before.text(), '', 'HEAD has no body');

  await emptyOk(await send(f, 'POST', path, bytes), 201);
  assert.ok(f.blobs.get(digest)?.equals(bytes));
  assert.deepEqual([...f.blobs.keys()], [digest]);
  await emptyOk(await send(f, 'HEAD', path));
  await emptyOk(await send(f, 'HEAD', `/api/blobs/sha256-${hex}`), 200);
  await emptyOk(await send(f, 'HEAD', `/api/blobs/sha256%3A${hex}`), 200);
  await emptyOk(await send(f, 'POST', path, 'anything at all'), 200);
  assert.ok(f.blobs.get(digest)?.equals(bytes), 'an existing blob is not replaced');
  assert.equal(f.requests.at(-1)?.rawBody.toString(), 'anything at all');

  const small = Buffer.from('adapter weights');
  const smallDigest = `sha256:${createHash('sha256').update(small).digest('hex')}`;
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
  assert.equal(f.blobs.size, 1);
  for (const bad of ['sha256:abc', 'md5:' + '0'.repeat(64), 'sha256:' + 'g'.repeat(64), 'sha256:' + '0'.repeat(65)]) {
    await errorOf(await send(f, 'POST', `/api/blobs/${bad}`, small), 400, 'invalid digest format');
    const head = await send(f, 'HEAD', `/api/blobs/${bad}`);
    assert.equal(head.status, 400);
    assert.equal(await head.text(), '');
  }
  const pulledLayer = ((await progressOf(f, '/api/pull', { model: 'tinyllama' }))[1] as Json)['digest'] as string;
  await emptyOk(await send(f, 'HEAD', `/api/blobs/${pulledLayer}`), 200);
  assert.equal(f.blobs.size, 1, 'pulled layers hold no bytes here');

  assert.equal((await send(f, 'GET', path)).status, 405);
  assert.equal((await send(f, 'DELETE', path)).status, 405);
  for (const missing of ['/api/blobs/', '/api/blobs', `/api/blobs/${digest}/x`]) {
    const res = await send(f, 'HEAD', missing);
    assert.equal(res.status, 404, missing);
  }
  const recorded = f.requests.find((r) => r.method === 'POST' && r.path === path);
  assert.equal(recorded?.rawBody.length, bytes.length);
});

test('concurrent: requests to the same path in flight when the body had arrived', async (t) => {
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

  const serial = await fake(t);
  for (let k = 0; k < 3; k++)
    await (await post(serial, '/api/embed', { model, input: 'x' }, { headersDelayMs: 20 })).json();
  assert.deepEqual(
    serial.requests.map((r) => r.concurrent),
    [1, 1, 1],
  );

  // Another path does not count, and a request the client gave up on stops counting once closed.
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
  await (await post(other, '/api/embed', { model, input: 'x' })).json();
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

test('the new routes: 405 for a wrong method, 404 for unknown paths', async (t) => {
  const f = await fake(t);
  const wrong: Array<[string, string]> = [
    ['GET', '/api/show'],
    ['GET', '/api/copy'],
    ['POST', '/api/delete'],
    ['GET', '/api/pull'],
    ['GET', '/api/push'],
    ['GET', '/api/create'],
    ['POST', '/api/ps'],
    ['PUT', `/api/blobs/sha256:${'0'.repeat(64)}`],
  ];
  for (const [method, path] of wrong) {
    const res = await send(f, method, path);
    assert.equal(res.status, 405, `${method} ${path}`);
    assert.equal(res.headers.get('content-type'), 'text/plain');
    assert.equal(await res.text(), '405 method not allowed');
  }
  for (const path of ['/api/pulls', '/api/show/x', '/api/blob/sha256:0', '/api/status']) {
    const res = await send(f, 'POST', path, {});
    assert.equal(res.status, 404, path);
    assert.equal(await res.text(), '404 page not found');
  }
});
