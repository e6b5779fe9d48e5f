// Shared by the stand-in's self-tests: starting a stand-in a test owns, sending it requests with
// plain fetch, and reading and checking what comes back.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { TestContext } from 'node:test';
import { behaviourHeader, startFakeOllama } from '../support/fake-ollama.ts';
import type { Behaviour, FakeOllama, FakeOllamaOptions, RecordedRequest } from '../support/fake-ollama.ts';

export type Json = Record<string, unknown>;

export const DEFAULT_ERROR = 'an error was encountered while running the model: unexpected EOF';
export const JSON_UTF8 = 'application/json; charset=utf-8';
export const NDJSON = 'application/x-ndjson';
/** The installed models of a fresh stand-in, as /api/tags lists them. */
export const CATALOGUE = ['llama3.2:latest', 'qwen3:latest', 'nomic-embed-text:latest'];

/** A stand-in on 127.0.0.1 that is closed when the test ends. */
export async function fake(t: TestContext, options?: FakeOllamaOptions): Promise<FakeOllama> {
  const f = await startFakeOllama(options);
  t.after(() => f.close());
  return f;
}

export function post(
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

export function send(
  f: FakeOllama,
  method: string,
  path: string,
  body?: unknown,
  behaviour?: Behaviour,
): Promise<Response> {
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

export const ndjson = (text: string): Json[] =>
  text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Json);

/** A 200 NDJSON answer, parsed. */
export async function streamed(f: FakeOllama, path: string, body: Json, behaviour?: Behaviour): Promise<Json[]> {
  const res = await post(f, path, body, behaviour);
  assert.equal(res.status, 200);
  return ndjson(await res.text());
}

/** The body as the reads that delivered it. */
export async function reads(res: Response): Promise<Buffer[]> {
  const out: Buffer[] = [];
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  for (let k = 0; k < 10_000; k++) {
    const { value, done } = await reader.read();
    if (done) return out;
    out.push(Buffer.from(value));
  }
  throw new Error('too many reads');
}

export const message = (chunk: Json | undefined): Json => (chunk?.['message'] ?? {}) as Json;

// The stream:false answer, rebuilt from the stream the way Ollama's handlers build it.
export function aggregate(chunks: Json[], endpoint: 'chat' | 'generate', hadTools: boolean): Json {
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

/** A stream:false request answers exactly what its stream aggregates to, and what expected() computes. */
export async function checkAggregated(
  f: FakeOllama,
  path: '/api/chat' | '/api/generate',
  body: Json,
  behaviour?: Behaviour,
): Promise<void> {
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

/** The index-th recorded request, once its response or connection has closed. */
export async function closedRecord(f: FakeOllama, index = 0): Promise<RecordedRequest> {
  await f.waitFor((r) => r[index]?.closedAt !== undefined, 3000);
  return f.requests[index] as RecordedRequest;
}

export const WEATHER = {
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
export const TIME = {
  type: 'function',
  function: {
    name: 'get_time',
    parameters: { type: 'object', required: ['zone'], properties: { zone: { type: 'string' } } },
  },
};
export const userSays = (content: string): Json[] => [{ role: 'user', content }];

/** A 200 NDJSON progress stream whose every line ends, parsed. */
export async function progressOf(f: FakeOllama, path: string, body: unknown, behaviour?: Behaviour): Promise<Json[]> {
  const res = await post(f, path, body, behaviour);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), NDJSON);
  const text = await res.text();
  assert.ok(text.endsWith('\n'));
  return ndjson(text);
}

/** An error answer: this status, this content type, and exactly {"error":error}. */
export async function errorOf(res: Response, status: number, error: string, type = JSON_UTF8): Promise<void> {
  assert.equal(res.status, status, error);
  assert.equal(res.headers.get('content-type'), type, error);
  assert.equal(await res.text(), JSON.stringify({ error }));
}

/** Go's c.Status(code): no body, no Content-Type, Content-Length 0. */
export async function emptyOk(res: Response, status = 200): Promise<void> {
  assert.equal(res.status, status);
  assert.equal(res.headers.get('content-type'), null);
  assert.equal(res.headers.get('content-length'), '0');
  assert.equal(await res.text(), '');
}

export const statuses = (lines: Json[]): unknown[] => lines.map((l) => l['status']);

// `<verb> <12 hex>` lines: whole layers one after the other, the biggest first, `completed`
// growing within each layer up to its `total`. Returns the layer digests in order.
export function checkTransfer(lines: Json[], verb: 'pulling' | 'pushing'): string[] {
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

/** The digest of these bytes as Ollama writes it: sha256:<64 hex>. */
export const sha256 = (data: string | Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;
