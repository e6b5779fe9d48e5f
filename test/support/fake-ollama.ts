// A stand-in for the Ollama server, for tests. It speaks the native REST protocol closely enough
// that a client cannot tell the difference for the endpoints it implements, and every reply is
// deterministic so tests can compare bytes. On top of that it can misbehave on demand (delays,
// split writes, garbage, resets...) through a Behaviour, given per request or queued in advance.

import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';

// ------------------------------------------------------------------------------------------------
// Public surface

/** How the stand-in should (mis)behave for one request to a model endpoint. All fields optional. */
export interface Behaviour {
  /** Write nothing at all (no status line, no headers) for this long. */
  headersDelayMs?: number;
  /** Pause between NDJSON lines. */
  chunkDelayMs?: number;
  /** Byte offsets into the whole response body where it is split into separate writes. */
  cuts?: number[];
  /** Pause between the pieces made by `cuts`; default 15. */
  pieceDelayMs?: number;
  /** End lines with \r\n. */
  crlf?: boolean;
  /** Write an empty line before every chunk. */
  blankLines?: boolean;
  /** Start the body with the UTF-8 BOM. */
  bom?: boolean;
  /** The last line has no line end. */
  noFinalNewline?: boolean;
  /** After N chunks, write the line `<html>this is not json</html>`. */
  garbageAfter?: number;
  /** After N chunks, write {"error":errorText} and end (status stays 200). 0 = a real error status instead of a stream. */
  errorAfter?: number;
  /** Default 'an error was encountered while running the model: unexpected EOF'. */
  errorText?: string;
  /** Status for errors sent before any output; default 500. */
  errorStatus?: number;
  /** End the stream cleanly after the content, without the done chunk. */
  omitDone?: boolean;
  /** After N chunks, write nothing more for stallMs (default: until the client leaves or close()). */
  stallAfter?: number;
  stallMs?: number;
  /** After N chunks, reset the TCP connection. 0 = before any byte. */
  resetAfter?: number;
  /** After N chunks, send FIN without finishing the body. 0 = before any byte. */
  closeAfter?: number;
  /** Answer exactly this and nothing else. */
  respond?: { status: number; headers?: Record<string, string>; body?: string };
  /** Content pieces to stream instead of the default echo reply. */
  tokens?: string[];
  /** Thinking pieces (thinking models only) instead of the default. */
  thinkingTokens?: string[];
  /** Text carried by the done chunk itself. */
  finalText?: string;
  /** done_reason of the final chunk; default 'stop'. */
  doneReason?: string;
  /** Where tool calls arrive: their own chunks after the content ('middle', default) or in the done chunk. */
  toolCallsIn?: 'middle' | 'final';
  /** How many tool calls to make (default 1), cycling through the request's tools. */
  toolCallCount?: number;
  /** /api/embed and /api/embeddings: return this many fewer vectors than inputs. */
  dropVectors?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
  /** Parsed JSON, or undefined if the body is not JSON. */
  body: unknown;
  /** performance.now() when the request body was fully read. */
  receivedAt: number;
  /** performance.now() when the first response byte was written. */
  firstByteAt?: number;
  /** performance.now() when the response or its connection closed, for any reason. */
  closedAt?: number;
  /** The client went away before the response was complete. */
  clientDisconnected: boolean;
  /** NDJSON objects written (content and final chunks), not counting garbage, error or blank lines. */
  chunksWritten: number;
  /**
   * Chunks the script still meant to send when the connection closed: 0 when the script ran to its
   * scripted end (including an end scripted by errorAfter/resetAfter/closeAfter/omitDone). For a
   * single-object reply (stream:false, load, embed, errors) it is 1 until that object is written.
   */
  pendingChunks: number;
}

export interface FakeOllama {
  /** 'http://127.0.0.1:PORT' */
  readonly url: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  /** Queue behaviours; each request to chat, generate, embed or embeddings takes the next one. */
  script(...behaviours: Behaviour[]): void;
  /** What a stream:false request with this body would answer, computed without a request. */
  expected(path: '/api/chat' | '/api/generate', body: object, behaviour?: Behaviour): Promise<unknown>;
  /** Polls every 10 ms until pred holds; rejects after timeoutMs. */
  waitFor(pred: (r: RecordedRequest[]) => boolean, timeoutMs: number): Promise<void>;
  /** Ends stalls, destroys every open socket and closes the listener. */
  close(): Promise<void>;
}

/** Request header that carries a per-request Behaviour (JSON). It wins over the queue. */
export const BEHAVIOUR_HEADER = 'x-fake-behaviour';

/**
 * Headers carrying a Behaviour. Header values must be Latin-1 for fetch, so everything beyond
 * ASCII is \u-escaped inside the JSON.
 */
export function behaviourHeader(behaviour: Behaviour): Record<string, string> {
  const json = JSON.stringify(behaviour).replace(
    /[\u007f-\uffff]/g,
    (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'),
  );
  return { [BEHAVIOUR_HEADER]: json };
}

/** Ollama's own answer when its queue is full (OLLAMA_MAX_QUEUE), status 503. */
export const BUSY_TEXT = 'server busy, please try again.  maximum pending requests exceeded';

/**
 * One scripted status answer, for a sequence such as 503, 503, then a normal reply:
 * `fake.script(statusReply(503, '1'), statusReply(503, '1'), {})`. `retryAfter` is sent as the
 * `Retry-After` header exactly as given (seconds, or an HTTP date).
 */
export function statusReply(status: number, retryAfter?: string, text: string = BUSY_TEXT): Behaviour {
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  if (retryAfter !== undefined) headers['retry-after'] = retryAfter;
  return { respond: { status, headers, body: JSON.stringify({ error: text }) } };
}

export const FAKE_OLLAMA_VERSION = '0.12.0';

// ------------------------------------------------------------------------------------------------
// Installed models

interface InstalledModel {
  name: string;
  family: string;
  parameterSize: string;
  quantization: string;
  format: string;
  size: number;
  modifiedAt: string;
  capabilities: readonly string[];
}

const MODELS: readonly InstalledModel[] = [
  {
    name: 'llama3.2:latest', family: 'llama', parameterSize: '3.2B', quantization: 'Q4_K_M',
    format: 'gguf', size: 2019393189, modifiedAt: '2025-12-01T09:15:42.318274913+01:00',
    capabilities: ['completion', 'tools'],
  },
  {
    name: 'qwen3:latest', family: 'qwen3', parameterSize: '8.2B', quantization: 'Q4_K_M',
    format: 'gguf', size: 5225388164, modifiedAt: '2025-11-20T18:02:07.5521+01:00',
    capabilities: ['completion', 'tools', 'thinking'],
  },
  {
    name: 'nomic-embed-text:latest', family: 'nomic-bert', parameterSize: '137M', quantization: 'F16',
    format: 'gguf', size: 274302450, modifiedAt: '2025-10-02T07:44:19.06+02:00',
    capabilities: ['embedding'],
  },
];

// Ollama resolves `name` to `name:latest` and compares case-insensitively; the default
// registry/namespace prefix is optional.
function findModel(requested: string): InstalledModel | undefined {
  let name = requested.toLowerCase();
  for (const prefix of ['registry.ollama.ai/library/', 'library/']) {
    if (name.startsWith(prefix)) name = name.slice(prefix.length);
  }
  if (!name.slice(name.lastIndexOf('/') + 1).includes(':')) name += ':latest';
  return MODELS.find((m) => m.name === name);
}

const fullName = (m: InstalledModel): string => `registry.ollama.ai/library/${m.name}`;
const can = (m: InstalledModel, capability: string): boolean => m.capabilities.includes(capability);

function tagsBody(): string {
  return goJson({
    models: MODELS.map((m) => ({
      name: m.name,
      model: m.name,
      modified_at: m.modifiedAt,
      size: m.size,
      digest: createHash('sha256').update(m.name).digest('hex'),
      details: {
        parent_model: '',
        format: m.format,
        family: m.family,
        families: [m.family],
        parameter_size: m.parameterSize,
        quantization_level: m.quantization,
      },
      capabilities: m.capabilities,
    })),
  });
}

// ------------------------------------------------------------------------------------------------
// Go-compatible JSON

// Go's encoder escapes these even inside ordinary strings; a client must cope with it.
function goJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'),
  );
}

