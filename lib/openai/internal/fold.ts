import type { Batches } from '../../internal/exchange.ts';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionMessage,
  Completion,
  ToolCall,
  ToolCallDelta,
} from '../types.ts';

// Folds a /v1 stream into the one object the server answers for `stream: false`. The rules,
// checked against fixtures that hold both forms of one answer (test/fixtures/v1/):
// - top level: `id`, `created`, `model`, `system_fingerprint` and any other field as the
//   chunks carry them, `object` renamed, `usage` from the last chunk that has one (the usage
//   chunk with `choices: []`; Ollama's /v1/completions also puts a zero usage on every chunk);
// - per choice, by `index`: text fields joined (`content`, `refusal`, and reasoning under the
//   server's own name, `reasoning` or `reasoning_content`), a field only ever `null` stays
//   `null`; `finish_reason` the last one sent; each list of `logprobs` collected (`content` and
//   `refusal` in chat; `tokens`, `token_logprobs`, `top_logprobs`, `text_offset` in completions);
// - tool calls by their `index` and `id` (see `addCalls`): a call that arrived whole in one delta (Ollama) is kept as
//   sent, `index` included, as Ollama's full answer has it; a call assembled from fragments
//   (OpenAI, vLLM) is `{ id, type, function: { name, arguments } }`, the form of their answers.

/** A chunk, choice, delta or tool call as parsed: any fields, of which those read here are named
 * (so that a copy of `lib/` compiles under `noPropertyAccessFromIndexSignature`). */
interface Loose {
  id?: unknown;
  type?: unknown;
  name?: unknown;
  function?: unknown;
  index?: unknown;
  usage?: unknown;
  delta?: unknown;
  tool_calls?: unknown;
  text?: unknown;
  logprobs?: unknown;
  finish_reason?: unknown;
  [field: string]: unknown;
}

const JOINED = ['content', 'refusal', 'reasoning', 'reasoning_content'] as const;

class ChoiceParts {
  readonly index: number;
  role: unknown = 'assistant';
  readonly text = new Map<string, string | null>();
  readonly calls: CallParts[] = [];
  /** The call last begun at each `index`. */
  readonly atIndex = new Map<number, CallParts>();
  finish: unknown = null;
  /** Each list of the choice's `logprobs` (null while only null was sent); undefined when no chunk
   * had `logprobs`, null when every one had `logprobs: null`. */
  logprobs: Map<string, unknown[] | null> | null | undefined;
  readonly extra: Loose = {};

  constructor(index: number) {
    this.index = index;
  }

  addChoice(choice: Loose, field: string): void {
    for (const key in choice) {
      const value = choice[key];
      if (key === 'index' || key === field) continue;
      if (key === 'finish_reason') {
        if (value !== null && value !== undefined && value !== '') this.finish = value;
      } else if (key === 'logprobs') this.addLogprobs(value);
      else if (value !== undefined) this.extra[key] = value;
    }
  }

