// The data of the side-by-side benchmark, built the same way by the server process (which
// frames it into HTTP responses) and by the benchmark process (which knows what every client
// must hand back). Nothing here depends on Node: it is plain data building.

export const encoder = new TextEncoder();

/**
 * Tokens like a model streams them: mostly short ASCII words, with 2-byte (é), 3-byte (漢字)
 * and 4-byte (🦙) characters and escaped newlines, so that fixed-size chunks cut multi-byte
 * characters and every client's UTF-8 handling is exercised (the side-by-side bench and the
 * splitter's own bench, ndjson.bench.ts, both use them).
 */
const TOKENS: readonly string[] = [
  'The',
  ' llama',
  ' é',
  'té',
  ' 漢字',
  ' grazes',
  '🦙',
  ',',
  ' then',
  '\n',
  ' naps',
  ' in',
  ' the',
  ' 漢',
  '字',
  ' sun',
  '.',
  ' 🦙🦙',
  ' Café',
  '\n\n',
  ' ok',
];

export const MODEL = 'llama3.2';

/** What the server process is told to build (as JSON in its first argument). */
export interface ServerConfig {
  streamTokens: number;
  v1Tokens: number;
  bigTokens: number;
  breakTokens: number;
  /** Input counts whose embed answers are framed at start-up (others on first request). */
  embedCounts: number[];
  /** Listeners on ports of their own besides the first (see `Server.own` in compare.bench.ts). */
  ownPorts?: number;
}

/** HTTP chunk sizes of the server's /s/ scenario; `line` is one line per HTTP chunk. */
export const STREAM_MODES = ['line', '64', '1024', '16384', '65536'] as const;
export type StreamMode = (typeof STREAM_MODES)[number];

export function token(index: number): string {
  return TOKENS[index % TOKENS.length] ?? '';
}

/** `2026-01-01T00:00:00.123456789Z`, advancing a little per token like a real stream. */
export function timestamp(index: number): string {
  const nanos = index * 23_456_789;
  const seconds = Math.floor(nanos / 1e9);
  const two = (n: number): string => String(n).padStart(2, '0');
  const fraction = String(nanos % 1e9).padStart(9, '0');
  return (
    `2026-01-01T${two(Math.floor(seconds / 3600) % 24)}:${two(Math.floor(seconds / 60) % 60)}:` +
    `${two(seconds % 60)}.${fraction}Z`
  );
}

/** One `/api/chat` stream line (with its LF), as Ollama writes it. */
export function chatLine(index: number, content: string, done: boolean): string {
  const chunk: Record<string, unknown> = {
    model: MODEL,
    created_at: timestamp(index),
    message: { role: 'assistant', content },
    done,
  };
  if (done) {
    chunk['done_reason'] = 'stop';
    chunk['total_duration'] = 1_234_567_890;
    chunk['eval_count'] = index;
  }
  return JSON.stringify(chunk) + '\n';
}

/** One `/api/generate` stream line (with its LF). */
export function generateLine(index: number, response: string, done: boolean): string {
  const chunk: Record<string, unknown> = { model: MODEL, created_at: timestamp(index), response, done };
  if (done) {
    chunk['done_reason'] = 'stop';
    chunk['context'] = [1, 2, 3];
    chunk['eval_count'] = index;
  }
  return JSON.stringify(chunk) + '\n';
}

export interface ChatStreamFixture {
  /** The NDJSON lines, each ending with LF; the last one has `done: true` and empty content. */
  lines: string[];
  /** Every line's content concatenated: what a client must hand back. */
  content: string;
  /** How many chunks (lines) a client must yield, the final `done` one included. */
  chunks: number;
}

/** A chat stream of `tokens` content lines plus the final `done` line. */
export function chatStreamFixture(tokens: number): ChatStreamFixture {
  const lines: string[] = [];
  const content: string[] = [];
  for (let i = 0; i < tokens; i++) {
    const t = token(i);
    lines.push(chatLine(i, t, false));
    content.push(t);
  }
  lines.push(chatLine(tokens, '', true));
  return { lines, content: content.join(''), chunks: tokens + 1 };
}