// Approximates Go's %q, which the server uses for model names in some messages.
const goQuote = (s: string): string => JSON.stringify(s);

// Go's float32 output is the shortest decimal that round-trips through float32, not float64.
function float32Json(x: number): number {
  const v = Math.fround(x);
  if (v === 0 || !Number.isFinite(v)) return v;
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(v.toPrecision(digits));
    if (Math.fround(candidate) === v) return candidate;
  }
  return v;
}

class GoJsonError extends Error {}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

// The Go scanner names the offending byte as a rune of that value, quoted Go-style.
function quoteByte(c: number): string {
  if (c === 0x27) return "'\\''";
  if (c === 0x22) return `'"'`;
  const short: Record<number, string> = {
    0x07: '\\a', 0x08: '\\b', 0x0c: '\\f', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t', 0x0b: '\\v', 0x5c: '\\\\',
  };
  const known = short[c];
  if (known !== undefined) return `'${known}'`;
  if (c < 0x20 || c === 0x7f) return `'\\x${hex2(c)}'`;
  if ((c >= 0x80 && c <= 0xa0) || c === 0xad) return `'\\u00${hex2(c)}'`;
  return `'${String.fromCharCode(c)}'`;
}

const MAX_JSON_DEPTH = 10000;

// gin binds with a json.Decoder: it reads the first JSON value and ignores whatever follows, and
// its errors have Go's wording. Returns the end offset of that first value.
function scanFirstValue(b: Uint8Array): number {
  const n = b.length;
  let i = 0;
  const eof = (): never => {
    throw new GoJsonError('unexpected EOF');
  };
  const bad = (c: number, where: string): never => {
    throw new GoJsonError(`invalid character ${quoteByte(c)} ${where}`);
  };
  const cur = (): number => (i < n ? (b[i] as number) : eof());
  const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
  const isHex = (c: number): boolean => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
  const skipSpace = (): void => {
    while (i < n && (b[i] === 0x20 || b[i] === 0x09 || b[i] === 0x0a || b[i] === 0x0d)) i++;
  };

  const str = (): void => {
    i++;
    while (i < n) {
      const c = b[i] as number;
      if (c === 0x22) {
        i++;
        return;
      }
      if (c === 0x5c) {
        i++;
        const e = cur();
        if (e === 0x75) {
          i++;
          for (let k = 0; k < 4; k++, i++) if (!isHex(cur())) bad(cur(), 'in \\u hexadecimal character escape');
          continue;
        }
        if (!'"\\/bfnrt'.includes(String.fromCharCode(e))) bad(e, 'in string escape code');
        i++;
        continue;
      }
      if (c < 0x20) bad(c, 'in string literal');
      i++;
    }
    eof();
  };

  const digits = (): void => {
    while (i < n && isDigit(b[i] as number)) i++;
  };
  const num = (topLevel: boolean): void => {
    if (cur() === 0x2d) {
      i++;
      if (!isDigit(cur())) bad(cur(), 'in numeric literal');
    }
    if (cur() === 0x30) i++;
    else digits();
    if (i < n && b[i] === 0x2e) {
      i++;
      if (!isDigit(cur())) bad(cur(), 'after decimal point in numeric literal');
      digits();
    }
    if (i < n && (b[i] === 0x65 || b[i] === 0x45)) {
      i++;
      if (cur() === 0x2b || cur() === 0x2d) i++;
      if (!isDigit(cur())) bad(cur(), 'in exponent of numeric literal');
      digits();
    }
    // Inside a container a number needs a delimiter after it; at top level EOF ends it.
    if (!topLevel) cur();
  };

  const literal = (word: string): void => {
    i++;
    for (let k = 1; k < word.length; k++, i++) {
      if (cur() !== word.charCodeAt(k)) bad(cur(), `in literal ${word} (expecting '${word.charAt(k)}')`);
    }
  };

  const value = (depth: number): void => {
    if (depth > MAX_JSON_DEPTH) throw new GoJsonError('exceeded max depth');
    skipSpace();
    const c = cur();
    if (c === 0x7b) obj(depth);
    else if (c === 0x5b) arr(depth);
    else if (c === 0x22) str();
    else if (c === 0x2d || isDigit(c)) num(depth === 0);
    else if (c === 0x74) literal('true');
    else if (c === 0x66) literal('false');
    else if (c === 0x6e) literal('null');
    else bad(c, 'looking for beginning of value');
  };

  const obj = (depth: number): void => {
    i++;
    skipSpace();
    if (cur() === 0x7d) {
      i++;
      return;
    }
    while (i < n) {
      skipSpace();
      if (cur() !== 0x22) bad(cur(), 'looking for beginning of object key string');
      str();
      skipSpace();
      if (cur() !== 0x3a) bad(cur(), 'after object key');
      i++;
      value(depth + 1);
      skipSpace();
      const d = cur();
      i++;
      if (d === 0x7d) return;
      if (d !== 0x2c) bad(d, 'after object key:value pair');
    }
    eof();
  };

  const arr = (depth: number): void => {
    i++;
    skipSpace();
    if (cur() === 0x5d) {
      i++;
      return;
    }
    while (i < n) {
      value(depth + 1);
      skipSpace();
      const d = cur();
      i++;
      if (d === 0x5d) return;
      if (d !== 0x2c) bad(d, 'after array element');
    }
    eof();
  };

  value(0);
  return i;
}

type Decoded = { kind: 'ok'; value: unknown } | { kind: 'empty' } | { kind: 'error'; message: string };

function decodeGoJson(raw: Buffer): Decoded {
  if (raw.every((c) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d)) return { kind: 'empty' };
  try {
    const end = scanFirstValue(raw);
    return { kind: 'ok', value: JSON.parse(raw.subarray(0, end).toString('utf8')) as unknown };
  } catch (err) {
    if (err instanceof GoJsonError) return { kind: 'error', message: err.message };
    throw err;
  }
}

