// The clients compared, behind one small interface: ollama-fetch (its public names only),
// ollama-js (the `ollama` package, benchmark-only devDependency) and a careful raw-fetch
// client written here. Every method hands back what the client produced so the caller can
// check it; none of them checks anything itself.
import { Ollama } from 'ollama';
import { chat, chatStream, embed, generate } from '../../lib/index.ts';
import { MODEL } from './fixtures.ts';

export const CLIENTS = ['ollama-fetch', 'ollama-js', 'raw'] as const;
export type ClientName = (typeof CLIENTS)[number];

/** A `fetch` both libraries accept (and the raw client uses). */
export type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Where a call goes: a loopback host (with the server's scenario prefix), and optionally a
 * `fetch` that answers in-process instead. */
export interface Target {
  host: string;
  fetch?: Fetch | undefined;
}

/** Called with each chunk's content; returning true leaves the stream (`break`). */
export type OnChunk = (content: string, done: boolean) => boolean | undefined;

export interface Client {
  name: ClientName;
  chatStream(target: Target, onChunk: OnChunk): Promise<void>;
  /** The answer's content. */
  chat(target: Target): Promise<string>;
  generate(target: Target): Promise<string>;
  embed(target: Target, input: readonly string[]): Promise<number[][]>;
}

const MESSAGES = [{ role: 'user', content: 'Say hello.' }];
const PROMPT = 'Say hello.';

// ---- ollama-fetch ---------------------------------------------------------------------------

const options = (target: Target): { host: string; fetch?: Fetch } =>
  target.fetch === undefined ? { host: target.host } : { host: target.host, fetch: target.fetch };

const ollamaFetch: Client = {
  name: 'ollama-fetch',
  async chatStream(target, onChunk) {
    for await (const chunk of chatStream({ model: MODEL, messages: MESSAGES }, options(target))) {
      if (onChunk(chunk.message.content, chunk.done)) break;
    }
  },
  async chat(target) {
    return (await chat({ model: MODEL, messages: MESSAGES }, options(target))).message.content;
  },
  async generate(target) {
    return (await generate({ model: MODEL, prompt: PROMPT }, options(target))).response;
  },
  async embed(target, input) {
    return (await embed({ model: MODEL, input: [...input] }, options(target))).embeddings;
  },
};

// ---- ollama-js --------------------------------------------------------------------------------

/** One instance per host and fetch, made once and kept, as an application would. */
const instances = new Map<string, Map<Fetch | undefined, Ollama>>();
function ollamaFor(target: Target): Ollama {
  let byFetch = instances.get(target.host);
  if (byFetch === undefined) {
    byFetch = new Map();
    instances.set(target.host, byFetch);
  }
  let client = byFetch.get(target.fetch);
  if (client === undefined) {
    client = new Ollama(
      target.fetch === undefined ? { host: target.host } : { host: target.host, fetch: target.fetch as typeof fetch },
    );
    byFetch.set(target.fetch, client);
  }
  return client;
}

/** Drops the kept instances (the memory section starts each client from nothing). */
export function forgetOllamaJsInstances(): void {
  instances.clear();
}

const ollamaJs: Client = {
  name: 'ollama-js',
  async chatStream(target, onChunk) {
    const stream = await ollamaFor(target).chat({ model: MODEL, messages: MESSAGES, stream: true });
    for await (const chunk of stream) {
      if (onChunk(chunk.message.content, chunk.done)) break;
    }
  },
  async chat(target) {
    return (await ollamaFor(target).chat({ model: MODEL, messages: MESSAGES, stream: false })).message.content;
  },
  async generate(target) {
    // Optional in ollama-js's types; a missing one fails the check of the answer.
    return (await ollamaFor(target).generate({ model: MODEL, prompt: PROMPT, stream: false })).response ?? '';
  },
  async embed(target, input) {
    return (await ollamaFor(target).embed({ model: MODEL, input: [...input] })).embeddings;
  },
};

// ---- raw fetch --------------------------------------------------------------------------------

interface RawChunk {
  message?: { content: string };
  done?: boolean;
  error?: string;
}

async function post(target: Target, path: string, body: unknown): Promise<Response> {
  const send = target.fetch ?? fetch;
  const response = await send(target.host + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`raw: HTTP ${response.status} from ${path}`);
  return response;
}

/**
 * What a careful hand-written client does: one streaming TextDecoder, `indexOf('\n')` only in
 * the newly decoded text, the partial line carried aside, `JSON.parse` per line; no idle timer,
 * no retries, no validation beyond an `error` field. Leaving early cancels the body.
 */
async function rawChatStream(target: Target, onChunk: OnChunk): Promise<void> {
  const response = await post(target, '/api/chat', { model: MODEL, messages: MESSAGES, stream: true });
  if (response.body === null) throw new Error('raw: no body');
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let carry = '';
  let finished = false;
  const line = (text: string): boolean => {
    if (text.length === 0 || text === '\r') return false;
    const chunk = JSON.parse(text) as RawChunk;
    if (chunk.error !== undefined) throw new Error(chunk.error);
    return onChunk(chunk.message?.content ?? '', chunk.done === true) === true;
  };
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const text = decoder.decode(value, { stream: true });
      let newline = text.indexOf('\n');
      if (newline < 0) {
        carry += text;
        continue;
      }
      if (line(carry + text.slice(0, newline))) return;
      let start = newline + 1;
      newline = text.indexOf('\n', start);
      while (newline >= 0) {
        if (line(text.slice(start, newline))) return;
        start = newline + 1;
        newline = text.indexOf('\n', start);
      }
      carry = text.slice(start);
    }
    finished = true;
    line(carry + decoder.decode());
  } finally {
    // Left early (or failed): close the connection, without waiting for it.
    if (!finished) reader.cancel().catch(() => {});
  }
}

const raw: Client = {
  name: 'raw',
  chatStream: rawChatStream,
  async chat(target) {
    const answer = (await (
      await post(target, '/api/chat', { model: MODEL, messages: MESSAGES, stream: false })
    ).json()) as RawChunk;
    return answer.message?.content ?? '';
  },
  async generate(target) {
    const answer = (await (
      await post(target, '/api/generate', { model: MODEL, prompt: PROMPT, stream: false })
    ).json()) as {
      response: string;
    };
    return answer.response;
  },
  async embed(target, input) {
    const answer = (await (await post(target, '/api/embed', { model: MODEL, input })).json()) as {
      embeddings: number[][];
    };
    return answer.embeddings;
  },
};

export const clients: Record<ClientName, Client> = { 'ollama-fetch': ollamaFetch, 'ollama-js': ollamaJs, raw };
