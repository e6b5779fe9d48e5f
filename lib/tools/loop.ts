import { chatStreamWith } from '../chat.ts';
import { isOllamaError } from '../errors.ts';
import { ASYNC_DISPOSE } from '../internal/call.ts';
import { type Batches, contextOf, type RequestContext } from '../internal/exchange.ts';
import { foldChat } from '../internal/fold.ts';
import { resolveOptions } from '../internal/resolve-options.ts';
import { oneDeadline } from '../internal/one-deadline.ts';
import { hold } from '../internal/signals.ts';
import { rehold, unhold } from '../internal/unhold.ts';
import { toolError } from '../internal/tool-error.ts';
import { requireModel } from '../internal/validate.ts';
import type { CallOptions } from '../options.ts';
import { count } from '../retry.ts';
import type { ChatRequest, ChatResponse, Message, Tool, ToolCall } from '../types.ts';

// The tool loop: chat, run the tools the model asks for, send their results back, and chat again,
// until the model answers without asking for a tool.

/** The most chat requests one loop makes unless `maxRounds` says otherwise. */
const DEFAULT_MAX_ROUNDS = 8;

/** What a tool's `run` is given besides its arguments. */
export interface ToolRunContext {
  /** Aborted when the loop ends early: the caller's signal, `totalTimeout`, `break`, or another
   * tool's failure with `onToolError: 'stop'`. A long-running tool should stop when it fires. */
  signal: AbortSignal;
  /** The call as the model made it. */
  call: ToolCall;
}

/** A tool as Ollama describes it, plus the function that does its work. */
export interface RunnableTool extends Tool {
  /**
   * Runs one call. The arguments are the model's, as Ollama decoded them (not checked against the
   * schema). A string result is sent back as it is, anything else as JSON; a throw is sent back as
   * `Error: <message>` unless `onToolError` is `'stop'`.
   */
  run(args: { [key: string]: unknown }, context: ToolRunContext): unknown;
}

/** A chat request whose tools carry their own `run`. */
export interface ToolLoopRequest extends Omit<ChatRequest, 'tools' | 'messages' | 'stream'> {
  messages: Message[];
  tools: RunnableTool[];
}

/** Options of the tool loop: every call option, for the whole loop, and two of its own. */
export interface ToolLoopOptions extends CallOptions {
  /**
   * The most chat requests the loop makes. When the model still asks for tools in the last one,
   * the loop fails with kind `tool` instead of running them. Like every `OllamaError` that ends
   * the loop, that error carries the conversation so far in `messages` (and `rounds`).
   * @default 8
   */
  maxRounds?: number | undefined;
  /**
   * What a tool that throws, or a call of a tool that does not exist, does: `'report'` sends
   * `Error: <message>` back to the model as the tool's result, so it can try again or explain;
   * `'stop'` ends the loop with that error (the tool's own, or kind `tool` for an unknown name)
   * and aborts the other tools of the round.
   * @default 'report'
   */
  onToolError?: 'report' | 'stop' | undefined;
}

/** How the loop ended. */
export interface ToolLoopResult {
  /** The final answer, the one without tool calls, as `chat` returns it. */
  response: ChatResponse;
  /** The whole conversation: the request's messages, then each assistant message and tool
   * result in order, then the final answer. Send it with the next question to go on. */
  messages: Message[];
  /** How many chat requests were made. */
  rounds: number;
}

/** What the streaming loop yields, as it happens. `round` counts chat requests from 1. */
export type ToolLoopEvent =
  | { type: 'thinking'; round: number; thinking: string }
  | { type: 'content'; round: number; content: string }
  | { type: 'tool_call'; round: number; call: ToolCall }
  | {
      type: 'tool_result';
      round: number;
      call: ToolCall;
      /** What goes back to the model. */
      content: string;
      /** Set when the tool threw, or does not exist: what it threw. */
      error?: unknown;
    }
  | { type: 'done'; round: number; result: ToolLoopResult };