// Field types of the request structs, enough to reproduce Go's unmarshal errors for the fields a
// client is likely to get wrong.
type FieldRule = 'string' | 'bool' | 'int' | 'ints' | 'object' | 'messages' | 'tools' | 'duration' | 'think' | 'any';

const GO_TYPE: Record<FieldRule, string> = {
  string: 'string', bool: 'bool', int: 'int', ints: '[]int', object: 'map[string]interface {}',
  messages: '[]api.Message', tools: 'api.Tools', duration: 'api.Duration', think: 'api.ThinkValue', any: 'interface {}',
};

interface StructRule {
  goName: string;
  fields: Record<string, FieldRule>;
}

const COMMON_FIELDS: Record<string, FieldRule> = {
  model: 'string', stream: 'bool', format: 'any', keep_alive: 'duration', options: 'object', think: 'think',
  truncate: 'bool', shift: 'bool', _debug_render_only: 'bool', logprobs: 'bool', top_logprobs: 'int',
};
const CHAT_RULE: StructRule = { goName: 'ChatRequest', fields: { ...COMMON_FIELDS, messages: 'messages', tools: 'tools' } };
const GENERATE_RULE: StructRule = {
  goName: 'GenerateRequest',
  fields: {
    ...COMMON_FIELDS, prompt: 'string', suffix: 'string', system: 'string', template: 'string',
    context: 'ints', raw: 'bool', images: 'any', width: 'int', height: 'int', steps: 'int',
  },
};
const EMBED_RULE: StructRule = {
  goName: 'EmbedRequest',
  fields: { model: 'string', input: 'any', keep_alive: 'duration', truncate: 'bool', dimensions: 'int', options: 'object' },
};
const EMBEDDINGS_RULE: StructRule = {
  goName: 'EmbeddingRequest',
  fields: { model: 'string', prompt: 'string', keep_alive: 'duration', options: 'object' },
};

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'string') return 'string';
  return 'object';
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const THINK_LEVELS = ['high', 'medium', 'low', 'max'];

function checkField(struct: string, key: string, rule: FieldRule, v: unknown): string | undefined {
  if (v === null || rule === 'any') return undefined;
  const mismatch = (what = jsonKind(v), type = GO_TYPE[rule]): string =>
    `json: cannot unmarshal ${what} into Go struct field ${struct}.${key} of type ${type}`;
  switch (rule) {
    case 'string':
      return typeof v === 'string' ? undefined : mismatch();
    case 'bool':
      return typeof v === 'boolean' ? undefined : mismatch();
    case 'int':
      if (typeof v !== 'number') return mismatch();
      return Number.isInteger(v) ? undefined : mismatch(`number ${String(v)}`);
    case 'ints':
      if (!Array.isArray(v)) return mismatch();
      for (const e of v) {
        if (e !== null && !(typeof e === 'number' && Number.isInteger(e))) return mismatch(jsonKind(e), 'int');
      }
      return undefined;
    case 'object':
      return isRecord(v) ? undefined : mismatch();
    case 'tools':
      if (!Array.isArray(v)) return mismatch();
      for (const e of v) if (e !== null && !isRecord(e)) return mismatch(jsonKind(e), 'api.Tool');
      return undefined;
    case 'messages':
      if (!Array.isArray(v)) return mismatch();
      return v.map(checkMessage).find((e) => e !== undefined);
    case 'duration':
      if (typeof v === 'number') return undefined;
      if (typeof v === 'string') {
        const d = parseGoDuration(v);
        return d.ok ? undefined : d.message;
      }
      return `Unsupported type: '${Array.isArray(v) ? '[]interface {}' : typeof v === 'boolean' ? 'bool' : 'map[string]interface {}'}'`;
    case 'think':
      if (typeof v === 'boolean') return undefined;
      if (typeof v === 'string') {
        return THINK_LEVELS.includes(v)
          ? undefined
          : `invalid think value: ${goQuote(v)} (must be "high", "medium", "low", "max", true, or false)`;
      }
      return 'think must be a boolean or string ("high", "medium", "low", "max", true, or false)';
  }
}

// api.Message has its own UnmarshalJSON that decodes through a local alias type, which is why
// Go's messages name "Alias" rather than the outer struct.
function checkMessage(m: unknown): string | undefined {
  if (m === null) return undefined;
  if (!isRecord(m)) return `json: cannot unmarshal ${jsonKind(m)} into Go value of type api.Alias`;
  for (const key of ['role', 'content', 'thinking', 'tool_name', 'tool_call_id']) {
    const v = m[key];
    if (v !== undefined && v !== null && typeof v !== 'string') {
      return `json: cannot unmarshal ${jsonKind(v)} into Go struct field Alias.${key} of type string`;
    }
  }
  return undefined;
}

type Bound = { ok: true; req: Record<string, unknown> } | { ok: false; status: number; message: string };

// What gin's ShouldBindJSON gives the handler: an object, a "missing request body" or a 400.
function bindRequest(raw: Buffer, rule: StructRule): Bound {
  const decoded = decodeGoJson(raw);
  if (decoded.kind === 'empty') return { ok: false, status: 400, message: 'missing request body' };
  if (decoded.kind === 'error') return { ok: false, status: 400, message: decoded.message };
  const v = decoded.value;
  if (v === null) return { ok: true, req: {} };
  if (!isRecord(v)) {
    return { ok: false, status: 400, message: `json: cannot unmarshal ${jsonKind(v)} into Go value of type api.${rule.goName}` };
  }
  for (const [key, value] of Object.entries(v)) {
    const fieldRule = rule.fields[key];
    if (fieldRule === undefined) continue;
    const problem = checkField(rule.goName, key, fieldRule, value);
    if (problem !== undefined) return { ok: false, status: 400, message: problem };
  }
  return { ok: true, req: v };
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9,
};

// time.ParseDuration, as keep_alive strings go through it.
function parseGoDuration(s: string): { ok: true; ns: number } | { ok: false; message: string } {
  const invalid = { ok: false as const, message: `time: invalid duration ${goQuote(s)}` };
  let rest = s;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '0') return { ok: true, ns: 0 };
  if (rest === '') return invalid;
  let total = 0;
  while (rest !== '') {
    const m = /^(\d*(?:\.\d*)?)([^\d.]*)/.exec(rest);
    const numberText = m?.[1] ?? '';
    const unit = m?.[2] ?? '';
    if (!/\d/.test(numberText)) return invalid;
    if (unit === '') return { ok: false, message: `time: missing unit in duration ${goQuote(s)}` };
    const scale = DURATION_UNITS[unit];
    if (scale === undefined) return { ok: false, message: `time: unknown unit ${goQuote(unit)} in duration ${goQuote(s)}` };
    total += Number(numberText) * scale;
    rest = rest.slice(numberText.length + unit.length);
  }
  return { ok: true, ns: sign * total };
}

