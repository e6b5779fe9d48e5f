// A stand-in for the Ollama server, for tests. It speaks the native REST protocol closely enough
// that a client cannot tell the difference for the endpoints it implements, and every reply is
// deterministic so tests can compare bytes. On top of that it can misbehave on demand (delays,
// split writes, garbage, resets...) through a Behaviour, given per request or queued in advance.

import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { serveV1, type V1Behaviour, type V1Io } from './fake-v1.ts';

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
  /**
   * Also cut inside every multi-byte UTF-8 character, right after its first byte, so that no
   * character arrives whole in one read.
   */
  splitCharacters?: boolean;
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
  /**
   * /api/pull, /api/push and a create that pulls its `from`: how many `pulling <digest>` (or
   * `pushing <digest>`) lines to send, across all the layers; default 6. A pull then sends
   * 1 + progressUpdates + 3 lines in all, a push 1 + progressUpdates + 2.
   */
  progressUpdates?: number;
  /**
   * Header only: the n-th request that carries this exact header gets the n-th behaviour, and
   * the last one repeats. With a `tag`, one scenario's sequence is its own even when several
   * run against the same server.
   */
  sequence?: Behaviour[];
  /** Changes nothing in the reply; names the request for GET /_fake/requests?tag=. */
  tag?: string;
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
  /**
   * Requests to the same path in flight when this one's body had been received, this one
   * included. A request is in flight from its arrival until its response or connection closes.
   */
  concurrent: number;
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
  /**
   * The blobs uploaded with POST /api/blobs/:digest, by `sha256:<64 hex>`. Layers of pulled or
   * created models are known to the server (HEAD finds them) but hold no bytes here.
   */
  readonly blobs: Map<string, Buffer>;
  /** The installed models (names as /api/tags lists them, in its order: most recent first). */
  models(): string[];
  /**
   * Queue behaviours; each request to chat, generate, embed, embeddings, show, copy, delete, pull,
   * push, create or blobs without an x-fake-behaviour header takes the next one.
   */
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
    name: 'llama3.2:latest',
    family: 'llama',
    parameterSize: '3.2B',
    quantization: 'Q4_K_M',
    format: 'gguf',
    size: 2019393189,
    modifiedAt: '2025-12-01T09:15:42.318274913+01:00',
    capabilities: ['completion', 'tools'],
  },
  {
    name: 'qwen3:latest',
    family: 'qwen3',
    parameterSize: '8.2B',
    quantization: 'Q4_K_M',
    format: 'gguf',
    size: 5225388164,
    modifiedAt: '2025-11-20T18:02:07.5521+01:00',
    capabilities: ['completion', 'tools', 'thinking'],
  },
  {
    name: 'nomic-embed-text:latest',
    family: 'nomic-bert',
    parameterSize: '137M',
    quantization: 'F16',
    format: 'gguf',
    size: 274302450,
    modifiedAt: '2025-10-02T07:44:19.06+02:00',
    capabilities: ['embedding'],
  },
];

// Models the stand-in's registry offers to /api/pull besides the installed ones.
const PULLABLE_EXTRA: readonly InstalledModel[] = [
  {
    name: 'tinyllama:latest',
    family: 'llama',
    parameterSize: '1B',
    quantization: 'Q4_0',
    format: 'gguf',
    size: 637700138,
    modifiedAt: '',
    capabilities: ['completion'],
  },
  {
    name: 'all-minilm:latest',
    family: 'bert',
    parameterSize: '23M',
    quantization: 'F16',
    format: 'gguf',
    size: 45960996,
    modifiedAt: '',
    capabilities: ['embedding'],
  },
];

// What the GGUF header of each model would say, for /api/show's model_info and tensors.
interface ModelFacts {
  architecture: string;
  contextLength: number;
  embeddingLength: number;
  blockCount: number;
  headCount: number;
  parameterCount: number;
  /** general.file_type: 1 F16, 2 Q4_0, 15 Q4_K_M... */
  fileType: number;
  vocabularySize: number;
  tokenizer: 'gpt2' | 'bert';
  template: string;
  license: string;
  parameters: Record<string, unknown>;
}

const LLAMA_TEMPLATE =
  '{{- if .System }}<|start_header_id|>system<|end_header_id|>\n\n{{ .System }}<|eot_id|>{{ end }}' +
  '{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n{{ .Content }}<|eot_id|>{{ end }}' +
  '{{- if .Tools }}{{ .Tools }}{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n';
const QWEN_TEMPLATE =
  '{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}' +
  '{{- if .Tools }}<tools>{{ .Tools }}</tools>{{ end }}<|im_start|>assistant\n<think>\n';
const ZEPHYR_TEMPLATE = '<|system|>\n{{ .System }}</s>\n<|user|>\n{{ .Prompt }}</s>\n<|assistant|>\n';
const APACHE = 'Apache License\nVersion 2.0, January 2004\nhttp://www.apache.org/licenses/';

const FACTS: Record<string, ModelFacts> = {
  'llama3.2:latest': {
    architecture: 'llama',
    contextLength: 131072,
    embeddingLength: 3072,
    blockCount: 28,
    headCount: 24,
    parameterCount: 3212749888,
    fileType: 15,
    vocabularySize: 128256,
    tokenizer: 'gpt2',
    template: LLAMA_TEMPLATE,
    license: 'LLAMA 3.2 COMMUNITY LICENSE AGREEMENT\nLlama 3.2 Version Release Date: September 25, 2024',
    parameters: { stop: ['<|start_header_id|>', '<|end_header_id|>', '<|eot_id|>'] },
  },
  'qwen3:latest': {
    architecture: 'qwen3',
    contextLength: 40960,
    embeddingLength: 4096,
    blockCount: 36,
    headCount: 32,
    parameterCount: 8190735360,
    fileType: 15,
    vocabularySize: 151936,
    tokenizer: 'gpt2',
    template: QWEN_TEMPLATE,
    license: APACHE,
    parameters: { repeat_penalty: 1, stop: ['<|im_start|>', '<|im_end|>'], temperature: 0.6, top_k: 20, top_p: 0.95 },
  },
  'nomic-embed-text:latest': {
    architecture: 'nomic-bert',
    contextLength: 2048,
    embeddingLength: 768,
    blockCount: 12,
    headCount: 12,
    parameterCount: 136727040,
    fileType: 1,
    vocabularySize: 30522,
    tokenizer: 'bert',
    template: '{{ .Prompt }}',
    license: APACHE,
    parameters: { num_ctx: 8192 },
  },
  'tinyllama:latest': {
    architecture: 'llama',
    contextLength: 2048,
    embeddingLength: 2048,
    blockCount: 22,
    headCount: 32,
    parameterCount: 1100048384,
    fileType: 2,
    vocabularySize: 32000,
    tokenizer: 'gpt2',
    template: ZEPHYR_TEMPLATE,
    license: APACHE,
    parameters: { stop: ['<|system|>', '<|user|>', '<|assistant|>', '</s>'] },
  },
  'all-minilm:latest': {
    architecture: 'bert',
    contextLength: 512,
    embeddingLength: 384,
    blockCount: 6,
    headCount: 12,
    parameterCount: 22565376,
    fileType: 1,
    vocabularySize: 30522,
    tokenizer: 'bert',
    template: '{{ .Prompt }}',
    license: APACHE,
    parameters: { num_ctx: 256 },
  },
};

// An imported GGUF is not really read; a created model gets these plausible facts instead.
const IMPORTED_FACTS: ModelFacts = {
  architecture: 'llama',
  contextLength: 4096,
  embeddingLength: 2048,
  blockCount: 16,
  headCount: 32,
  parameterCount: 1235814400,
  fileType: 1,
  vocabularySize: 32000,
  tokenizer: 'gpt2',
  template: '{{ .Prompt }}',
  license: '',
  parameters: {},
};

const MEDIA_PREFIX = 'application/vnd.ollama.image.';
// Where a Linux install keeps its models; only used to word errors that name a file.
const MODELS_DIR = '/usr/share/ollama/.ollama/models';

interface Layer {
  mediaType: string;
  /** sha256:<64 hex> */
  digest: string;
  size: number;
}

interface RegisteredModel extends InstalledModel {
  /** Every part filled in, case as given: registry.ollama.ai/library/llama3.2:latest. */
  full: string;
  /** The manifest's digest (64 hex), as /api/tags and /api/ps show it. */
  digest: string;
  /** The manifest's layers, the weights first as in real manifests. */
  layers: Layer[];
  /** Higher is more recent: /api/tags lists the most recently written manifest first. */
  order: number;
  parentModel: string;
  facts: ModelFacts;
  template: string;
  system: string;
  licenses: string[];
  parameters: Record<string, unknown>;
  messages: Array<{ role: string; content: string }>;
}

type Registry = Map<string, RegisteredModel>;

// ------------------------------------------------------------------------------------------------
// Model names