/**
 * The tool loop, answered as a whole: chats, runs every tool call of the answer (all of one
 * round at once), appends the assistant message and one `role: "tool"` message per call (with
 * `tool_name`), and chats again until the model answers without tool calls. `signal` and
 * `totalTimeout` cover the whole loop, tools included; each tool gets the loop's signal.
 */
export async function runTools(request: ToolLoopRequest, options?: ToolLoopOptions): Promise<ToolLoopResult> {
  const events = runToolsStream(request, options);
  let step = await events.next();
  while (step.done !== true) step = await events.next();
  return step.value;
}

/**
 * The tool loop as a stream of events: thinking and content as the model writes them, each tool
 * call as the model makes it, each result as its tool finishes, and `done` with the result last
 * (also the generator's return value). Leaving the loop early (`break`) closes the connection and
 * aborts the tools still running. The request and options are checked at once.
 */
export function runToolsStream(
  request: ToolLoopRequest,
  options?: ToolLoopOptions,
): AsyncGenerator<ToolLoopEvent, ToolLoopResult, undefined> {
  const controller = new AbortController();
  return leavable(prepare(request, options)(controller), controller);
}

/** The reason the loop's own signal aborts with when its stream is left: never seen by anyone. */
const LEFT = Symbol('left');

/**
 * The loop's generator, but for a `return()` made while a `next()` is under way (a Stop button,
 * outside the loop): a generator would queue it behind that step, which may wait minutes for a
 * model or a tool. Here it aborts the loop's signal at once (the connection closes, the tools are
 * told), the step under way ends the stream, and the `return()` settles as soon as it has.
 */
function leavable(loop: Events, controller: AbortController): Events {
  let underWay: Promise<unknown> | undefined;
  const ended = (error: unknown): Step => {
    if (controller.signal.reason === LEFT) return { value: undefined, done: true } as unknown as Step;
    throw error;
  };
  const next = (): Promise<Step> => {
    const step = loop.next().catch(ended);
    underWay = step;
    const clear = (): void => {
      if (underWay === step) underWay = undefined;
    };
    step.then(clear, clear);
    return step;
  };
  const leave = (value?: ToolLoopResult | PromiseLike<ToolLoopResult>): Promise<Step> => {
    if (underWay === undefined) return loop.return(value as ToolLoopResult);
    if (!controller.signal.aborted) controller.abort(LEFT);
    const after = (): Promise<Step> => loop.return(value as ToolLoopResult);
    return underWay.then(after, after);
  };
  const stream = {
    next,
    return: leave,
    throw: (error: unknown): Promise<Step> => leave().then(() => Promise.reject(error)),
    [Symbol.asyncIterator]: (): Events => stream as unknown as Events,
    /** `await using`: leaving the block leaves the loop, as `break` does. */
    [ASYNC_DISPOSE]: (): Promise<void> => leave().then(ignore),
  };
  return stream as unknown as Events;
}

type Events = AsyncGenerator<ToolLoopEvent, ToolLoopResult, undefined>;
type Step = IteratorResult<ToolLoopEvent, ToolLoopResult>;

function ignore(): void {}