// keep_alive in nanoseconds; negative means "forever". Undefined when absent or null.
function keepAliveNs(v: unknown): number | undefined {
  if (typeof v === 'number') return v < 0 ? -1 : Math.trunc(v * 1e9);
  if (typeof v === 'string') {
    const d = parseGoDuration(v);
    return d.ok ? d.ns : undefined;
  }
  return undefined;
}

// ------------------------------------------------------------------------------------------------
// The scripted model

const BASE_TIME_MS = Date.UTC(2026, 0, 1);
const LOAD_DURATION_NS = 1_000_000;
const DEFAULT_THINKING = 'Let me think about it.';
const DEFAULT_ERROR = 'an error was encountered while running the model: unexpected EOF';
const GARBAGE_LINE = '<html>this is not json</html>';
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

// time.Time in RFC 3339 with nanoseconds, trailing zeros (and a bare dot) dropped, as Go writes it.
function createdAt(index: number): string {
  return new Date(BASE_TIME_MS + index).toISOString().replace(/(\.\d*?)0+Z$/, '$1Z').replace(/\.Z$/, 'Z');
}

const words = (s: string): number => s.split(/\s+/).filter((w) => w !== '').length;

function splitTokens(text: string): string[] {
  const points = Array.from(text);
  const out: string[] = [];
  for (let k = 0; k < points.length; k += 3) out.push(points.slice(k, k + 3).join(''));
  return out;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const int = (v: unknown): number => (typeof v === 'number' && Number.isInteger(v) ? v : 0);

interface ToolSpec {
  name: string;
  required: string[];
}

interface ToolCall {
  id: string;
  function: { index: number; name: string; arguments: Record<string, unknown> };
}

interface TokenLogprob {
  token: string;
  logprob: number;
  bytes?: number[];
}

interface Logprob extends TokenLogprob {
  top_logprobs?: TokenLogprob[];
}

interface RunInput {
  endpoint: 'chat' | 'generate';
  model: string;
  think: boolean;
  tools: ToolSpec[];
  logprobs: boolean;
  topLogprobs: number;
  promptWords: number;
  echo: string;
  raw: boolean;
}

interface ChunkSpec {
  content: string;
  thinking: string;
  toolCalls: ToolCall[];
  logprobs: Logprob[];
  final: boolean;
}

interface Plan {
  run: RunInput;
  chunks: ChunkSpec[];
  doneReason: string;
  metrics: Array<[string, number]>;
  context: number[];
}

function parseTools(v: unknown): ToolSpec[] {
  if (!Array.isArray(v)) return [];
  return v.filter(isRecord).map((tool) => {
    const fn = isRecord(tool['function']) ? tool['function'] : {};
    const params = isRecord(fn['parameters']) ? fn['parameters'] : {};
    const required = Array.isArray(params['required'])
      ? params['required'].filter((r): r is string => typeof r === 'string')
      : [];
    return { name: str(fn['name']), required };
  });
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(s, 'utf8')) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h;
}

// Real ids are random; a test needs them stable, so derive them from what they identify.
function toolCallId(name: string, index: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let h = fnv1a(`${name}#${index}`);
  let id = 'call_';
  for (let k = 0; k < 8; k++) {
    h = (Math.imul(h, 1103515245) + 12345) >>> 0;
    id += alphabet.charAt((h >>> 16) % alphabet.length);
  }
  return id;
}

const MAX_TOOL_CALLS = 1000;

function makeToolCalls(tools: ToolSpec[], count: number): ToolCall[] {
  const calls: ToolCall[] = [];
  const n = Math.min(Math.max(0, Math.trunc(count)), MAX_TOOL_CALLS);
  for (let k = 0; k < n && tools.length > 0; k++) {
    const tool = tools[k % tools.length] as ToolSpec;
    const args: Record<string, unknown> = {};
    for (const p of tool.required) args[p] = `value-${p}`;
    calls.push({ id: toolCallId(tool.name, k), function: { index: k, name: tool.name, arguments: args } });
  }
  return calls;
}

function tokenLogprob(token: string, hundredths: number): TokenLogprob {
  const out: TokenLogprob = { token, logprob: -hundredths / 100 };
  // bytes is omitempty in Go
  if (token !== '') out.bytes = [...Buffer.from(token, 'utf8')];
  return out;
}

function makeLogprob(token: string, position: number, top: number): Logprob {
  const hundredths = ((position * 37) % 97) + 1;
  const entry: Logprob = tokenLogprob(token, hundredths);
  if (top > 0) {
    entry.top_logprobs = Array.from({ length: top }, (_, j) =>
      j === 0 ? tokenLogprob(token, hundredths) : tokenLogprob(`${token}~${j}`, hundredths + 25 * j),
    );
  }
  return entry;
}

// The whole reply is decided before the first byte, so pendingChunks can be exact.
function planReply(run: RunInput, b: Behaviour): Plan {
  const thinking = run.think ? (b.thinkingTokens ?? splitTokens(DEFAULT_THINKING)) : [];
  const content = b.tokens ?? splitTokens(`You said: ${run.echo}. é 漢字 🦙 done`);
  const calls = run.endpoint === 'chat' ? makeToolCalls(run.tools, b.toolCallCount ?? 1) : [];
  const callsInFinal = b.toolCallsIn === 'final';
  const finalText = b.finalText ?? '';
  let position = 0;
  const logprobsFor = (token: string): Logprob[] =>
    run.logprobs ? [makeLogprob(token, position++, run.topLogprobs)] : [];
  const spec = (part: Partial<ChunkSpec>): ChunkSpec => ({
    content: '', thinking: '', toolCalls: [], logprobs: [], final: false, ...part,
  });

  const chunks: ChunkSpec[] = [];
  for (const t of thinking) chunks.push(spec({ thinking: t }));
  for (const t of content) chunks.push(spec({ content: t, logprobs: logprobsFor(t) }));
  if (!callsInFinal) for (const call of calls) chunks.push(spec({ toolCalls: [call] }));
  if (b.omitDone !== true) {
    chunks.push(spec({
      content: finalText,
      toolCalls: callsInFinal ? calls : [],
      logprobs: finalText !== '' ? logprobsFor(finalText) : [],
      final: true,
    }));
  }

  const promptEvalCount = run.promptWords;
  const evalCount = thinking.length + content.length + (finalText !== '' ? 1 : 0);
  const promptEvalDuration = 1000 * promptEvalCount;
  const evalDuration = 2000 * evalCount;
  return {
    run,
    chunks,
    doneReason: b.doneReason ?? 'stop',
    metrics: [
      ['total_duration', LOAD_DURATION_NS + promptEvalDuration + evalDuration],
      ['load_duration', LOAD_DURATION_NS],
      ['prompt_eval_count', promptEvalCount],
      ['prompt_eval_duration', promptEvalDuration],
      ['eval_count', evalCount],
      ['eval_duration', evalDuration],
    ],
    context: run.endpoint === 'generate' && !run.raw
      ? Array.from({ length: evalCount + promptEvalCount }, (_, k) => k + 1)
      : [],
  };
}

