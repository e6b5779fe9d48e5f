// The stand-in's /v1 side: Ollama's OpenAI-compatible layer (ollama-protocol.md §9) and, when a
// behaviour names a `dialect`, the way vLLM, OpenRouter, llama.cpp or OpenAI itself speak it:
// their chunk shapes, error bodies and in-stream failures. The usual fault knobs of the native
// side (cuts, split characters, stalls, resets, early closes, delays, errorAfter, omitDone,
// respond, crlf, bom) act on the event stream the same way, through the wire.ts writers.
// server.ts routes every /v1/ path here (`serveV1Exchange`).

import { V1_FIXTURES } from '../v1-fixtures.ts';
import type { Behaviour } from './behaviour.ts';
import type { Registry } from './catalogue.ts';
import { findModel, listed } from './registry.ts';
import { closeConnection, emit, type Exchange, finish, pause, resetConnection, sendWhole } from './wire.ts';

export type Dialect = 'ollama' | 'vllm' | 'openrouter' | 'llamacpp' | 'openai';

/** The /v1 knobs, given in the same behaviour header as the native ones. */
export interface V1Behaviour extends Behaviour {
  /** Whose shapes to speak; default 'ollama'. */
  dialect?: Dialect;
  /** Serve this fixture of v1-fixtures.ts (its chunks, or its answer for `stream: false`). */
  fixture?: string;
  /** Keep the finish chunk and the usage but leave out `data: [DONE]`. */
  noDoneOnly?: boolean;
  /** Write `: OPENROUTER PROCESSING` comment lines (OpenRouter always does). */
  comments?: boolean;
  /** Split each event's JSON over two `data:` lines. */
  multiLineData?: boolean;
  /** Write an event with empty data before every chunk. */
  emptyEvents?: boolean;
  /** Sent as `x-request-id` on every answer. */
  requestId?: string;
  /** After `data: [DONE]`, keep the connection open (write nothing more) until the client leaves. */
  holdOpen?: boolean;
  /** GET /v1/models answers `data: null`, as Ollama does with no model installed. */
  noModels?: boolean;
  /** The query string the request must carry, as sent (without `?`; '' for none): any other
   * is answered 400, the message quoting the one received. */
  queryIs?: string;
}

/** What this module does with one exchange: the wire.ts writers and the installed models. */
interface V1Io {
  /** Writes body bytes under the cut knobs; false once the connection is gone. */
  emit(text: string): Promise<boolean>;
  pause(ms?: number): Promise<void>;
  dead(): boolean;
  head(status: number, headers: Record<string, string>): void;
  sendWhole(status: number, headers: Record<string, string>, body: string): Promise<void>;
  finish(): void;
  reset(): Promise<void>;
  close(): void;
  /** Counts one chunk written and one fewer pending. */
  wrote(): void;
  pending(count: number): void;
  models(): { name: string; modifiedAt: string }[];
  hasModel(name: string): boolean;
}

const CREATED = 1767225600;
const DEFAULT_TOKENS = ['Hello', ' from', ' the', ' stand-in', '.'];
const DEFAULT_REASONING = ['Let me', ' think', ' about it.'];
const DEFAULT_ERROR = 'an error was encountered while running the model: unexpected EOF';

type Json = Record<string, unknown>;

function goJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** An error object as each dialect sends it, for a status. */
function errorBody(dialect: Dialect, status: number, message: string): Json {
  switch (dialect) {
    case 'vllm':
      return {
        object: 'error',
        message,
        type: status === 404 ? 'NotFoundError' : 'BadRequestError',
        param: null,
        code: status,
      };
    case 'openrouter':
      return { error: { code: status, message, metadata: {} } };
    case 'llamacpp':
      return { error: { code: status, message, type: status === 400 ? 'invalid_request_error' : 'server_error' } };
    default: {
      const type = status === 400 ? 'invalid_request_error' : status === 404 ? 'not_found_error' : 'api_error';
      return { error: { message, type, param: null, code: null } };
    }
  }
}

async function fail(io: V1Io, b: V1Behaviour, status: number, message: string): Promise<void> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (b.requestId !== undefined) headers['x-request-id'] = b.requestId;
  await io.sendWhole(status, headers, `${goJson(errorBody(b.dialect ?? 'ollama', status, message))}\n`);
}