  addLogprobs(value: unknown): void {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      if (this.logprobs === undefined) this.logprobs = null;
      return;
    }
    this.logprobs ??= new Map();
    for (const [key, list] of Object.entries(value)) {
      const kept = this.logprobs.get(key);
      if (Array.isArray(list)) {
        if (Array.isArray(kept)) for (const entry of list) kept.push(entry);
        else this.logprobs.set(key, [...list]);
      } else if (kept === undefined && list === null) this.logprobs.set(key, null);
    }
  }

  /** The choice's `logprobs` as a whole answer has them. */
  foldedLogprobs(): unknown {
    return this.logprobs === null || this.logprobs === undefined ? this.logprobs : Object.fromEntries(this.logprobs);
  }

  addText(key: string, value: unknown): void {
    if (typeof value === 'string') this.text.set(key, (this.text.get(key) ?? '') + value);
    else if (value === null && !this.text.has(key)) this.text.set(key, null);
  }

  /**
   * A delta continues the call last seen at its `index` (or, without one, the last call) unless
   * it begins another (see `beginsAnother`). Ollama copies the native `function.index` onto its
   * calls, and real native answers often leave it out, so two whole calls of one answer may both
   * say `index: 0`; other servers send no `index`, an `id` on every piece, or the name again.
   */
  addCalls(deltas: unknown): void {
    if (!Array.isArray(deltas)) return;
    for (const delta of deltas as ToolCallDelta[]) {
      if (typeof delta !== 'object' || delta === null) continue;
      const id = typeof delta.id === 'string' && delta.id !== '' ? delta.id : undefined;
      const index = typeof delta.index === 'number' ? delta.index : undefined;
      const known = index === undefined ? this.calls[this.calls.length - 1] : this.atIndex.get(index);
      const fn = delta.function ?? {};
      if (known === undefined || beginsAnother(known, id, fn)) {
        // Arguments sent as an object, not as JSON text (some servers do), are a whole call's: kept
        // as sent, and as their JSON text for telling where the next call begins.
        const given = isObject(fn.arguments) ? JSON.stringify(fn.arguments) : fn.arguments;
        const whole = typeof fn.name === 'string' && isJson(given);
        // A call begun by more arguments alone is one more call of the same function.
        const named = typeof fn.name === 'string' ? fn : { name: (known?.call.function as Loose)?.name, ...fn };
        const call = {
          call: { ...delta, function: { ...named } },
          whole,
          args: typeof given === 'string' ? given : '',
        };
        this.calls.push(call);
        if (index !== undefined) this.atIndex.set(index, call);
      } else {
        known.whole = false;
        const target = known.call.function as Loose;
        if (typeof fn.name === 'string' && fn.name !== '') target.name = fn.name;
        // The call's id is the one its first piece brought: a proxy may send a new one with each.
        if (id !== undefined) known.call.id ??= id;
        if (typeof delta.type === 'string') known.call.type = delta.type;
        if (typeof fn.arguments === 'string') known.args += fn.arguments;
      }
    }
  }

  /** In the order the calls began, which is their `index` order wherever the server numbers them. */
  toolCalls(): ToolCall[] {
    return this.calls.map(({ call, whole, args }) => {
      if (whole) return call as ToolCall;
      const fn = call.function as Loose;
      const built: Loose = { id: call.id, type: call.type ?? 'function', function: { ...fn, arguments: args } };
      if (call.id === undefined) delete built.id;
      for (const key in call) if (!(key in built) && key !== 'index') built[key] = call[key];
      return built as ToolCall;
    });
  }
}

type CallParts = { call: Loose; whole: boolean; args: string };

/**
 * Whether a delta begins another call rather than continuing `known`:
 * - the same `id`: never;
 * - after complete JSON arguments: a new `id`, more arguments that are not blank (they would make
 *   the JSON invalid: they are the next call's), or another function's name; a piece with the
 *   same name and nothing more (a server that repeats the name) continues it;
 * - after blank arguments (`""`, a function without parameters): another function's name, or a
 *   new `id` with a name and no arguments (the same function called again);
 * - while the arguments are still incomplete: never (a new `id` then is a proxy's noise, and
 *   taking it for a call would cut the one being assembled in two).
 */
function beginsAnother(known: CallParts, id: string | undefined, fn: { name?: string; arguments?: unknown }): boolean {
  if (id !== undefined && id === known.call.id) return false;
  const name = typeof fn.name === 'string' && fn.name !== '' ? fn.name : undefined;
  const other = name !== undefined && name !== (known.call.function as Loose).name;
  const blank = isObject(fn.arguments) ? false : typeof fn.arguments !== 'string' || fn.arguments.trim() === '';
  if (isJson(known.args)) return id !== undefined || !blank || other;
  if (known.args.trim() === '') return other || (id !== undefined && name !== undefined && blank);
  return false;
}

