// The model endpoints, free of I/O: chat, generate, embed and embeddings, a request body in and a
// Reply out.

import type { Behaviour } from './behaviour.ts';
import {
  bindRequest,
  CHAT_RULE,
  EMBED_RULE,
  EMBEDDINGS_RULE,
  GENERATE_RULE,
  int,
  keepAliveNs,
  str,
  THINK_LEVELS,
} from './binding.ts';
import { can, type InstalledModel, type Registry } from './catalogue.ts';
import { createdAt, float32Json, goJson, goQuote, isRecord } from './go-json.ts';
import { findModel } from './registry.ts';
import { failure, single, type Reply } from './reply.ts';
import {
  aggregate,
  LOAD_DURATION_NS,
  parseTools,
  planReply,
  renderChunk,
  words,
  type RunInput,
} from './scripted-model.ts';

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

export const MODEL_ENDPOINTS: Record<ModelPath, (raw: Buffer, b: Behaviour, registry: Registry) => Reply> = {
  '/api/chat': chatReply,
  '/api/generate': generateReply,
  '/api/embed': embedReply,
  '/api/embeddings': embeddingsReply,
};

export const isModelPath = (p: string): p is ModelPath => Object.hasOwn(MODEL_ENDPOINTS, p);