function parse(raw: Buffer): Json | undefined {
  try {
    const value = JSON.parse(raw.toString('utf8')) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
  } catch {
    return undefined;
  }
}

/** Answers one /v1/ request, the behaviour already picked and the exchange configured. */
export function serveV1Exchange(
  ex: Exchange,
  registry: Registry,
  method: string,
  path: string,
  b: Behaviour,
): Promise<void> {
  const v = b as V1Behaviour;
  if (v.queryIs !== undefined) {
    // The recorded path has no query; the request line still has it.
    const query = ex.res.req.url?.split('?').slice(1).join('?') ?? '';
    if (query !== v.queryIs) return fail(v1Io(ex, registry), v, 400, `query was "${query}"`);
  }
  return serveV1(v1Io(ex, registry), method, path, ex.record.rawBody, v);
}

function v1Io(ex: Exchange, registry: Registry): V1Io {
  return {
    emit: (text) => emit(ex, text),
    pause: (ms) => pause(ex.life, ms),
    dead: () => ex.life.dead,
    head(status, headers) {
      ex.res.statusCode = status;
      for (const [k, v] of Object.entries(headers)) ex.res.setHeader(k, v);
    },
    sendWhole: (status, headers, body) => sendWhole(ex, status, headers, body),
    finish: () => finish(ex),
    async reset() {
      // Let delivered chunks land first: a RST drops what the client has not read yet.
      if (ex.record.chunksWritten > 0) await pause(ex.life, 50);
      if (!ex.life.dead) resetConnection(ex);
    },
    close: () => closeConnection(ex),
    wrote() {
      ex.record.chunksWritten++;
      ex.record.pendingChunks--;
    },
    pending(count) {
      ex.record.pendingChunks = count;
    },
    models: () => listed(registry).map((m) => ({ name: m.name, modifiedAt: m.modifiedAt })),
    hasModel: (name) => findModel(registry, name) !== undefined,
  };
}

async function serveV1(io: V1Io, method: string, path: string, raw: Buffer, b: V1Behaviour): Promise<void> {
  if ((b.headersDelayMs ?? 0) > 0) {
    await io.pause(b.headersDelayMs);
    if (io.dead()) return;
  }
  if (b.respond !== undefined) {
    await io.sendWhole(b.respond.status, b.respond.headers ?? {}, b.respond.body ?? '');
    return;
  }
  if (b.resetAfter === 0) return void (await io.reset());
  if (b.closeAfter === 0) return io.close();
  const routes: Record<string, string> = {
    '/v1/chat/completions': 'POST',
    '/v1/completions': 'POST',
    '/v1/embeddings': 'POST',
    '/v1/models': 'GET',
  };
  const route = path.startsWith('/v1/models/') ? '/v1/models/:model' : path;
  const allowed = route === '/v1/models/:model' ? 'GET' : routes[route];
  if (allowed === undefined) return io.sendWhole(404, { 'Content-Type': 'text/plain' }, '404 page not found');
  if (method !== allowed) return io.sendWhole(405, { 'Content-Type': 'text/plain' }, '405 method not allowed');
  if (route === '/v1/models') return listModels(io, b);
  if (route === '/v1/models/:model') return retrieveModel(io, b, decodeURIComponent(path.slice('/v1/models/'.length)));

  const body = parse(raw);
  if (body === undefined) return fail(io, b, 400, raw.length === 0 ? 'EOF' : 'invalid character in request body');
  const model = body.model;
  if (typeof model !== 'string' || model === '') return fail(io, b, 400, 'model is required');
  if (b.fixture === undefined && !io.hasModel(model)) {
    return fail(io, b, 404, `model "${model}" not found, try pulling it first`);
  }
  if (b.errorAfter === 0) return fail(io, b, b.errorStatus ?? 500, b.errorText ?? DEFAULT_ERROR);
  if (route === '/v1/embeddings') return embeddings(io, b, body, model);
  const chat = route === '/v1/chat/completions';
  if (chat && (!Array.isArray(body.messages) || body.messages.length === 0)) {
    return fail(io, b, 400, "[] is too short - 'messages'");
  }
  if (!chat && typeof body.prompt !== 'string') return fail(io, b, 400, 'prompt must be a string');
  const answer = chat ? chatAnswer(body, model, b) : completionAnswer(body, model, b);
  if (body.stream === true) return playEvents(io, b, answer.chunks);
  return playWhole(io, b, answer.whole);
}

