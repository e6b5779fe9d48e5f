import { OllamaError } from '../errors.ts';
import type { RequestContext } from './exchange.ts';

// The errors of the tool loop (tools.ts): the loop itself could not go on, because maxRounds was
// reached or the model called a tool that does not exist. A tool's own failure is not one of
// them: it goes back to the model, or, with `onToolError: 'stop'`, reaches the caller as the tool
// threw it.

export function toolError(context: RequestContext, message: string): OllamaError {
  return new OllamaError({ kind: 'tool', message, url: context.url });
}