interface ModelName {
  host: string;
  namespace: string;
  model: string;
  tag: string;
}

type NamePart = 'host' | 'namespace' | 'model' | 'tag';

// model.ParseName's rules: each part 1-80 bytes (the host up to 350), starting with a letter, digit
// or underscore, then also '-' and '.' (not in the namespace) and ':' (host only, for a port).
function validPart(kind: NamePart, s: string): boolean {
  if (s.length < 1 || s.length > (kind === 'host' ? 350 : 80)) return false;
  const rest =
    kind === 'host'
      ? /^[A-Za-z0-9_][A-Za-z0-9_.:-]*$/
      : kind === 'namespace'
        ? /^[A-Za-z0-9_][A-Za-z0-9_-]*$/
        : /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
  return rest.test(s);
}

// `[scheme://][host/][namespace/]model[:tag]` with registry.ollama.ai, library and latest filled
// in; undefined when any part is invalid (which is what "invalid model name" means).
function parseModelName(s: string): ModelName | undefined {
  let rest = s.replace(/^https?:\/\//i, '');
  let tag = 'latest';
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const parts = rest.split('/');
  if (parts.length > 3) return undefined;
  const model = parts.pop() ?? '';
  const namespace = parts.pop() ?? 'library';
  const host = parts.pop() ?? 'registry.ollama.ai';
  const name = { host, namespace, model, tag };
  const valid =
    validPart('host', host) && validPart('namespace', namespace) && validPart('model', model) && validPart('tag', tag);
  return valid ? name : undefined;
}

const fullNameOf = (n: ModelName): string => `${n.host}/${n.namespace}/${n.model}:${n.tag}`;
// Ollama matches names case-insensitively (getExistingName).
const nameKey = (n: ModelName): string => fullNameOf(n).toLowerCase();

// Name.DisplayShortest: the default host and namespace are left out, the tag never is.
function shortName(n: ModelName): string {
  const defaultHost = n.host.toLowerCase() === 'registry.ollama.ai';
  if (defaultHost && n.namespace.toLowerCase() === 'library') return `${n.model}:${n.tag}`;
  return defaultHost ? `${n.namespace}/${n.model}:${n.tag}` : fullNameOf(n);
}

function findModel(registry: Registry, requested: string): RegisteredModel | undefined {
  const name = parseModelName(requested);
  return name === undefined ? undefined : registry.get(nameKey(name));
}

const can = (m: InstalledModel, capability: string): boolean => m.capabilities.includes(capability);
const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

// Go's json.Encoder, as Ollama writes a params layer: map keys sorted, a newline at the end.
const paramsBlob = (p: Record<string, unknown>): string => goJson(sortedKeys(p)) + '\n';

function sortedKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

// Real manifests carry more layers (licenses, config...); the weights plus template and params,
// three of very different sizes, are enough for a client's progress handling. Those two are
// addressed by their content, so a create that writes the same text finds them already there.
function textLayers(template: string, params: Record<string, unknown>): Layer[] {
  const layers: Layer[] = [];
  if (template !== '') layers.push(contentLayer('template', template));
  if (Object.keys(params).length > 0) layers.push(contentLayer('params', paramsBlob(params)));
  return layers;
}

const contentLayer = (kind: string, content: string): Layer => ({
  mediaType: MEDIA_PREFIX + kind,
  digest: `sha256:${sha256Hex(content)}`,
  size: Buffer.byteLength(content),
});

// A catalogue model as it is once installed. The sizes add up to what /api/tags reports.
function register(m: InstalledModel, order: number, modifiedAt: string): RegisteredModel {
  const facts = FACTS[m.name] ?? IMPORTED_FACTS;
  const small = textLayers(facts.template, facts.parameters);
  const weights = m.size - small.reduce((sum, l) => sum + l.size, 0);
  const name = parseModelName(m.name) as ModelName;
  return {
    ...m,
    modifiedAt,
    full: fullNameOf(name),
    digest: sha256Hex(m.name),
    layers: [
      { mediaType: MEDIA_PREFIX + 'model', digest: `sha256:${sha256Hex(`${m.name} weights`)}`, size: weights },
      ...small,
    ],
    order,
    parentModel: '',
    facts,
    template: facts.template,
    system: '',
    licenses: facts.license === '' ? [] : [facts.license],
    parameters: facts.parameters,
    messages: [],
  };
}

function findPullable(name: ModelName): InstalledModel | undefined {
  const key = nameKey(name);
  return [...MODELS, ...PULLABLE_EXTRA].find((m) => nameKey(parseModelName(m.name) as ModelName) === key);
}

// /api/tags sorts by modification time, the latest first.
const listed = (registry: Registry): RegisteredModel[] => [...registry.values()].sort((a, b) => b.order - a.order);

function detailsOf(m: RegisteredModel, parentModel: string): Record<string, unknown> {
  return {
    parent_model: parentModel,
    format: m.format,
    family: m.family,
    families: [m.family],
    parameter_size: m.parameterSize,
    quantization_level: m.quantization,
  };
}

function tagsBody(registry: Registry): string {
  return goJson({
    models: listed(registry).map((m) => ({
      name: m.name,
      model: m.name,
      modified_at: m.modifiedAt,
      size: m.size,
      digest: m.digest,
      // ListHandler never fills parent_model; only /api/show does.
      details: detailsOf(m, ''),
      capabilities: m.capabilities,
    })),
  });
}

interface RunningModel {
  model: RegisteredModel;
  size: number;
  expiresAt: string;
  contextLength: number;
}

function psBody(running: readonly RunningModel[]): string {
  return goJson({
    models: running.map((r) => ({
      name: r.model.name,
      model: r.model.name,
      size: r.size,
      digest: r.model.digest,
      details: detailsOf(r.model, ''),
      expires_at: r.expiresAt,
      // Entirely on the GPU.
      size_vram: r.size,
      context_length: r.contextLength,
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
    7: '\\a',
    8: '\\b',
    12: '\\f',
    10: '\\n',
    13: '\\r',
    9: '\\t',
    11: '\\v',
    92: '\\\\',
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
type FieldRule =
  | 'string'
  | 'bool'
  | 'int'
  | 'ints'
  | 'object'
  | 'stringMap'
  | 'messages'
  | 'tools'
  | 'duration'
  | 'think'
  | 'any';

const GO_TYPE: Record<FieldRule, string> = {
  string: 'string',
  bool: 'bool',
  int: 'int',
  ints: '[]int',
  object: 'map[string]interface {}',
  stringMap: 'map[string]string',
  messages: '[]api.Message',
  tools: 'api.Tools',
  duration: 'api.Duration',
  think: 'api.ThinkValue',
  any: 'interface {}',
};

interface StructRule {
  goName: string;
  fields: Record<string, FieldRule>;
}

const COMMON_FIELDS: Record<string, FieldRule> = {
  model: 'string',
  stream: 'bool',
  format: 'any',
  keep_alive: 'duration',
  options: 'object',
  think: 'think',
  truncate: 'bool',
  shift: 'bool',
  _debug_render_only: 'bool',
  logprobs: 'bool',
  top_logprobs: 'int',
};
const CHAT_RULE: StructRule = {
  goName: 'ChatRequest',
  fields: { ...COMMON_FIELDS, messages: 'messages', tools: 'tools' },
};
const GENERATE_RULE: StructRule = {
  goName: 'GenerateRequest',
  fields: {
    ...COMMON_FIELDS,
    prompt: 'string',
    suffix: 'string',
    system: 'string',
    template: 'string',
    context: 'ints',
    raw: 'bool',
    images: 'any',
    width: 'int',
    height: 'int',
    steps: 'int',
  },
};
const EMBED_RULE: StructRule = {
  goName: 'EmbedRequest',
  fields: {
    model: 'string',
    input: 'any',
    keep_alive: 'duration',
    truncate: 'bool',
    dimensions: 'int',
    options: 'object',
  },
};
const EMBEDDINGS_RULE: StructRule = {
  goName: 'EmbeddingRequest',
  fields: { model: 'string', prompt: 'string', keep_alive: 'duration', options: 'object' },
};
const SHOW_RULE: StructRule = {
  goName: 'ShowRequest',
  fields: { model: 'string', name: 'string', system: 'string', template: 'string', verbose: 'bool', options: 'object' },
};
const COPY_RULE: StructRule = { goName: 'CopyRequest', fields: { source: 'string', destination: 'string' } };
const DELETE_RULE: StructRule = { goName: 'DeleteRequest', fields: { model: 'string', name: 'string' } };
const TRANSFER_FIELDS: Record<string, FieldRule> = {
  model: 'string',
  name: 'string',
  insecure: 'bool',
  stream: 'bool',
  username: 'string',
  password: 'string',
};
const PULL_RULE: StructRule = { goName: 'PullRequest', fields: TRANSFER_FIELDS };
const PUSH_RULE: StructRule = { goName: 'PushRequest', fields: TRANSFER_FIELDS };
const CREATE_RULE: StructRule = {
  goName: 'CreateRequest',
  fields: {
    model: 'string',
    name: 'string',
    from: 'string',
    files: 'stringMap',
    adapters: 'stringMap',
    template: 'string',
    system: 'string',
    parameters: 'object',
    license: 'any',
    messages: 'messages',
    quantize: 'string',
    quantization: 'string',
    stream: 'bool',
  },
};

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'string') return 'string';
  return 'object';
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

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
    case 'stringMap':
      if (!isRecord(v)) return mismatch();
      for (const e of Object.values(v)) if (e !== null && typeof e !== 'string') return mismatch(jsonKind(e), 'string');
      return undefined;
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
    return {
      ok: false,
      status: 400,
      message: `json: cannot unmarshal ${jsonKind(v)} into Go value of type api.${rule.goName}`,
    };
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
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
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
    if (scale === undefined)
      return { ok: false, message: `time: unknown unit ${goQuote(unit)} in duration ${goQuote(s)}` };
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
  return new Date(BASE_TIME_MS + index)
    .toISOString()
    .replace(/(\.\d*?)0+Z$/, '$1Z')
    .replace(/\.Z$/, 'Z');
}

const words = (s: string): number => s.split(/\s+/).filter((w) => w !== '').length;

function splitTokens(text: string): string[] {
  const points = Array.from(text);
  const out: string[] = [];
  for (let k = 0; k < points.length; k += 3) out.push(points.slice(k, k + 3).join(''));
  return out;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
// The management endpoints still accept the legacy `name` where `model` is absent.
const modelOrName = (req: Record<string, unknown>): string => str(req['model']) || str(req['name']);
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
    content: '',
    thinking: '',
    toolCalls: [],
    logprobs: [],
    final: false,
    ...part,
  });

  const chunks: ChunkSpec[] = [];
  for (const t of thinking) chunks.push(spec({ thinking: t }));
  for (const t of content) chunks.push(spec({ content: t, logprobs: logprobsFor(t) }));
  if (!callsInFinal) for (const call of calls) chunks.push(spec({ toolCalls: [call] }));
  if (b.omitDone !== true) {
    chunks.push(
      spec({
        content: finalText,
        toolCalls: callsInFinal ? calls : [],
        logprobs: finalText !== '' ? logprobsFor(finalText) : [],
        final: true,
      }),
    );
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
    context:
      run.endpoint === 'generate' && !run.raw
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
    toolCalls:
      plan.run.endpoint === 'chat' && plan.run.tools.length > 0
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

interface Failure {
  status: number;
  message: string;
}

type Reply =
  | {
      kind: 'single';
      status: number;
      /** '' for an empty answer without a Content-Type, as Go sends for c.Status(). */
      contentType: string;
      body: string;
      /** How many chunks the model works through before this answer (0: none, so no model knob applies). */
      work: number;
      /** Content-Type of an error scripted by errorAfter; default application/json; charset=utf-8. */
      errorType?: string;
      /** The request's effect on the server's models, applied just before the answer is written. */
      commit?: () => void;
    }
  | {
      kind: 'stream';
      lines: string[];
      /** An error the handler itself sends after the lines: in-band, or in place of the stream if no line went out. */
      failure?: Failure;
      /** Applied just before the last line is written, if the script gets that far. */
      commit?: () => void;
    };

const single = (status: number, body: object, work: number): Reply => ({
  kind: 'single',
  status,
  contentType: JSON_UTF8,
  body: goJson(body),
  work,
});
const failure = (status: number, message: string): Reply => single(status, { error: message }, 0);

function runReply(run: RunInput, stream: boolean, b: Behaviour): Reply {
  const plan = planReply(run, b);
  if (!stream) return single(200, aggregate(plan), plan.chunks.length);
  return { kind: 'stream', lines: plan.chunks.map((c, k) => goJson(renderChunk(plan, c, k))) };
}

// Thinking is on by default for models that can think; asking a model that cannot is an error.
function resolveThink(m: InstalledModel, asSent: string, think: unknown): boolean | Reply {
  const wanted =
    typeof think === 'boolean' ? think : typeof think === 'string' ? THINK_LEVELS.includes(think) : undefined;
  if (can(m, 'thinking')) return wanted ?? true;
  if (wanted === true) return failure(400, `${goQuote(asSent)} does not support thinking`);
  return false;
}

function chatReply(raw: Buffer, b: Behaviour, registry: Registry): Reply {
  const bound = bindRequest(raw, CHAT_RULE);
  if (!bound.ok) return failure(bound.status, bound.message);
  const req = bound.req;
  const top = int(req['top_logprobs']);
  if (top < 0 || top > 20) return failure(400, 'top_logprobs must be between 0 and 20');
  const name = str(req['model']);
  if (name === '') return failure(400, 'model is required');
  const m = findModel(registry, name);
  if (m === undefined) return failure(404, `model '${name}' not found`);
  const messages = Array.isArray(req['messages']) ? req['messages'].filter(isRecord) : [];
  const unloadOrLoad = (reason: string, work: number): Reply =>
    single(
      200,
      {
        model: name,
        created_at: createdAt(0),
        message: { role: 'assistant', content: '' },
        done: true,
        done_reason: reason,
      },
      work,
    );
  if (messages.length === 0 && keepAliveNs(req['keep_alive']) === 0) return unloadOrLoad('unload', 0);

  const think = resolveThink(m, name, req['think']);
  if (typeof think !== 'boolean') return think;
  const tools = parseTools(req['tools']);
  if (!can(m, 'completion')) return failure(400, `${goQuote(name)} does not support chat`);
  if (tools.length > 0 && !can(m, 'tools')) return failure(400, `${m.full} does not support tools`);
  if (messages.length === 0) return unloadOrLoad('load', 1);

  const lastUser = [...messages].reverse().find((msg) => str(msg['role']).toLowerCase() === 'user');
  return runReply(
    {
      endpoint: 'chat',
      model: name,
      think,
      tools,
      logprobs: req['logprobs'] === true,
      topLogprobs: top,
      promptWords: messages.reduce((sum, msg) => sum + words(str(msg['content'])), 0),
      echo: str(lastUser?.['content']),
      raw: false,
    },
    req['stream'] !== false,
    b,
  );
}

function generateReply(raw: Buffer, b: Behaviour, registry: Registry): Reply {
  const bound = bindRequest(raw, GENERATE_RULE);
  if (!bound.ok) return failure(bound.status, bound.message);
  const req = bound.req;
  const top = int(req['top_logprobs']);
  if (top < 0 || top > 20) return failure(400, 'top_logprobs must be between 0 and 20');
  const name = str(req['model']);
  const m = name === '' ? undefined : findModel(registry, name);
  if (m === undefined) return failure(404, `model '${name}' not found`);
  const prompt = str(req['prompt']);
  const unloadOrLoad = (reason: string, work: number): Reply =>
    single(
      200,
      {
        model: name,
        created_at: createdAt(0),
        response: '',
        done: true,
        done_reason: reason,
      },
      work,
    );
  if (prompt === '' && keepAliveNs(req['keep_alive']) === 0) return unloadOrLoad('unload', 0);

  const rawMode = req['raw'] === true;
  const context = Array.isArray(req['context']) ? req['context'] : [];
  if (rawMode && (str(req['template']) !== '' || str(req['system']) !== '' || context.length > 0)) {
    return failure(400, 'raw mode does not support template, system, or context');
  }
  const think = resolveThink(m, name, req['think']);
  if (typeof think !== 'boolean') return think;
  if (!can(m, 'completion')) return failure(400, `${goQuote(name)} does not support generate`);
  if (str(req['suffix']) !== '') return failure(400, `${m.full} does not support insert`);
  if (prompt === '') return unloadOrLoad('load', 1);

  return runReply(
    {
      endpoint: 'generate',
      model: name,
      think,
      tools: [],
      logprobs: req['logprobs'] === true,
      topLogprobs: top,
      promptWords: words(str(req['system'])) + words(prompt),
      echo: prompt,
      raw: rawMode,
    },
    req['stream'] !== false,
    b,
  );
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

function embedReply(raw: Buffer, b: Behaviour, registry: Registry): Reply {
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
  if (findModel(registry, name) === undefined)
    return failure(404, `model ${goQuote(name)} not found, try pulling it first`);
  if (inputs.length === 0) return single(200, { model: name, embeddings: [] }, 1);

  const requested = int(req['dimensions']);
  const dimensions = requested > 0 ? requested : BASE_DIMENSIONS;
  const kept = Math.max(0, inputs.length - Math.max(0, b.dropVectors ?? 0));
  const embeddings = inputs.slice(0, kept).map((text) => normalised(rawVector(text, dimensions)));
  const promptEvalCount = inputs.reduce((sum, text) => sum + Math.max(1, words(text)), 0);
  return single(
    200,
    {
      model: name,
      embeddings,
      total_duration: LOAD_DURATION_NS + 1000 * promptEvalCount,
      load_duration: LOAD_DURATION_NS,
      prompt_eval_count: promptEvalCount,
    },
    1,
  );
}

function embeddingsReply(raw: Buffer, b: Behaviour, registry: Registry): Reply {
  const bound = bindRequest(raw, EMBEDDINGS_RULE);
  if (!bound.ok) return failure(bound.status, bound.message);
  const req = bound.req;
  const name = str(req['model']);
  if (name === '') return failure(400, 'model is required');
  if (findModel(registry, name) === undefined)
    return failure(404, `model ${goQuote(name)} not found, try pulling it first`);
  const prompt = str(req['prompt']);
  // The legacy endpoint returns the runner's float32 values widened to float64, unnormalised.
  const embedding = prompt === '' || (b.dropVectors ?? 0) > 0 ? [] : rawVector(prompt, BASE_DIMENSIONS);
  return single(200, { embedding }, 1);
}

type ModelPath = '/api/chat' | '/api/generate' | '/api/embed' | '/api/embeddings';

const MODEL_ENDPOINTS: Record<ModelPath, (raw: Buffer, b: Behaviour, registry: Registry) => Reply> = {
  '/api/chat': chatReply,
  '/api/generate': generateReply,
  '/api/embed': embedReply,
  '/api/embeddings': embeddingsReply,
};

const isModelPath = (p: string): p is ModelPath => Object.hasOwn(MODEL_ENDPOINTS, p);

// ------------------------------------------------------------------------------------------------
// Model management: show, copy, delete, pull, push, create and blobs, also free of I/O. Their
// effect on the server's models is a commit the transport applies only when the answer is really
// going out, so a scripted 503, reset or error leaves the models as they were.

/** What the management endpoints read and change. */
interface Store {
  registry: Registry;
  blobs: Map<string, Buffer>;
  running: RunningModel[];
  /** Manifests written so far: their modification times and their order in /api/tags. */
  writes: number;
}

interface Call {
  raw: Buffer;
  b: Behaviour;
  store: Store;
  method: string;
  /** The :digest of /api/blobs/:digest, URL-decoded as gin hands it over. */
  param: string;
}

const INVALID_NAME = 'invalid model name';
// manifest.BlobsPath accepts both separators; what it stores is always sha256-<hex>.
const DIGEST_RE = /^sha256[:-]([0-9a-fA-F]{64})$/;
const DEFAULT_PROGRESS_UPDATES = 6;
const MAX_PROGRESS_UPDATES = 100_000;

// c.Status(code) in Go: no body, no Content-Type, Content-Length 0.
function emptyAnswer(status: number, commit?: () => void): Reply {
  return { kind: 'single', status, contentType: '', body: '', work: 1, ...(commit === undefined ? {} : { commit }) };
}

// api.ProgressResponse: digest, total and completed are omitempty.
function progressJson(status: string, digest = '', total = 0, completed = 0): string {
  const out: Record<string, unknown> = { status };
  if (digest !== '') out['digest'] = digest;
  if (total !== 0) out['total'] = total;
  if (completed !== 0) out['completed'] = completed;
  return goJson(out);
}

function progressUpdates(b: Behaviour): number {
  const n = b.progressUpdates;
  if (typeof n !== 'number' || !Number.isFinite(n)) return DEFAULT_PROGRESS_UPDATES;
  return Math.min(MAX_PROGRESS_UPDATES, Math.max(0, Math.trunc(n)));
}

// `pulling <12 hex>` or `pushing <12 hex>` lines, progressUpdates of them in all. The small layers
// get one line each (a real transfer finishes them within one 60 ms progress tick), the weights
// the rest, with `completed` growing to `total`. With fewer updates than layers only the first
// layers appear. `completed` is never 0 so that it is never left out (omitempty).
function transferLines(verb: 'pulling' | 'pushing', layers: readonly Layer[], b: Behaviour): string[] {
  const updates = progressUpdates(b);
  const counts = layers.map((_, i) =>
    updates >= layers.length ? (i === 0 ? updates - layers.length + 1 : 1) : i < updates ? 1 : 0,
  );
  const lines: string[] = [];
  layers.forEach((layer, i) => {
    const count = counts[i] ?? 0;
    for (let k = 0; k < count; k++) {
      const share = k === count - 1 ? layer.size : Math.max(1, Math.floor((layer.size * (k + 1)) / count));
      lines.push(
        progressJson(`${verb} ${layer.digest.slice(7, 19)}`, layer.digest, layer.size, Math.min(share, layer.size)),
      );
    }
  });
  return lines;
}

// PullModel's sequence, `success` included (a create that pulls its base sends it mid-stream).
const pullLines = (layers: readonly Layer[], b: Behaviour): string[] => [
  progressJson('pulling manifest'),
  ...transferLines('pulling', layers, b),
  progressJson('verifying sha256 digest'),
  progressJson('writing manifest'),
  progressJson('success'),
];

// omitDone: the final `success` line is left out, the stream still ends cleanly.
const finalLines = (lines: string[], b: Behaviour): string[] => (b.omitDone === true ? lines.slice(0, -1) : lines);

// streamResponse, or for stream:false waitForStream: after the work, the last progress object or
// the error, both as a bare application/json.
function progressReply(lines: string[], fault: Failure | undefined, stream: boolean, commit?: () => void): Reply {
  const effect = commit === undefined || fault !== undefined ? {} : { commit };
  if (stream) return { kind: 'stream', lines, ...(fault === undefined ? {} : { failure: fault }), ...effect };
  return {
    kind: 'single',
    status: fault?.status ?? 200,
    contentType: 'application/json',
    // With no progress at all Go marshals a zero api.ProgressResponse.
    body: fault === undefined ? (lines.at(-1) ?? goJson({ status: '' })) : goJson({ error: fault.message }),
    work: lines.length,
    errorType: 'application/json',
    ...effect,
  };
}

// A manifest written now: a fresh modification time, listed first.
function install(store: Store, m: RegisteredModel): void {
  store.writes++;
  store.registry.set(m.full.toLowerCase(), {
    ...m,
    order: 1000 + store.writes,
    modifiedAt: createdAt(store.writes * 1000),
  });
}

function layerSize(store: Store, digest: string): number | undefined {
  const blob = store.blobs.get(digest);
  if (blob !== undefined) return blob.length;
  for (const m of store.registry.values()) {
    for (const l of m.layers) if (l.digest === digest) return l.size;
  }
  return undefined;
}

const canonicalDigest = (digest: string): string => `sha256:${digest.slice(7)}`;
const blobPath = (digest: string): string => `${MODELS_DIR}/blobs/sha256-${digest.slice(7)}`;

// ---- show

const VERBOSE_VOCABULARY = 256;

// Only the verbose answer carries the long arrays, abridged here to a few hundred entries.
function vocabulary(tokenizer: 'gpt2' | 'bert'): string[] {
  const special = tokenizer === 'gpt2' ? ['<s>', '</s>', '<unk>'] : ['[PAD]', '[UNK]', '[CLS]'];
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const rest = Array.from({ length: VERBOSE_VOCABULARY - special.length }, (_, i) =>
    i < 94
      ? String.fromCharCode(33 + i)
      : `${letters.charAt(Math.floor((i - 94) / 26) % 26)}${letters.charAt((i - 94) % 26)}`,
  );
  return [...special, ...rest];
}

function modelInfo(m: RegisteredModel, verbose: boolean): Record<string, unknown> {
  const f = m.facts;
  const a = f.architecture;
  const gpt2 = f.tokenizer === 'gpt2';
  const info: Record<string, unknown> = {
    'general.architecture': a,
    'general.file_type': f.fileType,
    'general.parameter_count': f.parameterCount,
    'general.quantization_version': 2,
    [`${a}.attention.head_count`]: f.headCount,
    [`${a}.block_count`]: f.blockCount,
    [`${a}.context_length`]: f.contextLength,
    [`${a}.embedding_length`]: f.embeddingLength,
    'tokenizer.ggml.bos_token_id': gpt2 ? 1 : 101,
    'tokenizer.ggml.eos_token_id': gpt2 ? 2 : 102,
    'tokenizer.ggml.model': f.tokenizer,
  };
  if (verbose) {
    const tokens = vocabulary(f.tokenizer);
    info['tokenizer.ggml.tokens'] = tokens;
    info['tokenizer.ggml.token_type'] = tokens.map((_, i) => (i < 3 ? 3 : 1));
    if (gpt2)
      info['tokenizer.ggml.merges'] = tokens.slice(3, 67).map((t, i) => `${t} ${tokens[((i * 7) % 60) + 3] ?? ''}`);
  }
  // Go writes map keys sorted.
  return sortedKeys(info);
}

const TENSOR_TYPE: Record<string, string> = {
  Q4_K_M: 'Q4_K',
  Q4_K_S: 'Q4_K',
  Q4_0: 'Q4_0',
  Q8_0: 'Q8_0',
  F16: 'F16',
  F32: 'F32',
  BF16: 'BF16',
};

function tensorList(m: RegisteredModel): Array<{ name: string; type: string; shape: number[] }> {
  const f = m.facts;
  const e = f.embeddingLength;
  const q = TENSOR_TYPE[m.quantization] ?? 'F16';
  const out = [{ name: 'token_embd.weight', type: q, shape: [e, f.vocabularySize] }];
  for (let k = 0; k < f.blockCount; k++) {
    out.push({ name: `blk.${k}.attn_norm.weight`, type: 'F32', shape: [e] });
    for (const part of ['attn_q', 'attn_k', 'attn_v', 'attn_output'])
      out.push({ name: `blk.${k}.${part}.weight`, type: q, shape: [e, e] });
    out.push({ name: `blk.${k}.ffn_norm.weight`, type: 'F32', shape: [e] });
    for (const part of ['ffn_gate', 'ffn_up'])
      out.push({ name: `blk.${k}.${part}.weight`, type: q, shape: [e, 4 * e] });
    out.push({ name: `blk.${k}.ffn_down.weight`, type: q, shape: [4 * e, e] });
  }
  out.push({ name: 'output_norm.weight', type: 'F32', shape: [e] });
  return out;
}

// `%-30s %#v`, one line per element of an array value (GetModelInfo).
function parametersText(p: Record<string, unknown>): string {
  const lines: string[] = [];
  for (const [k, v] of Object.entries(sortedKeys(p))) {
    for (const x of Array.isArray(v) ? v : [v])
      lines.push(`${k.padEnd(30)} ${typeof x === 'string' ? goQuote(x) : String(x)}`);
  }
  return lines.join('\n');
}

// The Modelfile parser quotes an argument that would not survive being read back unquoted.
const modelfileArg = (s: string): string => (/[\s"]/.test(s) ? goQuote(s) : s);

function modelfileText(m: RegisteredModel, system: string): string {
  const out = [
    '# Modelfile generated by "ollama show"',
    '# To build a new Modelfile based on this, replace FROM with:',
    `# FROM ${m.name}`,
    '',
  ];
  for (const l of m.layers) {
    if (l.mediaType === MEDIA_PREFIX + 'model') out.push(`FROM ${blobPath(l.digest)}`);
    if (l.mediaType === MEDIA_PREFIX + 'adapter') out.push(`ADAPTER ${blobPath(l.digest)}`);
  }
  if (m.template !== '') out.push(`TEMPLATE """${m.template}"""`);
  if (system !== '') out.push(`SYSTEM """${system}"""`);
  for (const [k, v] of Object.entries(sortedKeys(m.parameters))) {
    for (const x of Array.isArray(v) ? v : [v]) out.push(`PARAMETER ${k} ${modelfileArg(String(x))}`);
  }
  for (const l of m.licenses) out.push(`LICENSE """${l}"""`);
  for (const msg of m.messages) out.push(`MESSAGE ${msg.role} ${modelfileArg(msg.content)}`);
  return out.join('\n') + '\n';
}

// api.ShowResponse in field order; everything but details and model_info is omitempty. Unlike the
// real server (which always sends `tensors` for a GGUF model and keeps the long arrays' keys with
// empty values), the plain answer here leaves them out altogether, so that a client can tell a
// verbose answer by its content.
function showBody(m: RegisteredModel, verbose: boolean, systemOverride: string): Record<string, unknown> {
  const system = systemOverride !== '' ? systemOverride : m.system;
  const out: Record<string, unknown> = {};
  const license = m.licenses.join('\n');
  if (license !== '') out['license'] = license;
  out['modelfile'] = modelfileText(m, system);
  const parameters = parametersText(m.parameters);
  if (parameters !== '') out['parameters'] = parameters;
  if (m.template !== '') out['template'] = m.template;
  if (system !== '') out['system'] = system;
  out['details'] = detailsOf(m, m.parentModel);
  if (m.messages.length > 0) out['messages'] = m.messages;
  out['model_info'] = modelInfo(m, verbose);
  if (verbose) out['tensors'] = tensorList(m);
  out['capabilities'] = m.capabilities;
  out['modified_at'] = m.modifiedAt;
  return out;
}

function showReply(c: Call): Reply {
  const bound = bindRequest(c.raw, SHOW_RULE);
  if (!bound.ok) return failure(bound.status, bound.message);
  const req = bound.req;
  const asSent = modelOrName(req);
  if (asSent === '') return failure(400, 'model is required');
  const name = parseModelName(asSent);
  if (name === undefined) return failure(400, INVALID_NAME);
  const m = c.store.registry.get(nameKey(name));
  if (m === undefined) return failure(404, `model '${asSent}' not found`);
  return single(200, showBody(m, req['verbose'] === true, str(req['system'])), 1);
}

// ---- copy and delete

function copyReply(c: Call): Reply {
  const bound = bindRequest(c.raw, COPY_RULE);
  if (!bound.ok) return failure(bound.status, bound.message);
  const source = str(bound.req['source']);
  const destination = str(bound.req['destination']);
  const from = parseModelName(source);
  if (from === undefined) return failure(400, `source ${goQuote(source)} is invalid`);
  const to = parseModelName(destination);
  if (to === undefined) return failure(400, `destination ${goQuote(destination)} is invalid`);
  const m = c.store.registry.get(nameKey(from));
  if (m === undefined) return failure(404, `model ${goQuote(source)} not found`);
  // The same manifest bytes under a second name (so the same digest); copying onto itself is a no-op.
  return emptyAnswer(200, () => {
    if (nameKey(from) !== nameKey(to)) install(c.store, { ...m, name: shortName(to), full: fullNameOf(to) });
  });
}

function deleteReply(c: Call): Reply {
  const bound = bindRequest(c.raw, DELETE_RULE);
  if (!bound.ok) return failure(bound.status, bound.message);
  const asSent = modelOrName(bound.req);
  const name = parseModelName(asSent);
  if (name === undefined) return failure(400, `name ${goQuote(asSent)} is invalid`);
  const key = nameKey(name);
  const m = c.store.registry.get(key);
  if (m === undefined) return failure(404, `model '${asSent}' not found`);
  return emptyAnswer(200, () => {
    c.store.registry.delete(key);
    // The manifest goes, then every layer of it that no other model uses.
    const used = new Set([...c.store.registry.values()].flatMap((o) => o.layers.map((l) => l.digest)));
    for (const l of m.layers) if (!used.has(l.digest)) c.store.blobs.delete(l.digest);
  });
}

// ---- pull and push

function pullReply(c: Call): Reply {
  const bound = bindRequest(c.raw, PULL_RULE);
  if (!bound.ok) return failure(bound.status, bound.message);
  const req = bound.req;
  const name = parseModelName(modelOrName(req));
  if (name === undefined) return failure(400, INVALID_NAME);
  const stream = req['stream'] !== false;
  const source = findPullable(name);
  if (source === undefined) {
    // The registry answers 404 to the manifest request after the first line has gone out.
    return progressReply(
      [progressJson('pulling manifest')],
      { status: 500, message: 'pull model manifest: file does not exist' },
      stream,
    );
  }
  // A re-pull of an installed model is a full pull here too, so that progressUpdates stays exact.
  const pulled = register(source, 0, '');
  return progressReply(finalLines(pullLines(pulled.layers, c.b), c.b), undefined, stream, () =>
    install(c.store, pulled),
  );
}

function pushReply(c: Call): Reply {
  const bound = bindRequest(c.raw, PUSH_RULE);
  if (!bound.ok) return failure(bound.status, bound.message);
  const req = bound.req;
  const asSent = modelOrName(req);
  if (asSent === '') return failure(400, 'model is required');
  const stream = req['stream'] !== false;
  const lines = [progressJson('retrieving manifest')];
  const name = parseModelName(asSent);
  // The push runs in the background goroutine, so everything below arrives after the first line.
  // For an unparsable name the real wording depends on deep internals; this one is a plausible stand-in.
  if (name === undefined) return progressReply(lines, { status: 500, message: INVALID_NAME }, stream);
  const m = c.store.registry.get(nameKey(name));
  if (m === undefined) {
    // PushModel: GetManifest fails on the missing manifest file.
    lines.push(progressJson("couldn't retrieve manifest"));
    const path = `${MODELS_DIR}/manifests/${name.host}/${name.namespace}/${name.model}/${name.tag}`;
    return progressReply(lines, { status: 500, message: `open ${path}: no such file or directory` }, stream);
  }
  lines.push(...transferLines('pushing', m.layers, c.b), progressJson('pushing manifest'), progressJson('success'));
  return progressReply(finalLines(lines, c.b), undefined, stream);
}

// ---- create

interface NewLayer extends Layer {
  /** The progress line createModel sends for it. */
  note: string;
}

const QUANTIZE_TO: Record<string, string> = {
  F32: 'F32',
  F16: 'F16',
  Q8_0: 'Q8_0',
  Q4_K_S: 'Q4_K_S',
  Q4_K_M: 'Q4_K_M',
  Q4_K: 'Q4_K_M',
  BF16: 'BF16',
};
const FILE_TYPE: Record<string, number> = { F32: 0, F16: 1, Q8_0: 7, Q4_K_S: 14, Q4_K_M: 15, BF16: 32 };
const BITS: Record<string, number> = { F32: 32, F16: 16, BF16: 16, Q8_0: 8.5, Q4_K_S: 4.6, Q4_K_M: 4.9, Q4_0: 4.5 };

const stringsOf = (v: unknown): Record<string, string> | undefined =>
  isRecord(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, typeof x === 'string' ? x : ''])) : undefined;

const noted = (store: Store, layer: Layer): NewLayer => ({
  ...layer,
  note: `${layerSize(store, layer.digest) === undefined ? 'creating new' : 'using existing'} layer ${layer.digest}`,
});

// convertModelFromFiles: the type comes from the file names; each GGUF is opened and checked.
function importFiles(
  store: Store,
  files: Record<string, string>,
  adapter: boolean,
  lines: string[],
): NewLayer[] | Failure {
  const names = Object.keys(files);
  const type =
    names
      .map((n) => (n.endsWith('.safetensors') ? 'safetensors' : /\.(gguf|bin)$/.test(n) ? 'gguf' : ''))
      .find((t) => t !== '') ?? '';
  if (type === '') return { status: 400, message: 'unknown type' };
  if (adapter && names.length > 1) return { status: 400, message: 'only one adapter is currently supported' };
  const mediaType = MEDIA_PREFIX + (adapter ? 'adapter' : 'model');
  const missing = Object.values(files).find((d) => layerSize(store, canonicalDigest(d)) === undefined);
  if (type === 'safetensors') {
    lines.push(progressJson(adapter ? 'converting adapter' : 'converting model'));
    if (missing !== undefined) return { status: 500, message: `open ${blobPath(missing)}: no such file or directory` };
    const size = Object.values(files).reduce((sum, d) => sum + (layerSize(store, canonicalDigest(d)) ?? 0), 0);
    return [noted(store, { mediaType, digest: `sha256:${sha256Hex(Object.values(files).join('\n'))}`, size })];
  }
  const layers: NewLayer[] = [];
  for (const d of Object.values(files)) {
    lines.push(progressJson('parsing GGUF'));
    const digest = canonicalDigest(d);
    const size = layerSize(store, digest);
    if (size === undefined) return { status: 500, message: `open ${blobPath(d)}: no such file or directory` };
    // detectContentType looks for the GGUF magic; only uploaded bytes can be looked at.
    const bytes = store.blobs.get(digest);
    if (bytes !== undefined && bytes.subarray(0, 4).toString('latin1') !== 'GGUF') {
      return { status: 400, message: 'supplied file was not in GGUF format' };
    }
    layers.push({ mediaType, digest, size, note: `using existing layer ${digest}` });
  }
  return layers;
}

// What a model imported from a GGUF looks like, before the request's own settings.
function importedBase(): RegisteredModel {
  return {
    name: '',
    family: 'llama',
    parameterSize: '1.2B',
    quantization: 'F16',
    format: 'gguf',
    size: 0,
    modifiedAt: '',
    capabilities: ['completion'],
    full: '',
    digest: '',
    layers: [],
    order: 0,
    parentModel: '',
    facts: IMPORTED_FACTS,
    template: IMPORTED_FACTS.template,
    system: '',
    licenses: [],
    parameters: {},
    messages: [],
  };
}

function createReply(c: Call): Reply {
  const bound = bindRequest(c.raw, CREATE_RULE);
  if (!bound.ok) return failure(bound.status, bound.message);
  const req = bound.req;
  const name = parseModelName(modelOrName(req));
  if (name === undefined) return failure(400, INVALID_NAME);
  const files = stringsOf(req['files']);
  const adapters = stringsOf(req['adapters']);
  for (const digest of [...Object.values(files ?? {}), ...Object.values(adapters ?? {})]) {
    if (!DIGEST_RE.test(digest)) return failure(400, 'invalid digest format');
  }
  const stream = req['stream'] !== false;
  const store = c.store;
  const lines: string[] = [];
  const fail = (status: number, message: string): Reply => progressReply(lines, { status, message }, stream);

  const installs: RegisteredModel[] = [];
  let base: RegisteredModel;
  let layers: NewLayer[];
  const from = str(req['from']);
  if (from !== '') {
    const fromName = parseModelName(from);
    if (fromName === undefined) return fail(400, INVALID_NAME);
    let source = store.registry.get(nameKey(fromName));
    if (source === undefined) {
      // parseFromModel pulls a missing base first, with the whole pull progress, its `success` too.
      const pullable = findPullable(fromName);
      if (pullable === undefined) {
        lines.push(progressJson('pulling manifest'));
        return fail(500, 'pull model manifest: file does not exist');
      }
      source = register(pullable, 0, '');
      installs.push(source);
      lines.push(...pullLines(source.layers, c.b));
    }
    base = { ...source, parentModel: source.name };
    layers = source.layers.map((l) => ({ ...l, note: `using existing layer ${l.digest}` }));
  } else if (files !== undefined) {
    const imported = importFiles(store, files, false, lines);
    if (!Array.isArray(imported)) return fail(imported.status, imported.message);
    base = importedBase();
    layers = imported;
  } else {
    return fail(400, "neither 'from' or 'files' was specified");
  }
  if (adapters !== undefined) {
    const imported = importFiles(store, adapters, true, lines);
    // Every adapter problem is a 400 in CreateHandler.
    if (!Array.isArray(imported)) return fail(400, imported.message);
    layers.push(...imported);
  }

  const quantize = (str(req['quantize']) || str(req['quantization'])).toUpperCase();
  const weightsAt = layers.findIndex((l) => l.mediaType === MEDIA_PREFIX + 'model');
  const weights = layers[weightsAt];
  if (quantize !== '' && weights !== undefined) {
    const want = QUANTIZE_TO[quantize];
    if (want === undefined) {
      return fail(
        500,
        `unsupported quantization type ${quantize} - supported types are F32, F16, Q4_K_S, Q4_K_M, Q8_0`,
      );
    }
    if (base.quantization !== 'F16' && base.quantization !== 'F32') {
      return fail(500, 'quantization is only supported for F16 and F32 models');
    }
    if (want !== base.quantization) {
      lines.push(progressJson(`quantizing ${base.quantization} model to ${quantize}`));
      const size = Math.round((weights.size * (BITS[want] ?? 16)) / (BITS[base.quantization] ?? 16));
      layers[weightsAt] = noted(store, {
        ...weights,
        digest: `sha256:${sha256Hex(`${weights.digest} as ${want}`)}`,
        size,
      });
      base = {
        ...base,
        quantization: want,
        facts: { ...base.facts, fileType: FILE_TYPE[want] ?? base.facts.fileType },
      };
    }
  }

  // setTemplate, setSystem and setMessages replace their layer, setLicense adds one, setParameters
  // merges the request's values over the base's and writes a new layer.
  const replace = (kind: string, content: string): void => {
    layers = layers.filter((l) => l.mediaType !== MEDIA_PREFIX + kind);
    layers.push(noted(store, contentLayer(kind, content)));
  };
  let { template, system, licenses, parameters, messages, capabilities } = base;
  if (str(req['template']) !== '') {
    template = str(req['template']);
    replace('template', template);
    // Capabilities follow the template's variables.
    if (capabilities.includes('completion')) {
      capabilities = [
        ...capabilities.filter((cap) => cap !== 'tools' && cap !== 'insert'),
        ...(/\.Tools\b/.test(template) ? ['tools'] : []),
        ...(/\.Suffix\b/.test(template) ? ['insert'] : []),
      ];
    }
  }
  if (str(req['system']) !== '') {
    system = str(req['system']);
    replace('system', system);
  }
  const license = req['license'];
  for (const text of Array.isArray(license) ? license.map(String) : typeof license === 'string' ? [license] : []) {
    if (text === '') continue;
    licenses = [...licenses, text];
    layers.push(noted(store, contentLayer('license', text)));
  }
  if (isRecord(req['parameters']) && Object.keys(req['parameters']).length > 0) {
    parameters = { ...parameters, ...req['parameters'] };
    replace('params', paramsBlob(parameters));
  }
  if (Array.isArray(req['messages']) && req['messages'].length > 0) {
    messages = req['messages'].filter(isRecord).map((m) => ({ role: str(m['role']), content: str(m['content']) }));
    replace('messages', goJson(messages) + '\n');
  }

  for (const l of layers) lines.push(progressJson(l.note));
  lines.push(progressJson('writing manifest'), progressJson('success'));
  const manifestLayers: Layer[] = layers.map(({ mediaType, digest, size }) => ({ mediaType, digest, size }));
  const created: RegisteredModel = {
    ...base,
    name: shortName(name),
    full: fullNameOf(name),
    size: manifestLayers.reduce((sum, l) => sum + l.size, 0),
    digest: sha256Hex(manifestLayers.map((l) => l.digest).join('\n')),
    layers: manifestLayers,
    template,
    system,
    licenses,
    parameters,
    messages,
    capabilities,
  };
  return progressReply(finalLines(lines, c.b), undefined, stream, () => {
    for (const m of installs) install(store, m);
    install(store, created);
  });
}

// ---- blobs

function blobReply(c: Call): Reply {
  const match = DIGEST_RE.exec(c.param);
  if (match === null) return failure(400, 'invalid digest format');
  const key = `sha256:${match[1] ?? ''}`;
  const exists = layerSize(c.store, key) !== undefined;
  if (c.method === 'HEAD') return exists ? emptyAnswer(200) : failure(404, `blob ${goQuote(c.param)} not found`);
  // CreateBlobHandler answers 200 for a blob it has without reading the body.
  if (exists) return emptyAnswer(200);
  // The digest must match as sent: `sha256-<hex>` never equals the computed `sha256:<hex>`.
  const got = `sha256:${sha256Hex(c.raw)}`;
  if (got !== c.param) return failure(400, `digest mismatch, expected ${goQuote(c.param)}, got ${goQuote(got)}`);
  return emptyAnswer(201, () => c.store.blobs.set(key, c.raw));
}

const BLOB_ROUTE = '/api/blobs/:digest';

type ManagementPath =
  | '/api/show'
  | '/api/copy'
  | '/api/delete'
  | '/api/pull'
  | '/api/push'
  | '/api/create'
  | typeof BLOB_ROUTE;

const MANAGEMENT_ENDPOINTS: Record<ManagementPath, (c: Call) => Reply> = {
  '/api/show': showReply,
  '/api/copy': copyReply,
  '/api/delete': deleteReply,
  '/api/pull': pullReply,
  '/api/push': pushReply,
  '/api/create': createReply,
  [BLOB_ROUTE]: blobReply,
};

const isManagementPath = (p: string): p is ManagementPath => Object.hasOwn(MANAGEMENT_ENDPOINTS, p);

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
  splitCharacters: boolean;
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
  let cuts = ex.cuts;
  if (ex.splitCharacters) {
    const inside: number[] = [];
    // A lead byte is 11xxxxxx; cutting after it leaves the rest of the character for the next read.
    data.forEach((byte, i) => {
      if (byte >= 0xc0 && i + 1 < data.length) inside.push(start + i + 1);
    });
    cuts = [...new Set([...cuts, ...inside])].sort((x, y) => x - y);
  }
  let from = 0;
  for (const cut of cuts) {
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
  if (!lengthGiven && bytes.length > 0)
    ex.res.setHeader('Content-Length', bytes.length + (ex.bomPending ? BOM.length : 0));
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
  | { kind: 'fail'; status: number; message: string }
  | { kind: 'reset' }
  | { kind: 'close' };

// Turns the chunk list and the knobs into the exact sequence of things to do. A handler's own
// failure comes after its chunks, unless a knob has ended the stream before.
function streamSteps(count: number, b: Behaviour, handlerFailure?: Failure): Step[] {
  const steps: Step[] = [];
  const errorText = b.errorText ?? DEFAULT_ERROR;
  const errorLine = goJson({ error: errorText });
  let wroteLine = false;
  for (let k = 0; k <= count; k++) {
    if (b.stallAfter === k) steps.push(b.stallMs === undefined ? { kind: 'wait' } : { kind: 'wait', ms: b.stallMs });
    if (b.resetAfter === k) return [...steps, { kind: 'reset' }];
    if (b.closeAfter === k) return [...steps, { kind: 'close' }];
    if (b.garbageAfter === k) {
      steps.push({ kind: 'line', text: GARBAGE_LINE });
      wroteLine = true;
    }
    if (b.errorAfter === k) {
      return [
        ...steps,
        wroteLine
          ? { kind: 'line', text: errorLine }
          : { kind: 'fail', status: b.errorStatus ?? 500, message: errorText },
      ];
    }
    if (k === count) break;
    if (k > 0 && (b.chunkDelayMs ?? 0) > 0) steps.push({ kind: 'wait', ms: b.chunkDelayMs ?? 0 });
    if (b.blankLines === true) steps.push({ kind: 'blank' });
    steps.push({ kind: 'chunk', index: k });
    wroteLine = true;
  }
  if (handlerFailure !== undefined) {
    steps.push(
      wroteLine
        ? { kind: 'line', text: goJson({ error: handlerFailure.message }) }
        : { kind: 'fail', status: handlerFailure.status, message: handlerFailure.message },
    );
  }
  return steps;
}

async function playStream(ex: Exchange, reply: Extract<Reply, { kind: 'stream' }>, b: Behaviour): Promise<void> {
  const lines = reply.lines;
  const steps = streamSteps(lines.length, b, reply.failure);
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
        // The work is done by the time its last line goes out (the manifest is written before
        // `success`), so the models change here, and only if the script gets this far.
        if (step.index === lines.length - 1) reply.commit?.();
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
        ex.res.statusCode = step.status;
        ex.res.setHeader('Content-Type', 'application/json');
        await emit(ex, goJson({ error: step.message }));
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
    const type = reply.errorType ?? JSON_UTF8;
    await sendWhole(
      ex,
      b.errorStatus ?? 500,
      { 'Content-Type': type },
      goJson({ error: b.errorText ?? DEFAULT_ERROR }),
    );
  } else {
    const generation = (b.chunkDelayMs ?? 0) * Math.max(0, reply.work - 1);
    if (generation > 0) {
      await pause(ex.life, generation);
      if (ex.life.dead) return;
    }
    reply.commit?.();
    const headers: Record<string, string> =
      reply.contentType === '' ? { 'Content-Length': '0' } : { 'Content-Type': reply.contentType };
    await sendWhole(ex, reply.status, headers, reply.body);
  }
  if (!ex.life.dead) ex.record.pendingChunks = 0;
}

const chunkSteps = (steps: Step[]): number => steps.filter((s) => s.kind === 'chunk').length;

async function deliver(ex: Exchange, reply: Reply, b: Behaviour): Promise<void> {
  ex.record.pendingChunks = reply.kind === 'stream' ? chunkSteps(streamSteps(reply.lines.length, b, reply.failure)) : 1;
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
  if (reply.kind === 'stream') await playStream(ex, reply, b);
  else await playSingle(ex, reply, b);
}

// ------------------------------------------------------------------------------------------------
// Server

interface State {
  requests: RecordedRequest[];
  queue: Behaviour[];
  /** How many requests each sequence header has served. */
  sequences: Map<string, number>;
  files: ReadonlyMap<string, StaticFile>;
  live: Set<Exchange>;
  closing: boolean;
  store: Store;
  /** Requests in flight per path, from arrival until their response or connection closes. */
  inFlight: Map<string, number>;
}

// gin's routes; a wrong method on one of them is a 405, anything else a 404.
const KNOWN_PATHS: Record<string, readonly string[]> = {
  '/': ['GET', 'HEAD'],
  '/api/version': ['GET', 'HEAD'],
  '/api/tags': ['GET', 'HEAD'],
  '/api/ps': ['GET'],
  '/api/chat': ['POST'],
  '/api/generate': ['POST'],
  '/api/embed': ['POST'],
  '/api/embeddings': ['POST'],
  '/api/show': ['POST'],
  '/api/copy': ['POST'],
  '/api/delete': ['DELETE'],
  '/api/pull': ['POST'],
  '/api/push': ['POST'],
  '/api/create': ['POST'],
  [BLOB_ROUTE]: ['HEAD', 'POST'],
};

// The route a path falls under: itself, or /api/blobs/:digest for one non-empty segment after
// the prefix (gin matches no empty parameter and no further slash).
function routeOf(path: string): string | undefined {
  if (Object.hasOwn(KNOWN_PATHS, path)) return path;
  return /^\/api\/blobs\/[^/]+$/.test(path) ? BLOB_ROUTE : undefined;
}

// The :digest of /api/blobs/:digest, decoded as gin hands it over; a malformed escape is left as it is.
function decodedParam(path: string, route: string): string {
  if (route !== BLOB_ROUTE) return '';
  const raw = path.slice('/api/blobs/'.length);
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** The tag inside a request's behaviour header, if any. */
function tagOf(headers: IncomingHttpHeaders): string | undefined {
  const header = headers[BEHAVIOUR_HEADER];
  if (typeof header !== 'string') return undefined;
  try {
    const parsed = JSON.parse(header) as unknown;
    return isRecord(parsed) && typeof parsed['tag'] === 'string' ? parsed['tag'] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Requests that are not part of the protocol: the static files, and GET /_fake/requests, which
 * lets a client in another process (another runtime, a browser) see what the server saw: the
 * requests carrying a tag, and whether their client went away. Neither is recorded.
 */
function serveOutOfBand(state: State, req: IncomingMessage, res: ServerResponse): boolean {
  const [path = '/', query = ''] = (req.url ?? '/').split('?');
  if (req.method !== 'GET') return false;
  const file = state.files.get(path);
  if (file !== undefined) {
    res.writeHead(200, { 'Content-Type': file.type, 'Cache-Control': 'no-store' });
    res.end(file.body);
    return true;
  }
  if (path !== '/_fake/requests') return false;
  const tag = new URLSearchParams(query).get('tag');
  const seen = state.requests
    .filter((r) => tag === null || tagOf(r.headers) === tag)
    .map((r) => ({
      method: r.method,
      path: r.path,
      tag: tagOf(r.headers) ?? null,
      chunksWritten: r.chunksWritten,
      closed: r.closedAt !== undefined,
      clientDisconnected: r.clientDisconnected,
    }));
  res.writeHead(200, { 'Content-Type': JSON_UTF8, 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(seen));
  return true;
}

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
      if (!isRecord(parsed)) return `${BEHAVIOUR_HEADER} must be a JSON object`;
      const sequence = (parsed as Behaviour).sequence;
      if (sequence === undefined) return sanitise(parsed as Behaviour);
      if (!Array.isArray(sequence) || sequence.length === 0 || !sequence.every(isRecord)) {
        return `${BEHAVIOUR_HEADER}: sequence must be a non-empty array of objects`;
      }
      const seen = state.sequences.get(header) ?? 0;
      state.sequences.set(header, seen + 1);
      return sanitise(sequence[Math.min(seen, sequence.length - 1)] as Behaviour);
    } catch (err) {
      return `${BEHAVIOUR_HEADER} is not valid JSON: ${(err as Error).message}`;
    }
  }
  return sanitise(state.queue.shift() ?? {});
}

function configure(ex: Exchange, b: Behaviour): void {
  ex.cuts = b.cuts ?? [];
  ex.pieceDelayMs = b.pieceDelayMs ?? 15;
  ex.splitCharacters = b.splitCharacters === true;
  ex.bomPending = b.bom === true;
}

async function serve(state: State, ex: Exchange, method: string, path: string): Promise<void> {
  const route = routeOf(path);
  const allowed = route === undefined ? undefined : KNOWN_PATHS[route];
  const plain = (status: number, body: string): Promise<void> =>
    sendWhole(ex, status, { 'Content-Type': 'text/plain' }, body);
  ex.record.pendingChunks = 1;
  if (path.startsWith('/v1/')) {
    // A listing takes a behaviour from the header only, as the native ones do.
    const header = typeof ex.record.headers[BEHAVIOUR_HEADER] === 'string';
    const b = method === 'POST' || header ? pickBehaviour(state, ex.record.headers) : {};
    if (typeof b === 'string') return plain(400, b);
    configure(ex, b);
    return serveV1(v1Io(state, ex), method, path, ex.record.rawBody, b as V1Behaviour);
  }
  if (route === undefined || allowed === undefined) return plain(404, '404 page not found');
  if (!allowed.includes(method)) return plain(405, '405 method not allowed');

  if (isModelPath(route)) {
    const b = pickBehaviour(state, ex.record.headers);
    if (typeof b === 'string') return plain(400, b);
    configure(ex, b);
    return deliver(ex, MODEL_ENDPOINTS[route](ex.record.rawBody, b, state.store.registry), b);
  }
  if (isManagementPath(route)) {
    const b = pickBehaviour(state, ex.record.headers);
    if (typeof b === 'string') return plain(400, b);
    configure(ex, b);
    const call: Call = { raw: ex.record.rawBody, b, store: state.store, method, param: decodedParam(path, route) };
    return deliver(ex, MANAGEMENT_ENDPOINTS[route](call), b);
  }

  const head = method === 'HEAD';
  const fixed: Record<string, [string, string]> = {
    '/': ['text/plain; charset=utf-8', 'Ollama is running'],
    '/api/version': [JSON_UTF8, goJson({ version: FAKE_OLLAMA_VERSION })],
    '/api/tags': [JSON_UTF8, tagsBody(state.store.registry)],
    '/api/ps': [JSON_UTF8, psBody(state.store.running)],
  };
  const [contentType, body] = fixed[path] ?? ['text/plain', ''];
  if (head) {
    ex.res.setHeader('Content-Length', Buffer.byteLength(body));
    return sendWhole(ex, 200, { 'Content-Type': contentType }, '');
  }
  // Only the header applies here: the queue belongs to requests that do something, so a health
  // check or a listing in between does not shift a test's script.
  if (typeof ex.record.headers[BEHAVIOUR_HEADER] === 'string') {
    const b = pickBehaviour(state, ex.record.headers);
    if (typeof b === 'string') return plain(400, b);
    configure(ex, b);
    return deliver(ex, { kind: 'single', status: 200, contentType, body, work: 1 }, b);
  }
  return sendWhole(ex, 200, { 'Content-Type': contentType }, body);
}

// What the /v1 side (fake-v1.ts) may do with one exchange.
function v1Io(state: State, ex: Exchange): V1Io {
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
    models: () => listed(state.store.registry).map((m) => ({ name: m.name, modifiedAt: m.modifiedAt })),
    hasModel: (name) => findModel(state.store.registry, name) !== undefined,
  };
}

async function handle(state: State, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (serveOutOfBand(state, req, res)) return;
  const life: Lifeline = { dead: false, wakers: new Set() };
  const record: RecordedRequest = {
    method: req.method ?? 'GET',
    path: (req.url ?? '/').split('?')[0] ?? '/',
    headers: req.headers,
    rawBody: Buffer.alloc(0),
    body: undefined,
    receivedAt: 0,
    clientDisconnected: false,
    concurrent: 0,
    chunksWritten: 0,
    pendingChunks: 0,
  };
  const ex: Exchange = {
    res,
    record,
    life,
    offset: 0,
    cuts: [],
    pieceDelayMs: 15,
    splitCharacters: false,
    bomPending: false,
    droppedByScript: false,
  };
  state.live.add(ex);
  state.inFlight.set(record.path, (state.inFlight.get(record.path) ?? 0) + 1);
  res.on('error', () => undefined);
  res.on('close', () => {
    state.inFlight.set(record.path, (state.inFlight.get(record.path) ?? 1) - 1);
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
  record.concurrent = state.inFlight.get(record.path) ?? 1;
  state.requests.push(record);
  await serve(state, ex, record.method, record.path);
}

export interface FakeOllamaOptions {
  port?: number;
  host?: string;
  /**
   * Files served on GET at these paths, from the server's own origin, so that a browser page
   * can call the API without CORS. They are not recorded in `requests`.
   */
  files?: Record<string, StaticFile>;
}

export interface StaticFile {
  type: string;
  body: string | Uint8Array;
}

export async function startFakeOllama(options: FakeOllamaOptions = {}): Promise<FakeOllama> {
  const registry: Registry = new Map();
  MODELS.forEach((m, k) => {
    const entry = register(m, MODELS.length - k, m.modifiedAt);
    registry.set(entry.full.toLowerCase(), entry);
  });
  const loaded = registry.get('registry.ollama.ai/library/llama3.2:latest');
  // One model loaded, as after a first chat; /api/ps does not follow later requests.
  const running: RunningModel[] =
    loaded === undefined
      ? []
      : [
          {
            model: loaded,
            size: 3281926144,
            expiresAt: '2026-01-01T01:05:00.123456789+01:00',
            contextLength: 4096,
          },
        ];
  const store: Store = { registry, blobs: new Map(), running, writes: 0 };
  const files = new Map(Object.entries(options.files ?? {}));
  const state: State = {
    requests: [],
    queue: [],
    sequences: new Map(),
    files,
    live: new Set(),
    closing: false,
    store,
    inFlight: new Map(),
  };
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
    blobs: store.blobs,
    models(): string[] {
      return listed(store.registry).map((m) => m.name);
    },
    script(...behaviours: Behaviour[]): void {
      state.queue.push(...behaviours);
    },
    expected(path: '/api/chat' | '/api/generate', body: object, behaviour: Behaviour = {}): Promise<unknown> {
      const raw = Buffer.from(JSON.stringify({ ...body, stream: false }), 'utf8');
      const reply = MODEL_ENDPOINTS[path](raw, sanitise(behaviour), store.registry);
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