function isJson(text: unknown): boolean {
  if (typeof text !== 'string') return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

class Folded {
  readonly top: Loose = {};
  readonly choices = new Map<number, ChoiceParts>();
  usage: unknown;

  addTop(chunk: Loose): void {
    for (const key in chunk) {
      if (key === 'choices' || key === 'object') continue;
      const value = chunk[key];
      if (key === 'usage') {
        if (value !== null && value !== undefined) this.usage = value;
      } else if (!(key in this.top) || (value !== null && value !== undefined)) this.top[key] = value;
    }
  }

  choice(raw: Loose): ChoiceParts {
    const index = typeof raw.index === 'number' ? raw.index : 0;
    let parts = this.choices.get(index);
    if (parts === undefined) {
      parts = new ChoiceParts(index);
      this.choices.set(index, parts);
    }
    return parts;
  }

  result(object: string, choices: Loose[]): Loose {
    const out: Loose = { ...this.top, object, choices };
    if (this.usage !== undefined) out.usage = this.usage;
    return out;
  }
}

/** The choices of a chunk that are objects: a server's `choices: null`, `{}` or `[null]` has none
 * to fold (the stream hands such chunks on as they are). */
function choicesOf(chunk: { choices?: unknown }): Loose[] {
  const { choices } = chunk;
  if (!Array.isArray(choices)) return [];
  return choices.every(isObject) ? (choices as Loose[]) : choices.filter(isObject);
}

function isObject(value: unknown): value is Loose {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sorted(folded: Folded): ChoiceParts[] {
  return [...folded.choices.values()].sort((a, b) => a.index - b.index);
}

function finishChoice(parts: ChoiceParts, body: Loose, bodyKey: string): Loose {
  const choice: Loose = { index: parts.index, [bodyKey]: body, ...parts.extra, finish_reason: parts.finish };
  if (parts.logprobs !== undefined) choice.logprobs = parts.foldedLogprobs();
  return choice;
}

export async function foldChatCompletion(batches: Batches<ChatCompletionChunk>): Promise<ChatCompletion> {
  const folded = new Folded();
  for (let batch = await batches.next(); batch !== undefined; batch = await batches.next())
    for (const chunk of batch) {
      // A server that ignored `stream` answered with the whole object: it is the answer.
      if ((chunk as { object?: unknown }).object === 'chat.completion') return chunk as unknown as ChatCompletion;
      folded.addTop(chunk);
      for (const raw of choicesOf(chunk)) {
        const parts = folded.choice(raw);
        parts.addChoice(raw, 'delta');
        const delta = (raw.delta ?? {}) as Loose;
        for (const key in delta) {
          const value = delta[key];
          if (key === 'role') {
            if (typeof value === 'string' && value !== '') parts.role = value;
          } else if (key === 'tool_calls') parts.addCalls(value);
          else if ((JOINED as readonly string[]).includes(key)) parts.addText(key, value);
        }
      }
    }
  const choices = sorted(folded).map((parts) => {
    const message: Loose = { role: parts.role, content: parts.text.get('content') ?? null };
    for (const key of JOINED) if (key !== 'content' && parts.text.has(key)) message[key] = parts.text.get(key);
    if (parts.calls.length > 0) message.tool_calls = parts.toolCalls();
    return finishChoice(parts, message as ChatCompletionMessage as Loose, 'message');
  });
  return folded.result('chat.completion', choices) as ChatCompletion;
}

export async function foldCompletion(batches: Batches<Completion>): Promise<Completion> {
  const folded = new Folded();
  const texts = new Map<number, string>();
  for (let batch = await batches.next(); batch !== undefined; batch = await batches.next())
    for (const chunk of batch) {
      folded.addTop(chunk);
      for (const raw of choicesOf(chunk)) {
        const parts = folded.choice(raw as Loose);
        parts.addChoice(raw as Loose, 'text');
        if (typeof raw.text === 'string') texts.set(parts.index, (texts.get(parts.index) ?? '') + raw.text);
      }
    }
  const choices = sorted(folded).map((parts) => {
    const choice: Loose = { text: texts.get(parts.index) ?? '', index: parts.index, ...parts.extra };
    if (parts.logprobs !== undefined) choice.logprobs = parts.foldedLogprobs();
    choice.finish_reason = parts.finish;
    return choice;
  });
  return folded.result('text_completion', choices) as Completion;
}
