// Self-tests for the stand-in Ollama server: other tests trust it to behave like the real one
// and to misbehave exactly as scripted, so both are pinned down here with plain fetch.

import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { behaviourHeader, startFakeOllama } from './support/fake-ollama.ts';
import type { Behaviour, FakeOllama, RecordedRequest } from './support/fake-ollama.ts';

type Json = Record<string, unknown>;

const DEFAULT_ERROR = 'an error was encountered while running the model: unexpected EOF';
const JSON_UTF8 = 'application/json; charset=utf-8';

async function fake(t: TestContext): Promise<FakeOllama> {
  const f = await startFakeOllama();
  t.after(() => f.close());
  return f;
}

function post(f: FakeOllama, path: string, body: unknown, behaviour?: Behaviour, signal?: AbortSignal): Promise<Response> {
  return fetch(f.url + path, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...(behaviour ? behaviourHeader(behaviour) : {}) },
    ...(signal ? { signal } : {}),
  });
}

const ndjson = (text: string): Json[] =>
  text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Json);

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
  const joined = (pick: (c: Json) => unknown): string => chunks.map((c) => (pick(c) as string | undefined) ?? '').join('');
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
    parameters: { type: 'object', required: ['city', 'unit'], properties: { city: { type: 'string' }, unit: { type: 'string' } } },
  },
};
const TIME = {
  type: 'function',
  function: { name: 'get_time', parameters: { type: 'object', required: ['zone'], properties: { zone: { type: 'string' } } } },
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
  assert.deepEqual(tags.models.map((m) => m['name']), ['llama3.2:latest', 'qwen3:latest', 'nomic-embed-text:latest']);
  const first = tags.models[0] as Json;
  assert.deepEqual(Object.keys(first), ['name', 'model', 'modified_at', 'size', 'digest', 'details', 'capabilities']);
  assert.match(first['digest'] as string, /^[0-9a-f]{64}$/);
  assert.deepEqual(first['capabilities'], ['completion', 'tools']);
  assert.deepEqual(Object.keys(first['details'] as Json),
    ['parent_model', 'format', 'family', 'families', 'parameter_size', 'quantization_level']);

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
  assert.equal(lines[0],
    '{"model":"llama3.2","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":"You"},"done":false}');
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
  assert.deepEqual(Object.keys(final), ['model', 'created_at', 'message', 'done', 'done_reason', 'total_duration',
    'load_duration', 'prompt_eval_count', 'prompt_eval_duration', 'eval_count', 'eval_duration']);
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
    { path: '/api/chat', body: { model: 'llama3.2', messages: userSays('tools'), tools: [WEATHER, TIME] }, behaviour: { toolCallCount: 2 } },
    { path: '/api/chat', body: { model: 'qwen3', messages: userSays('tools'), tools: [WEATHER] }, behaviour: { toolCallsIn: 'final' } },
    { path: '/api/chat', body: { model: 'llama3.2', messages: userSays('lp'), logprobs: true, top_logprobs: 3 }, behaviour: { finalText: '!' } },
    { path: '/api/generate', body: { model: 'qwen3', prompt: 'why is the sky blue', logprobs: true } },
    { path: '/api/generate', body: { model: 'llama3.2', prompt: 'raw', raw: true }, behaviour: { tokens: ['a', 'b'], doneReason: 'length' } },
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

  const thinking = await (await post(f, '/api/chat', { model: 'qwen3', stream: false, messages: userSays('x') })).json() as Json;
  assert.deepEqual(Object.keys(message(thinking)), ['role', 'content', 'thinking']);
  assert.equal(message(thinking)['thinking'], 'Let me think about it.');
  const noThinking = await (await post(f, '/api/chat', { model: 'qwen3', think: false, stream: false, messages: userSays('x') })).json() as Json;
  assert.deepEqual(Object.keys(message(noThinking)), ['role', 'content']);

  const generated = await (await post(f, '/api/generate', { model: 'llama3.2', prompt: 'two words', stream: false })).json() as Json;
  assert.deepEqual(Object.keys(generated), ['model', 'created_at', 'response', 'done', 'done_reason', 'context',
    'total_duration', 'load_duration', 'prompt_eval_count', 'prompt_eval_duration', 'eval_count', 'eval_duration']);
  const evalCount = generated['eval_count'] as number;
  assert.deepEqual(generated['context'], Array.from({ length: evalCount + 2 }, (_, k) => k + 1));
  const raw = await (await post(f, '/api/generate', { model: 'llama3.2', prompt: 'x', raw: true, stream: false })).json() as Json;
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

  const middle = await streamed(f, '/api/chat', { model: 'llama3.2', messages: userSays('x'), tools: [WEATHER, TIME] }, { toolCallCount: 3 });
  const callChunks = middle.filter((c) => message(c)['tool_calls'] !== undefined);
  assert.equal(callChunks.length, 3);
  assert.ok(callChunks.every((c) => c['done'] === false && message(c)['content'] === ''));
  const calls = callChunks.flatMap((c) => message(c)['tool_calls'] as Json[]);
  assert.deepEqual(calls.map((c) => c['function']), [
    { index: 0, name: 'get_weather', arguments: { city: 'value-city', unit: 'value-unit' } },
    { index: 1, name: 'get_time', arguments: { zone: 'value-zone' } },
    { index: 2, name: 'get_weather', arguments: { city: 'value-city', unit: 'value-unit' } },
  ]);
  for (const c of calls) assert.match(c['id'] as string, /^call_[a-z0-9]{8}$/);
  assert.notEqual(calls[0]?.['id'], calls[2]?.['id']);
  assert.equal(middle.indexOf(callChunks[0] as Json), middle.length - 4, 'after the content, before the done chunk');

  const final = await streamed(f, '/api/chat', { model: 'llama3.2', messages: userSays('x'), tools: [WEATHER] }, { toolCallsIn: 'final' });
  assert.ok(final.slice(0, -1).every((c) => message(c)['tool_calls'] === undefined));
  assert.equal((message(final.at(-1))['tool_calls'] as Json[]).length, 1);

  const withLogprobs = await streamed(f, '/api/chat', { model: 'llama3.2', messages: userSays('é'), logprobs: true, top_logprobs: 2 });
  for (const c of withLogprobs.slice(0, -1)) {
    const [entry] = c['logprobs'] as Json[];
    const token = message(c)['content'] as string;
    assert.equal(entry?.['token'], token);
    assert.ok((entry?.['logprob'] as number) < 0);
    assert.deepEqual(entry?.['bytes'], [...Buffer.from(token)]);
    assert.equal((entry?.['top_logprobs'] as Json[]).length, 2);
  }
  assert.equal(withLogprobs.at(-1)?.['logprobs'], undefined);
  const outOfRange = await post(f, '/api/chat', { model: 'llama3.2', messages: userSays('x'), logprobs: true, top_logprobs: 21 });
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
  const chatLoaded = (model: string, reason: string): Json =>
    ({ model, created_at: at, message: { role: 'assistant', content: '' }, done: true, done_reason: reason });
  const generateLoaded = (model: string, reason: string): Json =>
    ({ model, created_at: at, response: '', done: true, done_reason: reason });
  await check('/api/chat', { model: 'llama3.2' }, chatLoaded('llama3.2', 'load'));
  await check('/api/chat', { model: 'llama3.2', messages: [], stream: true }, chatLoaded('llama3.2', 'load'));
  await check('/api/chat', { model: 'qwen3', messages: [], keep_alive: 0 }, chatLoaded('qwen3', 'unload'));
  await check('/api/chat', { model: 'qwen3', keep_alive: '0s' }, chatLoaded('qwen3', 'unload'));
  await check('/api/generate', { model: 'llama3.2:latest', prompt: '' }, generateLoaded('llama3.2:latest', 'load'));
  await check('/api/generate', { model: 'llama3.2', keep_alive: '0' }, generateLoaded('llama3.2', 'unload'));
  await check('/api/generate', { model: 'llama3.2', keep_alive: '5m' }, generateLoaded('llama3.2', 'load'));
});