function addMetrics(out: Record<string, unknown>, plan: Plan): void {
  for (const [key, value] of plan.metrics) if (value !== 0) out[key] = value;
}

// Key order and omitempty follow api.ChatResponse / api.GenerateResponse.
function renderChunk(plan: Plan, c: ChunkSpec, index: number): Record<string, unknown> {
  const out: Record<string, unknown> = { model: plan.run.model, created_at: createdAt(index) };
  if (plan.run.endpoint === 'chat') {
    const message: Record<string, unknown> = { role: 'assistant', content: c.content };
    if (c.thinking !== '') message['thinking'] = c.thinking;
    if (c.toolCalls.length > 0) message['tool_calls'] = c.toolCalls;
    out['message'] = message;
    out['done'] = c.final;
    if (c.final && plan.doneReason !== '') out['done_reason'] = plan.doneReason;
    if (c.logprobs.length > 0) out['logprobs'] = c.logprobs;
    if (c.final) addMetrics(out, plan);
    return out;
  }
  out['response'] = c.content;
  if (c.thinking !== '') out['thinking'] = c.thinking;
  out['done'] = c.final;
  if (c.final && plan.doneReason !== '') out['done_reason'] = plan.doneReason;
  if (c.final && plan.context.length > 0) out['context'] = plan.context;
  if (c.final) addMetrics(out, plan);
  if (c.toolCalls.length > 0) out['tool_calls'] = c.toolCalls;
  if (c.logprobs.length > 0) out['logprobs'] = c.logprobs;
  return out;
}

// stream:false, as ChatHandler/GenerateHandler build it: text, thinking and logprobs gathered from
// every chunk, tool calls gathered (chat, only when the request had tools), the rest from the last.
function aggregate(plan: Plan): Record<string, unknown> {
  const last = plan.chunks.at(-1);
  if (last === undefined) {
    const zeroTime = '0001-01-01T00:00:00Z';
    return plan.run.endpoint === 'chat'
      ? { model: '', created_at: zeroTime, message: { role: '', content: '' }, done: false }
      : { model: '', created_at: zeroTime, response: '', done: false };
  }
  const merged: ChunkSpec = {
    content: plan.chunks.map((c) => c.content).join(''),
    thinking: plan.chunks.map((c) => c.thinking).join(''),
    toolCalls: plan.run.endpoint === 'chat' && plan.run.tools.length > 0
      ? plan.chunks.flatMap((c) => c.toolCalls)
      : last.toolCalls,
    logprobs: plan.chunks.flatMap((c) => c.logprobs),
    final: last.final,
  };
  return renderChunk(plan, merged, plan.chunks.length - 1);
}

// ------------------------------------------------------------------------------------------------
// Endpoint logic, free of I/O: a request body in, a Reply out.

const JSON_UTF8 = 'application/json; charset=utf-8';

type Reply =
  | {
    kind: 'single';
    status: number;
    contentType: string;
    body: string;
    /** How many chunks the model works through before this answer (0: none, so no model knob applies). */
    work: number;
  }
  | { kind: 'stream'; lines: string[] };

const single = (status: number, body: object, work: number): Reply =>
  ({ kind: 'single', status, contentType: JSON_UTF8, body: goJson(body), work });
const failure = (status: number, message: string): Reply => single(status, { error: message }, 0);

function runReply(run: RunInput, stream: boolean, b: Behaviour): Reply {
  const plan = planReply(run, b);
  if (!stream) return single(200, aggregate(plan), plan.chunks.length);
  return { kind: 'stream', lines: plan.chunks.map((c, k) => goJson(renderChunk(plan, c, k))) };
}

// Thinking is on by default for models that can think; asking a model that cannot is an error.
function resolveThink(m: InstalledModel, asSent: string, think: unknown): boolean | Reply {
  const wanted = typeof think === 'boolean' ? think : typeof think === 'string' ? THINK_LEVELS.includes(think) : undefined;
  if (can(m, 'thinking')) return wanted ?? true;
  if (wanted === true) return failure(400, `${goQuote(asSent)} does not support thinking`);
  return false;
}

function chatReply(raw: Buffer, b: Behaviour): Reply {
  const bound = bindRequest(raw, CHAT_RULE);
  if (!bound.ok) return failure(bound.status, bound.message);
  const req = bound.req;
  const top = int(req['top_logprobs']);
  if (top < 0 || top > 20) return failure(400, 'top_logprobs must be between 0 and 20');
  const name = str(req['model']);
  if (name === '') return failure(400, 'model is required');
  const m = findModel(name);
  if (m === undefined) return failure(404, `model '${name}' not found`);
  const messages = Array.isArray(req['messages']) ? req['messages'].filter(isRecord) : [];
  const unloadOrLoad = (reason: string, work: number): Reply => single(200, {
    model: name, created_at: createdAt(0), message: { role: 'assistant', content: '' }, done: true, done_reason: reason,
  }, work);
  if (messages.length === 0 && keepAliveNs(req['keep_alive']) === 0) return unloadOrLoad('unload', 0);

  const think = resolveThink(m, name, req['think']);
  if (typeof think !== 'boolean') return think;
  const tools = parseTools(req['tools']);
  if (!can(m, 'completion')) return failure(400, `${goQuote(name)} does not support chat`);
  if (tools.length > 0 && !can(m, 'tools')) return failure(400, `${fullName(m)} does not support tools`);
  if (messages.length === 0) return unloadOrLoad('load', 1);

  const lastUser = [...messages].reverse().find((msg) => str(msg['role']).toLowerCase() === 'user');
  return runReply({
    endpoint: 'chat',
    model: name,
    think,
    tools,
    logprobs: req['logprobs'] === true,
    topLogprobs: top,
    promptWords: messages.reduce((sum, msg) => sum + words(str(msg['content'])), 0),
    echo: str(lastUser?.['content']),
    raw: false,
  }, req['stream'] !== false, b);
}

function generateReply(raw: Buffer, b: Behaviour): Reply {
  const bound = bindRequest(raw, GENERATE_RULE);
  if (!bound.ok) return failure(bound.status, bound.message);
  const req = bound.req;
  const top = int(req['top_logprobs']);
  if (top < 0 || top > 20) return failure(400, 'top_logprobs must be between 0 and 20');
  const name = str(req['model']);
  const m = name === '' ? undefined : findModel(name);
  if (m === undefined) return failure(404, `model '${name}' not found`);
  const prompt = str(req['prompt']);
  const unloadOrLoad = (reason: string, work: number): Reply => single(200, {
    model: name, created_at: createdAt(0), response: '', done: true, done_reason: reason,
  }, work);
  if (prompt === '' && keepAliveNs(req['keep_alive']) === 0) return unloadOrLoad('unload', 0);

  const rawMode = req['raw'] === true;
  const context = Array.isArray(req['context']) ? req['context'] : [];
  if (rawMode && (str(req['template']) !== '' || str(req['system']) !== '' || context.length > 0)) {
    return failure(400, 'raw mode does not support template, system, or context');
  }
  const think = resolveThink(m, name, req['think']);
  if (typeof think !== 'boolean') return think;
  if (!can(m, 'completion')) return failure(400, `${goQuote(name)} does not support generate`);
  if (str(req['suffix']) !== '') return failure(400, `${fullName(m)} does not support insert`);
  if (prompt === '') return unloadOrLoad('load', 1);

  return runReply({
    endpoint: 'generate',
    model: name,
    think,
    tools: [],
    logprobs: req['logprobs'] === true,
    topLogprobs: top,
    promptWords: words(str(req['system'])) + words(prompt),
    echo: prompt,
    raw: rawMode,
  }, req['stream'] !== false, b);
}

