// What gin's ShouldBindJSON makes of a request body: the request structs' field types, Go's
// unmarshal errors for the fields a client is likely to get wrong, keep_alive durations, and
// readers for the bound fields.

import { decodeGoJson, goQuote, isRecord, jsonKind } from './go-json.ts';

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
export const CHAT_RULE: StructRule = {
  goName: 'ChatRequest',
  fields: { ...COMMON_FIELDS, messages: 'messages', tools: 'tools' },
};
export const GENERATE_RULE: StructRule = {
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
export const EMBED_RULE: StructRule = {
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
export const EMBEDDINGS_RULE: StructRule = {
  goName: 'EmbeddingRequest',
  fields: { model: 'string', prompt: 'string', keep_alive: 'duration', options: 'object' },
};
export const SHOW_RULE: StructRule = {
  goName: 'ShowRequest',
  fields: { model: 'string', name: 'string', system: 'string', template: 'string', verbose: 'bool', options: 'object' },
};
export const COPY_RULE: StructRule = { goName: 'CopyRequest', fields: { source: 'string', destination: 'string' } };
export const DELETE_RULE: StructRule = { goName: 'DeleteRequest', fields: { model: 'string', name: 'string' } };
const TRANSFER_FIELDS: Record<string, FieldRule> = {
  model: 'string',
  name: 'string',
  insecure: 'bool',
  stream: 'bool',
  username: 'string',
  password: 'string',
};
export const PULL_RULE: StructRule = { goName: 'PullRequest', fields: TRANSFER_FIELDS };
export const PUSH_RULE: StructRule = { goName: 'PushRequest', fields: TRANSFER_FIELDS };
export const CREATE_RULE: StructRule = {
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

export const THINK_LEVELS = ['high', 'medium', 'low', 'max'];

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
export function bindRequest(raw: Buffer, rule: StructRule): Bound {
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
export function keepAliveNs(v: unknown): number | undefined {
  if (typeof v === 'number') return v < 0 ? -1 : Math.trunc(v * 1e9);
  if (typeof v === 'string') {
    const d = parseGoDuration(v);
    return d.ok ? d.ns : undefined;
  }
  return undefined;
}

export const str = (v: unknown): string => (typeof v === 'string' ? v : '');
// The management endpoints still accept the legacy `name` where `model` is absent.
export const modelOrName = (req: Record<string, unknown>): string => str(req['model']) || str(req['name']);
export const int = (v: unknown): number => (typeof v === 'number' && Number.isInteger(v) ? v : 0);