test('validation and not-found errors have Ollama\'s status and text', async (t) => {
  const f = await fake(t);
  const table: Array<[string, string, number, string]> = [
    ['/api/chat', '', 400, 'missing request body'],
    ['/api/generate', '  \n', 400, 'missing request body'],
    ['/api/chat', 'xyz', 400, "invalid character 'x' looking for beginning of value"],
    ['/api/chat', '{"model":', 400, 'unexpected EOF'],
    ['/api/chat', '{"model" "x"}', 400, "invalid character '\"' after object key"],
    ['/api/chat', '{"model":1}', 400, 'json: cannot unmarshal number into Go struct field ChatRequest.model of type string'],
    ['/api/chat', '{"model":"qwen3","keep_alive":"300"}', 400, 'time: missing unit in duration "300"'],
    ['/api/chat', '{"model":"qwen3","think":"hard"}', 400,
      'invalid think value: "hard" (must be "high", "medium", "low", "max", true, or false)'],
    ['/api/chat', '{"model":""}', 400, 'model is required'],
    ['/api/chat', '{"messages":[{"role":"user","content":"x"}]}', 400, 'model is required'],
    ['/api/generate', '{"model":"","prompt":"x"}', 404, "model '' not found"],
    ['/api/chat', '{"model":"mistral","messages":[]}', 404, "model 'mistral' not found"],
    ['/api/generate', '{"model":"Mistral:7b","prompt":"x"}', 404, "model 'Mistral:7b' not found"],
    ['/api/embed', '{"model":"","input":"x"}', 404, "model '' not found"],
    ['/api/embed', '{"model":"mistral","input":"x"}', 404, 'model "mistral" not found, try pulling it first'],
    ['/api/embeddings', '{"model":"","prompt":"x"}', 400, 'model is required'],
    ['/api/embeddings', '{"model":"mistral","prompt":"x"}', 404, 'model "mistral" not found, try pulling it first'],
    ['/api/chat', '{"model":"nomic-embed-text","messages":[{"role":"user","content":"x"}]}', 400,
      '"nomic-embed-text" does not support chat'],
    ['/api/generate', '{"model":"nomic-embed-text","prompt":"x"}', 400, '"nomic-embed-text" does not support generate'],
    ['/api/generate', '{"model":"llama3.2","prompt":"x","raw":true,"system":"s"}', 400,
      'raw mode does not support template, system, or context'],
    ['/api/generate', '{"model":"llama3.2","prompt":"x","top_logprobs":-1}', 400, 'top_logprobs must be between 0 and 20'],
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
  const embed = await res.json() as Json;
  assert.deepEqual(Object.keys(embed), ['model', 'embeddings', 'total_duration', 'load_duration', 'prompt_eval_count']);
  const vectors = embed['embeddings'] as number[][];
  assert.equal(vectors.length, 2);
  for (const v of vectors) {
    assert.equal(v.length, 8);
    assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-5);
  }
  assert.notDeepEqual(vectors[0], vectors[1]);
  const again = await (await post(f, '/api/embed', { model: 'nomic-embed-text:latest', input: 'first text' })).json() as Json;
  assert.deepEqual((again['embeddings'] as number[][])[0], vectors[0], 'deterministic');
  const short = await (await post(f, '/api/embed', { model: 'nomic-embed-text', input: 'x', dimensions: 4 })).json() as Json;
  assert.equal((short['embeddings'] as number[][])[0]?.length, 4);

  for (const input of ['', [], undefined]) {
    const empty = await post(f, '/api/embed', { model: 'nomic-embed-text', input });
    assert.equal(await empty.text(), '{"model":"nomic-embed-text","embeddings":[]}');
  }
  const dropped = await (await post(f, '/api/embed', { model: 'nomic-embed-text', input: ['a', 'b', 'c'] }, { dropVectors: 1 })).json() as Json;
  assert.equal((dropped['embeddings'] as unknown[]).length, 2);

  const legacy = await (await post(f, '/api/embeddings', { model: 'nomic-embed-text', prompt: 'first text' })).json() as Json;
  assert.deepEqual(Object.keys(legacy), ['embedding']);
  const raw = legacy['embedding'] as number[];
  assert.equal(raw.length, 8);
  assert.ok(Math.abs(Math.hypot(...raw) - 1) > 1e-3, 'not normalised');
  assert.equal(await (await post(f, '/api/embeddings', { model: 'nomic-embed-text', prompt: '' })).text(), '{"embedding":[]}');
});