const BASE_DIMENSIONS = 8;

// Deterministic and different for different texts; not meant to mean anything.
function rawVector(text: string, dimensions: number): number[] {
  const points = Array.from(text, (c) => c.codePointAt(0) ?? 0);
  return Array.from({ length: dimensions }, (_, j) => {
    let sum = 0;
    points.forEach((p, k) => {
      sum += Math.sin(p * (j + 1) * 0.013 + k * 0.7);
    });
    return Math.fround(sum / Math.max(1, points.length));
  });
}

function normalised(v: number[]): number[] {
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  const scale = 1 / Math.max(norm, 1e-12);
  return v.map((x) => float32Json(x * scale));
}

function embedReply(raw: Buffer, b: Behaviour): Reply {
  const bound = bindRequest(raw, EMBED_RULE);
  if (!bound.ok) return failure(bound.status, bound.message);
  const req = bound.req;
  const name = str(req['model']);
  if (name === '') return failure(404, "model '' not found");
  const input = req['input'];
  let inputs: string[];
  if (typeof input === 'string') inputs = input === '' ? [] : [input];
  else if (Array.isArray(input)) {
    if (!input.every((e) => typeof e === 'string')) return failure(400, 'invalid input type');
    inputs = input;
  } else if (input === undefined || input === null) inputs = [];
  else return failure(400, 'invalid input type');
  if (findModel(name) === undefined) return failure(404, `model ${goQuote(name)} not found, try pulling it first`);
  if (inputs.length === 0) return single(200, { model: name, embeddings: [] }, 1);

  const requested = int(req['dimensions']);
  const dimensions = requested > 0 ? requested : BASE_DIMENSIONS;
  const kept = Math.max(0, inputs.length - Math.max(0, b.dropVectors ?? 0));
  const embeddings = inputs.slice(0, kept).map((text) => normalised(rawVector(text, dimensions)));
  const promptEvalCount = inputs.reduce((sum, text) => sum + Math.max(1, words(text)), 0);
  return single(200, {
    model: name,
    embeddings,
    total_duration: LOAD_DURATION_NS + 1000 * promptEvalCount,
    load_duration: LOAD_DURATION_NS,
    prompt_eval_count: promptEvalCount,
  }, 1);
}

function embeddingsReply(raw: Buffer, b: Behaviour): Reply {
  const bound = bindRequest(raw, EMBEDDINGS_RULE);
  if (!bound.ok) return failure(bound.status, bound.message);
  const req = bound.req;
  const name = str(req['model']);
  if (name === '') return failure(400, 'model is required');
  if (findModel(name) === undefined) return failure(404, `model ${goQuote(name)} not found, try pulling it first`);
  const prompt = str(req['prompt']);
  // The legacy endpoint returns the runner's float32 values widened to float64, unnormalised.
  const embedding = prompt === '' || (b.dropVectors ?? 0) > 0 ? [] : rawVector(prompt, BASE_DIMENSIONS);
  return single(200, { embedding }, 1);
}

type ModelPath = '/api/chat' | '/api/generate' | '/api/embed' | '/api/embeddings';

const MODEL_ENDPOINTS: Record<ModelPath, (raw: Buffer, b: Behaviour) => Reply> = {
  '/api/chat': chatReply,
  '/api/generate': generateReply,
  '/api/embed': embedReply,
  '/api/embeddings': embeddingsReply,
};

const isModelPath = (p: string): p is ModelPath => Object.hasOwn(MODEL_ENDPOINTS, p);

// ------------------------------------------------------------------------------------------------
// Transport: one Exchange per request

// A cancellable wait: everything that sleeps goes through it so that a client leaving or close()
// wakes it at once and no timer outlives the connection.
interface Lifeline {
  dead: boolean;
  wakers: Set<() => void>;
}

function endLife(life: Lifeline): void {
  if (life.dead) return;
  life.dead = true;
  for (const wake of life.wakers) wake();
  life.wakers.clear();
}

/** Resolves after ms, or when the lifeline ends; ms undefined = only when it ends. */
function pause(life: Lifeline, ms?: number): Promise<void> {
  if (life.dead) return Promise.resolve();
  return new Promise((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const wake = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      life.wakers.delete(wake);
      resolve();
    };
    life.wakers.add(wake);
    if (ms !== undefined) timer = setTimeout(wake, Math.max(0, ms));
  });
}

interface Exchange {
  res: ServerResponse;
  record: RecordedRequest;
  life: Lifeline;
  /** Body bytes written so far, for placing cuts. */
  offset: number;
  cuts: number[];
  pieceDelayMs: number;
  bomPending: boolean;
  /** The script itself dropped the connection, so its closing is not the client's doing. */
  droppedByScript: boolean;
}

function rawWrite(ex: Exchange, data: Buffer): void {
  if (ex.life.dead || ex.res.destroyed) return;
  ex.record.firstByteAt ??= performance.now();
  ex.res.write(data);
}

// Writes body bytes, splitting them at the requested cuts with a pause in between so each piece
// reaches the client as its own read. Returns false if the connection is gone.
async function emit(ex: Exchange, text: string | Buffer): Promise<boolean> {
  let data = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  if (ex.bomPending) {
    data = Buffer.concat([BOM, data]);
    ex.bomPending = false;
  }
  const start = ex.offset;
  const end = start + data.length;
  if (start > 0 && ex.cuts.includes(start)) await pause(ex.life, ex.pieceDelayMs);
  let from = 0;
  for (const cut of ex.cuts) {
    if (cut <= start || cut >= end) continue;
    rawWrite(ex, data.subarray(from, cut - start));
    from = cut - start;
    await pause(ex.life, ex.pieceDelayMs);
  }
  rawWrite(ex, data.subarray(from));
  ex.offset = end;
  return !ex.life.dead;
}

function finish(ex: Exchange): void {
  if (ex.life.dead || ex.res.destroyed) return;
  ex.record.firstByteAt ??= performance.now();
  ex.res.end();
}

function resetConnection(ex: Exchange): void {
  ex.droppedByScript = true;
  ex.res.socket?.resetAndDestroy();
}

function closeConnection(ex: Exchange): void {
  ex.droppedByScript = true;
  // FIN after whatever is already queued, without the chunked terminator.
  ex.res.socket?.destroySoon();
}