interface Answer {
  chunks: Json[];
  whole: Json;
}

/** The number in an answer's id: the same for the streamed and the whole form of one request,
 * as a test comparing the two needs (Ollama draws it at random). */
function idNumber(body: Json): number {
  const { stream: _stream, stream_options: _options, ...rest } = body;
  let h = 0;
  for (const c of JSON.stringify(rest)) h = (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0;
  return h % 999;
}

function usageOf(prompt: number, completion: number): Json {
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

function promptTokens(body: Json): number {
  return JSON.stringify(body.messages ?? body.prompt ?? '').length >> 2;
}

function toolCalls(body: Json, b: V1Behaviour): { name: string; arguments: string }[] {
  const tools = Array.isArray(body.tools) ? (body.tools as { function?: { name?: string } }[]) : [];
  if (tools.length === 0) return [];
  const calls: { name: string; arguments: string }[] = [];
  for (let k = 0; k < (b.toolCallCount ?? 1); k++) {
    calls.push({ name: tools[k % tools.length]?.function?.name ?? 'tool', arguments: goJson({ city: 'Lima', n: k }) });
  }
  return calls;
}

function chatAnswer(body: Json, model: string, b: V1Behaviour): Answer {
  const fixture = b.fixture === undefined ? undefined : V1_FIXTURES.find((f) => f.name === b.fixture);
  if (b.fixture !== undefined) {
    if (fixture === undefined) throw new Error(`no fixture named ${b.fixture}`);
    return { chunks: fixture.chunks, whole: fixture.answer };
  }
  const dialect = b.dialect ?? 'ollama';
  const calls = toolCalls(body, b);
  const tokens = b.tokens ?? (calls.length > 0 ? [] : DEFAULT_TOKENS);
  const effort = body.reasoning_effort;
  const reasoning = b.thinkingTokens ?? (typeof effort === 'string' && effort !== 'none' ? DEFAULT_REASONING : []);
  const finish = calls.length > 0 && (b.doneReason ?? 'stop') === 'stop' ? 'tool_calls' : (b.doneReason ?? 'stop');
  const usage = usageOf(promptTokens(body), tokens.length + reasoning.length + calls.length);
  const includeUsage = (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
  const n = idNumber(body);
  const vllmLike = dialect !== 'ollama';
  const id = dialect === 'openrouter' ? `gen-${1000 + n}` : `chatcmpl-${n}`;
  const top: Json = { id, object: 'chat.completion.chunk', created: CREATED, model };
  if (dialect === 'ollama') top.system_fingerprint = 'fp_ollama';
  if (dialect === 'llamacpp') top.system_fingerprint = 'b6500-fake';
  if (dialect === 'openrouter') top.provider = 'FakeProvider';
  const reasoningKey = dialect === 'ollama' || dialect === 'openrouter' ? 'reasoning' : 'reasoning_content';
  const choiceExtra: Json = vllmLike ? { logprobs: null } : {};
  const chunk = (delta: Json, finishReason: string | null = null): Json => ({
    ...top,
    choices: [{ index: 0, delta, ...choiceExtra, finish_reason: finishReason }],
  });

  const deltas: Json[] = [];
  if (vllmLike) deltas.push({ role: 'assistant', content: '' });
  for (const piece of reasoning)
    deltas.push(dialect === 'ollama' ? { content: '', reasoning: piece } : { [reasoningKey]: piece });
  for (const piece of tokens) deltas.push({ content: piece });
  const wholeCalls: Json[] = calls.map((call, index) => ({
    id: `call_${n}_${index}`,
    index,
    type: 'function',
    function: { name: call.name, arguments: call.arguments },
  }));
  if (dialect === 'ollama') {
    if (wholeCalls.length > 0) deltas.push({ content: '', tool_calls: wholeCalls });
  } else {
    // Fragments: each call's head, then its arguments in three pieces, the calls interleaved.
    for (const [index, call] of calls.entries()) {
      deltas.push({
        tool_calls: [
          { index, id: `call_${n}_${index}`, type: 'function', function: { name: call.name, arguments: '' } },
        ],
      });
    }
    const pieces = calls.map((call) => {
      const third = Math.ceil(call.arguments.length / 3);
      return [0, 1, 2].map((k) => call.arguments.slice(k * third, (k + 1) * third));
    });
    for (let k = 0; k < 3; k++) {
      for (const [index, parts] of pieces.entries())
        deltas.push({ tool_calls: [{ index, function: { arguments: parts[k] } }] });
    }
  }
  if (deltas.length > 0) deltas[0] = { role: 'assistant', ...deltas[0] };
  const chunks = deltas.map((delta) => chunk(delta));
  chunks.push(chunk({}, finish));
  if (includeUsage) chunks.push({ ...top, choices: [], usage });

  const message: Json = { role: 'assistant', content: tokens.join('') };
  if (reasoning.length > 0) message[reasoningKey] = reasoning.join('');
  if (calls.length > 0) {
    message.tool_calls = dialect === 'ollama' ? wholeCalls : wholeCalls.map(({ index: _index, ...call }) => call);
  }
  const whole: Json = {
    ...top,
    object: 'chat.completion',
    choices: [{ index: 0, message, ...choiceExtra, finish_reason: finish }],
    usage,
  };
  return { chunks, whole };
}

function completionAnswer(body: Json, model: string, b: V1Behaviour): Answer {
  const tokens = b.tokens ?? DEFAULT_TOKENS;
  const finish = b.doneReason ?? 'stop';
  const n = idNumber(body);
  const top: Json = {
    id: `cmpl-${n}`,
    object: 'text_completion',
    created: CREATED,
    model,
    system_fingerprint: 'fp_ollama',
  };
  const usage = usageOf(promptTokens(body), tokens.length);
  const includeUsage = (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
  const zero = includeUsage ? { usage: usageOf(0, 0) } : {};
  const chunks: Json[] = tokens.map((text, k) => ({
    ...top,
    choices: [{ text, index: 0, finish_reason: k === tokens.length - 1 ? finish : null }],
    ...zero,
  }));
  if (includeUsage) chunks.push({ ...top, choices: [], usage });
  const whole: Json = { ...top, choices: [{ text: tokens.join(''), index: 0, finish_reason: finish }], usage };
  return { chunks, whole };
}

/** The failure a dialect writes into a stream that has begun, as the bytes to write, and
 * whether `[DONE]` follows it. */
function inBandFailure(dialect: Dialect, message: string, top: Json, eol: string): { text: string; done: boolean } {
  const data = (value: unknown): string => `data: ${goJson(value)}${eol}${eol}`;
  switch (dialect) {
    case 'vllm':
      return {
        text: data({ object: 'error', message, type: 'InternalServerError', param: null, code: 500 }),
        done: true,
      };
    case 'openrouter':
      return {
        text: data({
          ...top,
          error: { code: 'server_error', message },
          choices: [{ index: 0, delta: { content: '' }, finish_reason: 'error', native_finish_reason: 'error' }],
        }),
        done: true,
      };
    case 'llamacpp':
      return { text: `error: ${goJson({ code: 500, message, type: 'server_error' })}${eol}${eol}`, done: false };
    case 'openai':
      return { text: data({ error: { message, type: 'server_error', param: null, code: null } }), done: false };
    default:
      // Ollama's ChatWriter decodes the native error line as an empty answer: one chunk with
      // empty content, then the connection ends with no finish chunk and no [DONE].
      return {
        text: data({ ...top, choices: [{ index: 0, delta: { content: '' }, finish_reason: null }] }),
        done: false,
      };
  }
}

async function playEvents(io: V1Io, b: V1Behaviour, all: Json[]): Promise<void> {
  const dialect = b.dialect ?? 'ollama';
  const eol = b.crlf === true ? '\r\n' : '\n';
  let chunks = all;
  if (b.omitDone === true) {
    // Ends after the content: no finish chunk, no usage, no [DONE].
    chunks = all.filter((c) => {
      const choices = c.choices as Json[];
      return choices.length > 0 && choices.every((choice) => choice.finish_reason === null);
    });
  }
  const comments = b.comments === true || dialect === 'openrouter';
  const headers: Record<string, string> = { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' };
  if (b.requestId !== undefined) headers['x-request-id'] = b.requestId;
  io.head(200, headers);
  io.pending(chunks.length);
  const top = { ...(chunks[0] ?? {}), choices: undefined };
  if (comments && !(await io.emit(`: OPENROUTER PROCESSING${eol}${eol}`))) return;
  for (let k = 0; k <= chunks.length; k++) {
    if (io.dead()) return;
    if (b.stallAfter === k) {
      await io.pause(b.stallMs);
      if (io.dead()) return;
    }
    if (b.resetAfter === k) return io.reset();
    if (b.closeAfter === k) return io.close();
    if (b.errorAfter === k) {
      const failure = inBandFailure(dialect, b.errorText ?? DEFAULT_ERROR, top, eol);
      if (!(await io.emit(failure.text))) return;
      if (failure.done) await io.emit(`data: [DONE]${eol}${eol}`);
      io.pending(0);
      return io.finish();
    }
    if (k === chunks.length) break;
    if (k > 0 && (b.chunkDelayMs ?? 0) > 0) {
      await io.pause(b.chunkDelayMs);
      if (comments && !(await io.emit(`: OPENROUTER PROCESSING${eol}${eol}`))) return;
    }
    if (b.emptyEvents === true && !(await io.emit(`data:${eol}${eol}`))) return;
    let json = goJson(chunks[k]);
    if (b.multiLineData === true) json = json.replace(',"object":', `,${eol}data: "object":`);
    if (!(await io.emit(`data: ${json}${eol}${eol}`))) return;
    io.wrote();
  }
  if (b.omitDone !== true && b.noDoneOnly !== true) await io.emit(`data: [DONE]${eol}${eol}`);
  if (b.holdOpen === true) await io.pause();
  io.finish();
}

async function playWhole(io: V1Io, b: V1Behaviour, whole: Json): Promise<void> {
  io.pending(1);
  if (b.stallAfter !== undefined) {
    await io.pause(b.stallMs);
    if (io.dead()) return;
  }
  if (b.resetAfter !== undefined) return io.reset();
  if (b.closeAfter !== undefined) return io.close();
  if (b.errorAfter !== undefined) return fail(io, b, b.errorStatus ?? 500, b.errorText ?? DEFAULT_ERROR);
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (b.requestId !== undefined) headers['x-request-id'] = b.requestId;
  await io.sendWhole(200, headers, `${goJson(whole)}\n`);
  io.pending(0);
}

/** A deterministic vector per text, of values float32 holds exactly (multiples of 1/1024), so
 * the float and base64 forms of one answer are the same numbers. */
function vectorOf(text: string): number[] {
  const out: number[] = [];
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  for (let k = 0; k < 8; k++) {
    h = Math.imul(h ^ (h >>> 13), 0x5bd1e995);
    out.push(((h >>> 0) % 2048) / 1024 - 1);
  }
  return out;
}

function base64Of(vector: number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((v, i) => {
    bytes.writeFloatLE(v, i * 4);
  });
  return bytes.toString('base64');
}

async function embeddings(io: V1Io, b: V1Behaviour, body: Json, model: string): Promise<void> {
  const { input } = body;
  const inputs = typeof input === 'string' ? [input] : Array.isArray(input) ? input : undefined;
  if (inputs === undefined || inputs.length === 0 || !inputs.every((x) => typeof x === 'string')) {
    return fail(io, b, 400, 'invalid input');
  }
  const format = body.encoding_format ?? 'float';
  if (format !== 'float' && format !== 'base64') {
    return fail(
      io,
      b,
      400,
      `Invalid value for 'encoding_format' = ${String(format)}. Supported values: ['float', 'base64'].`,
    );
  }
  const kept = inputs.slice(0, Math.max(0, inputs.length - (b.dropVectors ?? 0)));
  const data = kept.map((text, index) => {
    const vector = vectorOf(text as string);
    return { object: 'embedding', embedding: format === 'base64' ? base64Of(vector) : vector, index };
  });
  const tokens = inputs.reduce((sum, text) => sum + ((text as string).length >> 2) + 1, 0);
  const answer = { object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
  return playWhole(io, b, answer);
}

function modelOf(m: { name: string; modifiedAt: string }): Json {
  return { id: m.name, object: 'model', created: Math.floor(Date.parse(m.modifiedAt) / 1000), owned_by: 'library' };
}

async function listModels(io: V1Io, b: V1Behaviour): Promise<void> {
  const data = b.noModels === true ? null : io.models().map(modelOf);
  return playWhole(io, b, { object: 'list', data });
}

async function retrieveModel(io: V1Io, b: V1Behaviour, id: string): Promise<void> {
  const found = io.models().find((m) => m.name === id || m.name === `${id}:latest`);
  if (found === undefined) return fail(io, b, 404, `model '${id}' not found`);
  return playWhole(io, b, modelOf(found));
}