function prepare(request: ToolLoopRequest, options: ToolLoopOptions | undefined): Loop {
  const model = requireModel('runTools', request);
  const { tools, messages, ...rest } = request;
  const byName = new Map<string, RunnableTool>();
  const specs: Tool[] = [];
  if (!Array.isArray(messages) || !Array.isArray(tools)) {
    throw new TypeError('runTools: request.messages and request.tools must be arrays');
  }
  for (const tool of tools) {
    const name = tool?.function?.name;
    if (typeof name !== 'string' || typeof tool.run !== 'function' || byName.has(name)) {
      throw new TypeError(`runTools: each tool needs a unique function.name and a run function (${name})`);
    }
    byName.set(name, tool);
    const { run: _run, ...spec } = tool;
    specs.push(spec);
  }
  const { maxRounds = DEFAULT_MAX_ROUNDS, onToolError = 'report', ...callOptions } = options ?? {};
  if (onToolError !== 'report' && onToolError !== 'stop') {
    throw new TypeError("runTools: onToolError must be 'report' or 'stop'");
  }
  const rounds = count(maxRounds, 'runTools: options.maxRounds', 1);
  const resolved = resolveOptions(callOptions);
  const context = contextOf({ method: 'POST', path: '/api/chat', model, accept: 'application/x-ndjson' }, resolved);
  const stop = onToolError === 'stop';

  return async function* loop(controller: AbortController): AsyncGenerator<ToolLoopEvent, ToolLoopResult, undefined> {
    // The rounds share the loop's signal and deadline, and count their requests into it.
    const deadline = oneDeadline(resolved, context, controller);
    const { timer, options: chatOptions } = deadline;
    // As a call's own (internal/call.ts): a loop dropped half-read must not hold the process.
    const unheld = timer !== undefined && resolved.builtinFetch;
    if (unheld) unhold(timer);
    const { signal } = controller;
    const history: Message[] = [...messages];
    /** Chat requests made so far, the one under way included. */
    let round = 0;
    /** What a tool threw that ends the loop (`onToolError: 'stop'`). */
    let theirs: unknown;
    // Settles only by rejecting, when the loop is aborted: a tool that ignores its signal must not
    // hold the loop.
    const aborted = new Promise<never>((_, reject) => {
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
    aborted.catch(() => {});
    /** The tools are the caller's code, and may hold nothing: while they run, the caller's signal
     * holds the loop, and its total timer the process (see `Call.waitFor` in internal/call.ts). */
    const waitForTools = async <T>(running: Promise<T>): Promise<T> => {
      const release = hold(resolved.signal, controller);
      if (unheld) rehold(timer);
      try {
        return await running;
      } finally {
        release();
        if (unheld) unhold(timer as ReturnType<typeof setTimeout>);
      }
    };
    try {
      for (;;) {
        round++;
        const chunks: ChatResponse[] = [];
        for await (const chunk of chatStreamWith(
          { ...rest, model, messages: [...history], tools: specs },
          chatOptions,
        )) {
          chunks.push(chunk);
          const { thinking, content, tool_calls } = chunk.message ?? {};
          if (thinking) yield { type: 'thinking', round, thinking };
          if (content) yield { type: 'content', round, content };
          for (const call of tool_calls ?? []) yield { type: 'tool_call', round, call };
        }
        // The round's answer as `chat` would have returned it.
        const response = await foldChat(oneBatch(chunks));
        history.push(response.message);
        const calls = response.message.tool_calls ?? [];
        if (calls.length === 0) {
          const result: ToolLoopResult = { response, messages: history, rounds: round };
          yield { type: 'done', round, result };
          return result;
        }
        if (round >= rounds) {
          throw toolError(
            context,
            `The model "${model}" still called ${calls.map((call) => call.function?.name)} in round ${round} of ` +
              `${context.url}, the last of maxRounds; raise it, or look for a loop in the tool results. The ` +
              "error's messages hold the conversation so far, to go on from.",
          );
        }
        // Every call of the round at once; each result is reported as its tool finishes, and the
        // results go back to the model in the order of the calls.
        const results: Message[] = [];
        const running = new Map(calls.map((call, index) => [index, runOne(call, index)]));
        while (running.size > 0) {
          const done = await waitForTools(Promise.race([...running.values(), aborted]));
          running.delete(done.index);
          const call = calls[done.index]!;
          if (done.failed && stop) {
            if (done.theirs === true) theirs = done.error;
            controller.abort(done.error);
            throw done.error;
          }
          // A call without a function (a model's malformed answer) was answered as an unknown tool.
          const message: Message = { role: 'tool', content: done.content, tool_name: call.function?.name ?? '' };
          if (call.id !== undefined) message.tool_call_id = call.id;
          results[done.index] = message;
          yield { type: 'tool_result', round, call, content: done.content, error: done.error };
        }
        history.push(...results);
      }
    } catch (error) {
      // What the caller's own code threw (a tool, the caller's abort reason) stays as it was.
      if (error === theirs || error === resolved.signal?.reason) throw error;
      throw withConversation(deadline.told(error), history, round);
    } finally {
      deadline.dispose();
      // However the loop ended, no tool of it keeps working for a result nobody will read.
      controller.abort();
    }

    /** One call to its outcome; it never rejects, so a failure is the model's to read. */
    async function runOne(call: ToolCall, index: number): Promise<Outcome> {
      const name = call.function?.name;
      const tool = byName.get(name);
      try {
        // This message is also what the model is told, so it names the tools there are.
        if (tool === undefined) {
          const tools = [...byName.keys()];
          throw toolError(
            context,
            typeof name === 'string'
              ? `There is no tool "${name}"; the tools are ${tools}.`
              : `The call names no tool; the tools are ${tools}.`,
          );
        }
        const args = argumentsOf(call, context);
        let value: unknown;
        try {
          value = await tool.run(args, { signal, call });
        } catch (error) {
          return { index, content: `Error: ${describeThrown(error)}`, failed: true, error, theirs: true };
        }
        // A value JSON cannot hold (a cycle, a BigInt) fails here, and the model is told so.
        return { index, content: typeof value === 'string' ? value : (JSON.stringify(value) ?? '') };
      } catch (error) {
        return { index, content: `Error: ${describeThrown(error)}`, failed: true, error };
      }
    }
  };
}

/** A call's arguments as an object: Ollama sends one, a server of another kind may send the
 * JSON text of one (as /v1 does), which is parsed; anything else is reported to the model. */
function argumentsOf(call: ToolCall, context: RequestContext): Record<string, unknown> {
  const given: unknown = call.function.arguments;
  if (given === undefined || given === null) return {};
  let value: unknown = given;
  if (typeof given === 'string') {
    try {
      value = given.trim() === '' ? {} : JSON.parse(given);
    } catch {
      value = undefined;
    }
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  throw toolError(context, `The arguments of the call are not a JSON object: ${JSON.stringify(given).slice(0, 200)}.`);
}

type Loop = (controller: AbortController) => AsyncGenerator<ToolLoopEvent, ToolLoopResult, undefined>;

/** What a tool threw, in words, whatever it threw: reading it must not throw in turn (an object
 * without a prototype, a `message` getter that throws). */
function describeThrown(error: unknown): string {
  try {
    const message = (error as { message?: unknown } | null)?.message;
    if (typeof message === 'string') return message;
    return String(error);
  } catch {
    return 'the tool threw a value that cannot be shown';
  }
}

interface Outcome {
  index: number;
  content: string;
  failed?: boolean;
  /** What the tool threw, or the loop's own error for a tool that does not exist. */
  error?: unknown;
  /** `error` is what the tool's `run` threw. */
  theirs?: boolean;
}

/**
 * The loop's failure (its own, or a round's chat request's) with the conversation as far as it
 * got, so that nothing the tools did is lost and the caller can go on from there (see
 * `OllamaError.messages`). Set on the error itself, which was made for this loop alone, and not
 * enumerable, so that logging the error does not print the whole conversation.
 */
function withConversation(error: unknown, messages: Message[], rounds: number): unknown {
  if (!isOllamaError(error)) return error;
  Object.defineProperties(error, {
    messages: { value: messages, configurable: true },
    rounds: { value: rounds, configurable: true },
  });
  return error;
}

/** Chunks already in hand, as the one batch the fold reads. */
function oneBatch<T>(items: T[]): Batches<T> {
  let given = items.length === 0;
  return {
    next: async () => {
      if (given) return undefined;
      given = true;
      return items;
    },
    close: async () => {},
  };
}