async function sendWhole(ex: Exchange, status: number, headers: Record<string, string>, body: string): Promise<void> {
  const bytes = Buffer.from(body, 'utf8');
  ex.res.statusCode = status;
  for (const [k, v] of Object.entries(headers)) ex.res.setHeader(k, v);
  const lengthGiven = Object.keys(headers).some((k) => /^(content-length|transfer-encoding)$/i.test(k));
  if (!lengthGiven && bytes.length > 0) ex.res.setHeader('Content-Length', bytes.length + (ex.bomPending ? BOM.length : 0));
  if (bytes.length > 0 || ex.bomPending) {
    if (!(await emit(ex, bytes))) return;
  }
  finish(ex);
}

type Step =
  | { kind: 'wait'; ms?: number }
  | { kind: 'chunk'; index: number }
  | { kind: 'line'; text: string }
  | { kind: 'blank' }
  | { kind: 'fail' }
  | { kind: 'reset' }
  | { kind: 'close' };

// Turns the chunk list and the knobs into the exact sequence of things to do.
function streamSteps(count: number, b: Behaviour): Step[] {
  const steps: Step[] = [];
  const errorLine = goJson({ error: b.errorText ?? DEFAULT_ERROR });
  let wroteLine = false;
  for (let k = 0; k <= count; k++) {
    if (b.stallAfter === k) steps.push(b.stallMs === undefined ? { kind: 'wait' } : { kind: 'wait', ms: b.stallMs });
    if (b.resetAfter === k) return [...steps, { kind: 'reset' }];
    if (b.closeAfter === k) return [...steps, { kind: 'close' }];
    if (b.garbageAfter === k) {
      steps.push({ kind: 'line', text: GARBAGE_LINE });
      wroteLine = true;
    }
    if (b.errorAfter === k) return [...steps, wroteLine ? { kind: 'line', text: errorLine } : { kind: 'fail' }];
    if (k === count) break;
    if (k > 0 && (b.chunkDelayMs ?? 0) > 0) steps.push({ kind: 'wait', ms: b.chunkDelayMs ?? 0 });
    if (b.blankLines === true) steps.push({ kind: 'blank' });
    steps.push({ kind: 'chunk', index: k });
    wroteLine = true;
  }
  return steps;
}

async function playStream(ex: Exchange, lines: string[], b: Behaviour): Promise<void> {
  const steps = streamSteps(lines.length, b);
  const eol = b.crlf === true ? '\r\n' : '\n';
  let lastLine = -1;
  steps.forEach((s, at) => {
    if (s.kind === 'chunk' || s.kind === 'line') lastLine = at;
  });
  const ending = (at: number): string => (at === lastLine && b.noFinalNewline === true ? '' : eol);
  ex.res.statusCode = 200;
  ex.res.setHeader('Content-Type', 'application/x-ndjson');

  for (const [at, step] of steps.entries()) {
    if (ex.life.dead) return;
    switch (step.kind) {
      case 'wait':
        await pause(ex.life, step.ms);
        break;
      case 'blank':
        await emit(ex, eol);
        break;
      case 'line':
        await emit(ex, step.text + ending(at));
        break;
      case 'chunk':
        if (await emit(ex, (lines[step.index] ?? '') + ending(at))) {
          ex.record.chunksWritten++;
          ex.record.pendingChunks--;
        }
        break;
      case 'reset':
        // A RST makes the client's kernel drop bytes it has not read yet, so a reset at the very
        // moment of the last write would take the chunks with it. A real mid-stream reset (a
        // crashed runner, a proxy) comes after delivered output: let the chunks land first.
        if (ex.record.chunksWritten > 0) await pause(ex.life, 50);
        if (ex.life.dead) return;
        resetConnection(ex);
        return;
      case 'close':
        closeConnection(ex);
        return;
      case 'fail':
        // Nothing is out yet, so the server can still pick a status; streamResponse then sets a
        // bare application/json.
        ex.res.statusCode = b.errorStatus ?? 500;
        ex.res.setHeader('Content-Type', 'application/json');
        await emit(ex, goJson({ error: b.errorText ?? DEFAULT_ERROR }));
        finish(ex);
        return;
    }
  }
  finish(ex);
}

// A one-object answer: the model knobs act on the work behind it as a whole, since a
// non-streaming server writes nothing until the work is done.
async function playSingle(ex: Exchange, reply: Extract<Reply, { kind: 'single' }>, b: Behaviour): Promise<void> {
  const fires = (knob: number | undefined): boolean => knob !== undefined && knob < reply.work;
  if (fires(b.stallAfter)) {
    await pause(ex.life, b.stallMs);
    if (ex.life.dead) return;
  }
  if (fires(b.resetAfter)) {
    ex.record.pendingChunks = 0;
    resetConnection(ex);
    return;
  }
  if (fires(b.closeAfter)) {
    ex.record.pendingChunks = 0;
    closeConnection(ex);
    return;
  }
  if (fires(b.errorAfter)) {
    await sendWhole(ex, b.errorStatus ?? 500, { 'Content-Type': JSON_UTF8 }, goJson({ error: b.errorText ?? DEFAULT_ERROR }));
  } else {
    const generation = (b.chunkDelayMs ?? 0) * Math.max(0, reply.work - 1);
    if (generation > 0) {
      await pause(ex.life, generation);
      if (ex.life.dead) return;
    }
    await sendWhole(ex, reply.status, { 'Content-Type': reply.contentType }, reply.body);
  }
  if (!ex.life.dead) ex.record.pendingChunks = 0;
}

const chunkSteps = (steps: Step[]): number => steps.filter((s) => s.kind === 'chunk').length;

async function deliver(ex: Exchange, reply: Reply, b: Behaviour): Promise<void> {
  ex.record.pendingChunks = reply.kind === 'stream' ? chunkSteps(streamSteps(reply.lines.length, b)) : 1;
  if ((b.headersDelayMs ?? 0) > 0) {
    await pause(ex.life, b.headersDelayMs);
    if (ex.life.dead) return;
  }
  if (b.respond !== undefined) {
    ex.bomPending = false;
    await sendWhole(ex, b.respond.status, b.respond.headers ?? {}, b.respond.body ?? '');
    if (!ex.life.dead) ex.record.pendingChunks = 0;
    return;
  }
  if (b.resetAfter === 0 || b.closeAfter === 0) {
    ex.record.pendingChunks = 0;
    if (b.resetAfter === 0) resetConnection(ex);
    else closeConnection(ex);
    return;
  }
  if (reply.kind === 'stream') await playStream(ex, reply.lines, b);
  else await playSingle(ex, reply, b);
}

// ------------------------------------------------------------------------------------------------
// Server

interface State {
  requests: RecordedRequest[];
  queue: Behaviour[];
  live: Set<Exchange>;
  closing: boolean;
}

const KNOWN_PATHS: Record<string, readonly string[]> = {
  '/': ['GET', 'HEAD'],
  '/api/version': ['GET', 'HEAD'],
  '/api/tags': ['GET', 'HEAD'],
  '/api/chat': ['POST'],
  '/api/generate': ['POST'],
  '/api/embed': ['POST'],
  '/api/embeddings': ['POST'],
};

