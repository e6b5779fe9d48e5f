// The README's "AWS Lambda" example: a handler for `{ "prompt": "…", "model": "…" }`, sent as the event
// itself or as the JSON body of an API Gateway or function URL request. Set OLLAMA_HOST on the function.
import { generate, isOllamaError } from '../lib/index.ts';

// No AWS package: these are the only parts of Lambda's context and result the handler uses. The event is
// `unknown` because it comes from outside and is checked before use.
interface LambdaContext {
  getRemainingTimeInMillis(): number;
}
interface LambdaResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

// Lambda kills an invocation at its deadline, and the caller then sees only "Task timed out". Ending the
// call this long before that leaves time to build and return an error that says what went wrong.
export const SAFETY_MARGIN_MS = 1000;

export async function handler(event: unknown, context: LambdaContext): Promise<LambdaResult> {
  const request = readEvent(event);
  if (typeof request === 'string') return reply(400, { error: { kind: 'bad-request', message: request } });
  try {
    const answer = await generate(request, {
      // At least 1 ms: a totalTimeout of 0 would mean no limit at all.
      totalTimeout: Math.max(1, context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS),
    });
    return reply(200, { model: answer.model, response: answer.response });
  } catch (error) {
    if (!isOllamaError(error)) throw error;
    const { kind, message, status, attempts } = error;
    // Ollama, not the caller, failed or was too slow: answer as a gateway would.
    return reply(kind.endsWith('timeout') ? 504 : 502, { error: { kind, message, status, attempts } });
  }
}

function readEvent(event: unknown): { model: string; prompt: string } | string {
  let input = event;
  if (isRecord(input) && typeof input.body === 'string') {
    try {
      input = JSON.parse(input.body);
    } catch {
      return 'The request body is not valid JSON.';
    }
  }
  if (
    !isRecord(input) ||
    typeof input.prompt !== 'string' ||
    input.prompt.trim() === '' ||
    (input.model !== undefined && typeof input.model !== 'string')
  ) {
    return 'Expected {"prompt": "…"} with an optional "model" string.';
  }
  return { model: input.model ?? (process.env.OLLAMA_MODEL || 'llama3.2'), prompt: input.prompt };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function reply(statusCode: number, body: object): LambdaResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
