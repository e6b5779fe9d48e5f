import { OllamaError } from '../errors.ts';
import type { ToolCall } from '../types.ts';
import type { RequestContext } from './exchange.ts';

// The errors of the tool loop (tools.ts): the loop itself could not go on. A tool's own failure
// is not one of them: it goes back to the model, or, with `onToolError: 'stop'`, reaches the
// caller as the tool threw it.

/** The model still asked for tools in the last round the loop allows. */
export function tooManyRounds(context: RequestContext, maxRounds: number, calls: readonly ToolCall[]): OllamaError {
  return new OllamaError({
    kind: 'tool',
    message:
      `The model "${context.model}" still called tools (${calls.map((call) => call.function?.name)}) in round ` +
      `${maxRounds} of ${context.url}, the last of maxRounds; raise it, or look for a loop in the tool results.`,
    url: context.url,
  });
}

/** With `onToolError: 'stop'`: the model called a tool the caller did not give. */
export function unknownTool(context: RequestContext, name: string, known: readonly string[]): OllamaError {
  return new OllamaError({
    kind: 'tool',
    message: `The model "${context.model}" called "${name}", which is not one of the tools given (${known}).`,
    url: context.url,
  });
}