function readBody(req: IncomingMessage, life: Lifeline): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', () => resolve(undefined));
    life.wakers.add(() => resolve(undefined));
  });
}

function parseJsonOrUndefined(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function sanitise(b: Behaviour): Behaviour {
  const cuts = Array.isArray(b.cuts) ? b.cuts.filter((c) => Number.isInteger(c) && c > 0) : [];
  return { ...b, cuts: [...new Set(cuts)].sort((x, y) => x - y) };
}

// The header wins and leaves the queue alone, so a test can mix both.
function pickBehaviour(state: State, headers: IncomingHttpHeaders): Behaviour | string {
  const header = headers[BEHAVIOUR_HEADER];
  if (typeof header === 'string') {
    try {
      const parsed = JSON.parse(header) as unknown;
      return isRecord(parsed) ? sanitise(parsed as Behaviour) : `${BEHAVIOUR_HEADER} must be a JSON object`;
    } catch (err) {
      return `${BEHAVIOUR_HEADER} is not valid JSON: ${(err as Error).message}`;
    }
  }
  return sanitise(state.queue.shift() ?? {});
}

function configure(ex: Exchange, b: Behaviour): void {
  ex.cuts = b.cuts ?? [];
  ex.pieceDelayMs = b.pieceDelayMs ?? 15;
  ex.bomPending = b.bom === true;
}

async function serve(state: State, ex: Exchange, method: string, path: string): Promise<void> {
  const allowed = KNOWN_PATHS[path];
  const plain = (status: number, body: string): Promise<void> =>
    sendWhole(ex, status, { 'Content-Type': 'text/plain' }, body);
  ex.record.pendingChunks = 1;
  if (allowed === undefined) return plain(404, '404 page not found');
  if (!allowed.includes(method)) return plain(405, '405 method not allowed');

  if (isModelPath(path)) {
    const b = pickBehaviour(state, ex.record.headers);
    if (typeof b === 'string') return plain(400, b);
    configure(ex, b);
    return deliver(ex, MODEL_ENDPOINTS[path](ex.record.rawBody, b), b);
  }

  const head = method === 'HEAD';
  const fixed: Record<string, [string, string]> = {
    '/': ['text/plain; charset=utf-8', 'Ollama is running'],
    '/api/version': [JSON_UTF8, goJson({ version: FAKE_OLLAMA_VERSION })],
    '/api/tags': [JSON_UTF8, tagsBody()],
  };
  const [contentType, body] = fixed[path] ?? ['text/plain', ''];
  if (head) {
    ex.res.setHeader('Content-Length', Buffer.byteLength(body));
    return sendWhole(ex, 200, { 'Content-Type': contentType }, '');
  }
  // Only the header applies here: the queue belongs to model requests, so a health check or a
  // model listing in between does not shift a test's script.
  if (typeof ex.record.headers[BEHAVIOUR_HEADER] === 'string') {
    const b = pickBehaviour(state, ex.record.headers);
    if (typeof b === 'string') return plain(400, b);
    configure(ex, b);
    return deliver(ex, { kind: 'single', status: 200, contentType, body, work: 1 }, b);
  }
  return sendWhole(ex, 200, { 'Content-Type': contentType }, body);
}

async function handle(state: State, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const life: Lifeline = { dead: false, wakers: new Set() };
  const record: RecordedRequest = {
    method: req.method ?? 'GET',
    path: (req.url ?? '/').split('?')[0] ?? '/',
    headers: req.headers,
    rawBody: Buffer.alloc(0),
    body: undefined,
    receivedAt: 0,
    clientDisconnected: false,
    chunksWritten: 0,
    pendingChunks: 0,
  };
  const ex: Exchange = { res, record, life, offset: 0, cuts: [], pieceDelayMs: 15, bomPending: false, droppedByScript: false };
  state.live.add(ex);
  res.on('error', () => undefined);
  res.on('close', () => {
    record.closedAt = performance.now();
    record.clientDisconnected = !res.writableFinished && !ex.droppedByScript && !state.closing;
    state.live.delete(ex);
    endLife(life);
  });

  const raw = await readBody(req, life);
  if (raw === undefined || life.dead) return;
  record.rawBody = raw;
  record.body = parseJsonOrUndefined(raw);
  record.receivedAt = performance.now();
  state.requests.push(record);
  await serve(state, ex, record.method, record.path);
}

export async function startFakeOllama(options: { port?: number; host?: string } = {}): Promise<FakeOllama> {
  const state: State = { requests: [], queue: [], live: new Set(), closing: false };
  const sockets = new Set<Socket>();
  const waits = new Set<() => void>();

  const server = createServer((req, res) => {
    handle(state, req, res).catch((err: unknown) => {
      // A bug in the stand-in must surface in the test as a response, never as console noise.
      if (!res.headersSent && !res.destroyed) {
        res.statusCode = 500;
        res.setHeader('Content-Type', 'text/plain');
        res.end(`fake-ollama internal error: ${err instanceof Error ? err.message : String(err)}`);
      } else {
        res.destroy();
      }
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_err, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let closed: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    requests: state.requests,
    script(...behaviours: Behaviour[]): void {
      state.queue.push(...behaviours);
    },
    expected(path: '/api/chat' | '/api/generate', body: object, behaviour: Behaviour = {}): Promise<unknown> {
      const raw = Buffer.from(JSON.stringify({ ...body, stream: false }), 'utf8');
      const reply = MODEL_ENDPOINTS[path](raw, sanitise(behaviour));
      return Promise.resolve(reply.kind === 'single' ? (JSON.parse(reply.body) as unknown) : undefined);
    },
    waitFor(pred: (r: RecordedRequest[]) => boolean, timeoutMs: number): Promise<void> {
      return new Promise((resolve, reject) => {
        const started = performance.now();
        let timer: ReturnType<typeof setTimeout> | undefined;
        const stop = (): void => {
          if (timer !== undefined) clearTimeout(timer);
          waits.delete(cancel);
        };
        const cancel = (): void => {
          stop();
          reject(new Error('waitFor: the fake Ollama server was closed while waiting'));
        };
        const check = (): void => {
          let ok: boolean;
          try {
            ok = pred(state.requests);
          } catch (err) {
            stop();
            reject(err instanceof Error ? err : new Error(String(err)));
            return;
          }
          if (ok) {
            stop();
            resolve();
          } else if (performance.now() - started >= timeoutMs) {
            stop();
            const seen = state.requests.map((r) => `${r.method} ${r.path}`).join(', ') || 'none';
            reject(new Error(`waitFor: condition still false after ${timeoutMs} ms (requests so far: ${seen})`));
          } else {
            timer = setTimeout(check, 10);
          }
        };
        waits.add(cancel);
        check();
      });
    },
    close(): Promise<void> {
      closed ??= new Promise<void>((resolve) => {
        state.closing = true;
        for (const cancel of [...waits]) cancel();
        for (const ex of [...state.live]) endLife(ex.life);
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      });
      return closed;
    },
  };
}