test('headersDelayMs: not a single byte before the delay', async (t) => {
  const f = await fake(t);
  const delay = 200;
  const body = JSON.stringify({ model: 'llama3.2', messages: userSays('x') });
  const header = behaviourHeader({ headersDelayMs: delay })['x-fake-behaviour'] ?? '';
  const started = performance.now();
  const firstData = await new Promise<number>((resolve, reject) => {
    const socket = connect(f.port, '127.0.0.1', () => {
      socket.write(`POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nx-fake-behaviour: ${header}\r\nConnection: close\r\n\r\n${body}`);
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
    const res = await post(f, '/api/chat', { model: 'llama3.2', stream, messages: userSays('x') }, { headersDelayMs: 120 });
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
  for (const p of pieces) boundaries.add(at += p.length);
  for (const cut of cuts.slice(0, -1)) assert.ok(boundaries.has(cut), `a read ends at ${cut}: ${[...boundaries].join(',')}`);

  const single = Buffer.from(await (await post(f, '/api/chat', { ...body, stream: false })).arrayBuffer());
  const singlePieces = await reads(await post(f, '/api/chat', { ...body, stream: false }, { cuts: [3, single.indexOf(Buffer.from('漢')) + 1] }));
  assert.deepEqual(Buffer.concat(singlePieces), single);
  assert.ok(singlePieces.length >= 3);
});

test('crlf, blankLines, bom and noFinalNewline', async (t) => {
  const f = await fake(t);
  const body = { model: 'llama3.2', prompt: 'x' };
  const tokens = ['a', 'b'];
  const lines = (await (await post(f, '/api/generate', body, { tokens })).text()).split('\n').slice(0, -1);
  assert.equal(lines.length, 3);
  const raw = Buffer.from(await (await post(f, '/api/generate', body,
    { tokens, crlf: true, blankLines: true, bom: true, noFinalNewline: true })).arrayBuffer());
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
  const chunks = await streamed(f, '/api/chat', { model: 'llama3.2', messages: userSays('x') },
    { tokens: ['a', 'b'], stallAfter: 1, stallMs: 150 });
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
  const res = await post(f, '/api/chat', { model: 'llama3.2', messages: userSays('x') },
    { respond: { status: 502, headers: { 'content-type': 'text/html', 'x-proxy': 'nginx' }, body: '<h1>Bad Gateway</h1>' } });
  assert.equal(res.status, 502);
  assert.equal(res.headers.get('content-type'), 'text/html');
  assert.equal(res.headers.get('x-proxy'), 'nginx');
  assert.equal(await res.text(), '<h1>Bad Gateway</h1>');
});

test('a client that aborts mid-stream is recorded, and the server stops writing', async (t) => {
  const f = await fake(t);
  const ac = new AbortController();
  const tokens = Array.from({ length: 20 }, (_, k) => `t${k}`);
  const res = await post(f, '/api/chat', { model: 'llama3.2', messages: userSays('x') }, { tokens, chunkDelayMs: 25 }, ac.signal);
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
  assert.equal((await (await fetch(f.url + '/api/version')).json() as Json)['version'], '0.12.0');
  const queued = ndjson(await (await post(f, '/api/chat', body)).text());
  assert.equal(message(queued[0])['content'], 'queued');
  const second = await (await post(f, '/api/generate', { model: 'llama3.2', prompt: 'x', stream: false })).json() as Json;
  assert.equal(second['response'], 'second');
  const unscripted = ndjson(await (await post(f, '/api/chat', body)).text());
  assert.equal(message(unscripted[0])['content'], 'You');

  // Outside the model endpoints only the header applies.
  const t0 = performance.now();
  const tags = await fetch(f.url + '/api/tags', { headers: behaviourHeader({ headersDelayMs: 60 }) });
  assert.ok(performance.now() - t0 >= 55);
  assert.equal(tags.status, 200);
  await tags.json();
  const broken = await fetch(f.url + '/api/version', { headers: behaviourHeader({ respond: { status: 500, body: 'nope' } }) });
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
  const stalled = await post(f, '/api/chat', { model: 'llama3.2', stream: false, messages: userSays('x') },
    { stallAfter: 3, stallMs: 100 });
  assert.ok(performance.now() - t0 >= 95);
  assert.equal((await stalled.json() as Json)['done'], true);
  const answered = await post(f, '/api/generate', { model: 'llama3.2', prompt: 'x', stream: false },
    { respond: { status: 200, body: 'not json' } });
  assert.equal(await answered.text(), 'not json');

  await assert.rejects(f.waitFor((r) => r.length > 99, 40), /condition still false after 40 ms.*POST \/api\/chat/);
});
