// Helpers of the /v1 tests: call options that reach the stand-in's /v1 side with a behaviour.
import type { OpenAIOptions } from '../../lib/openai/index.ts';
import type { FakeOllama } from './fake-ollama.ts';
import type { V1Behaviour } from './fake-ollama/v1.ts';

/** Options for one call to the stand-in's /v1 base, behaving as `behaviour` says. */
export function v1(fake: FakeOllama, behaviour: V1Behaviour = {}, extra: OpenAIOptions = {}): OpenAIOptions {
  const json = JSON.stringify(behaviour).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return { baseURL: `${fake.url}/v1`, retry: false, ...extra, headers: { 'x-fake-behaviour': json } };
}

/** Collects a stream, and what it threw (if anything). */
export async function drain<T>(stream: AsyncIterable<T>): Promise<{ items: T[]; error: unknown }> {
  const items: T[] = [];
  try {
    for await (const item of stream) items.push(item);
    return { items, error: undefined };
  } catch (error) {
    return { items, error };
  }
}
