// The scripted model: the whole reply to a chat or generate request planned before the first byte
// (thinking, content, tool calls, logprobs, metrics), rendered chunk by chunk or aggregated the way
// the server's handlers build a stream:false answer.

import type { Behaviour } from './behaviour.ts';
import { str } from './binding.ts';
import { createdAt, isRecord } from './go-json.ts';

export const LOAD_DURATION_NS = 1_000_000;
const DEFAULT_THINKING = 'Let me think about it.';

export const words = (s: string): number => s.split(/\s+/).filter((w) => w !== '').length;

function splitTokens(text: string): string[] {
  const points = Array.from(text);
  const out: string[] = [];
  for (let k = 0; k < points.length; k += 3) out.push(points.slice(k, k + 3).join(''));
  return out;
}

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

export interface RunInput {
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

export function parseTools(v: unknown): ToolSpec[] {
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
export function planReply(run: RunInput, b: Behaviour): Plan {
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
export function renderChunk(plan: Plan, c: ChunkSpec, index: number): Record<string, unknown> {
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
export function aggregate(plan: Plan): Record<string, unknown> {
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