/** The small calls: a short answer, streamed as 3 lines or sent as one object. */
export const SMALL_CHAT_PARTS: readonly string[] = ['Hello', ' from', ' the', ' llama 🦙'];
export const SMALL_TEXT = SMALL_CHAT_PARTS.join('');

export function smallChatStream(): string {
  return SMALL_CHAT_PARTS.map((part, i) => chatLine(i, part, false)).join('') + chatLine(4, '', true);
}

export function smallChatWhole(): string {
  return chatLine(4, SMALL_TEXT, true);
}

export function smallGenerateStream(): string {
  return SMALL_CHAT_PARTS.map((part, i) => generateLine(i, part, false)).join('') + generateLine(4, '', true);
}

export function smallGenerateWhole(): string {
  return generateLine(4, SMALL_TEXT, true);
}

/**
 * Vector element `j` of every embedding but its first, which is the vector's position in its
 * response (so order is checkable). Values like a float32 written as JSON.
 */
export function embedValue(j: number): number {
  return Math.fround(Math.sin(j * 12.9898) * 0.1);
}

export const EMBED_DIMS = 384;

/** An `/api/embed` answer with `count` vectors. */
export function embedResponse(count: number): string {
  const tail = Array.from({ length: EMBED_DIMS - 1 }, (_, j) => embedValue(j + 1)).join(',');
  const vectors: string[] = [];
  for (let i = 0; i < count; i++) vectors.push(`[${i},${tail}]`);
  return `{"model":"${MODEL}","embeddings":[${vectors.join(',')}],"total_duration":1000,"load_duration":10,"prompt_eval_count":${count}}`;
}

/** One chat line whose content is about `bytes` of JSON text: a `stream: false` sized answer. */
export function longLine(bytes: number): { line: string; content: string } {
  const piece = 'The llama é grazes 漢字 in the sun 🦙, then naps.\nCafé "quoted" ';
  const pieceBytes = encoder.encode(JSON.stringify(piece)).length - 2;
  const content = piece.repeat(Math.ceil(bytes / pieceBytes));
  return { line: chatLine(1, content, true), content };
}

/** Views, not copies, of `bytes` in pieces of `size` bytes. */
export function piecesOf(bytes: Uint8Array, size: number): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  for (let start = 0; start < bytes.length; start += size) pieces.push(bytes.subarray(start, start + size));
  return pieces;
}

/** One piece per line. */
export function linePieces(lines: readonly string[]): Uint8Array[] {
  return lines.map((line) => encoder.encode(line));
}

// ---- /v1 (OpenAI-compatible SSE) ------------------------------------------------------------

/** HTTP chunk sizes of the server's /v1s/ scenario; `line` is one event per HTTP chunk. */
export const V1_MODES = ['line', '64', '16384'] as const;

export interface V1StreamFixture {
  /** The events, each `data: {...}\n\n` as Ollama's ChatWriter writes them, then `data: [DONE]\n\n`. */
  events: string[];
  /** Every delta's content concatenated. */
  content: string;
  /** The chunks a client must yield: the content chunks and the finish chunk (not [DONE]). */
  chunks: number;
}

/** A /v1/chat/completions stream of `tokens` content chunks, the finish chunk and `[DONE]`. */
export function v1StreamFixture(tokens: number): V1StreamFixture {
  const head = { id: 'chatcmpl-7', object: 'chat.completion.chunk', created: 1767225600, model: MODEL };
  const events: string[] = [];
  const content: string[] = [];
  for (let i = 0; i < tokens; i++) {
    const t = token(i);
    const delta = i === 0 ? { role: 'assistant', content: t } : { content: t };
    const chunk = { ...head, system_fingerprint: 'fp_ollama', choices: [{ index: 0, delta, finish_reason: null }] };
    events.push(`data: ${JSON.stringify(chunk)}\n\n`);
    content.push(t);
  }
  const finish = {
    ...head,
    system_fingerprint: 'fp_ollama',
    choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
  };
  events.push(`data: ${JSON.stringify(finish)}\n\n`, 'data: [DONE]\n\n');
  return { events, content: content.join(''), chunks: tokens + 1 };
}
