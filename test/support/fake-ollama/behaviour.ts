// The knobs: what a test can ask of the stand-in for one request (a Behaviour), how it is carried
// in the x-fake-behaviour header, and how the server picks the behaviour for a request: the
// header, one step of a header's sequence, or the next one queued with script().

import type { IncomingHttpHeaders } from 'node:http';
import { isRecord } from './go-json.ts';

/** How the stand-in should (mis)behave for one request to a model endpoint. All fields optional. */
export interface Behaviour {
  /** Write nothing at all (no status line, no headers) for this long. */
  headersDelayMs?: number;
  /** Pause between NDJSON lines. */
  chunkDelayMs?: number;
  /** Byte offsets into the whole response body where it is split into separate writes. */
  cuts?: number[];
  /**
   * Also cut inside every multi-byte UTF-8 character, right after its first byte, so that no
   * character arrives whole in one read.
   */
  splitCharacters?: boolean;
  /** Pause between the pieces made by `cuts`; default 15. */
  pieceDelayMs?: number;
  /** End lines with \r\n. */
  crlf?: boolean;
  /** Write an empty line before every chunk. */
  blankLines?: boolean;
  /** Start the body with the UTF-8 BOM. */
  bom?: boolean;
  /** The last line has no line end. */
  noFinalNewline?: boolean;
  /** After N chunks, write the line `<html>this is not json</html>`. */
  garbageAfter?: number;
  /** After N chunks, write {"error":errorText} and end (status stays 200). 0 = a real error status instead of a stream. */
  errorAfter?: number;
  /** Default 'an error was encountered while running the model: unexpected EOF'. */
  errorText?: string;
  /** Status for errors sent before any output; default 500. */
  errorStatus?: number;
  /** End the stream cleanly after the content, without the done chunk. */
  omitDone?: boolean;
  /** After N chunks, write nothing more for stallMs (default: until the client leaves or close()). */
  stallAfter?: number;
  stallMs?: number;
  /** After N chunks, reset the TCP connection. 0 = before any byte. */
  resetAfter?: number;
  /** After N chunks, send FIN without finishing the body. 0 = before any byte. */
  closeAfter?: number;
  /** Answer exactly this and nothing else. */
  respond?: { status: number; headers?: Record<string, string>; body?: string };
  /** Content pieces to stream instead of the default echo reply. */
  tokens?: string[];
  /** Thinking pieces (thinking models only) instead of the default. */
  thinkingTokens?: string[];
  /** Text carried by the done chunk itself. */
  finalText?: string;
  /** done_reason of the final chunk; default 'stop'. */
  doneReason?: string;
  /** Where tool calls arrive: their own chunks after the content ('middle', default) or in the done chunk. */
  toolCallsIn?: 'middle' | 'final';
  /** How many tool calls to make (default 1), cycling through the request's tools. */
  toolCallCount?: number;
  /** /api/embed and /api/embeddings: return this many fewer vectors than inputs. */
  dropVectors?: number;
  /**
   * /api/pull, /api/push and a create that pulls its `from`: how many `pulling <digest>` (or
   * `pushing <digest>`) lines to send, across all the layers; default 6. A pull then sends
   * 1 + progressUpdates + 3 lines in all, a push 1 + progressUpdates + 2.
   */
  progressUpdates?: number;
  /**
   * Header only: the n-th request that carries this exact header gets the n-th behaviour, and
   * the last one repeats. With a `tag`, one scenario's sequence is its own even when several
   * run against the same server.
   */
  sequence?: Behaviour[];
  /** Changes nothing in the reply; names the request for GET /_fake/requests?tag=. */
  tag?: string;
}

/** Request header that carries a per-request Behaviour (JSON). It wins over the queue. */
export const BEHAVIOUR_HEADER = 'x-fake-behaviour';

/**
 * Headers carrying a Behaviour. Header values must be Latin-1 for fetch, so everything beyond
 * ASCII is \u-escaped inside the JSON.
 */
export function behaviourHeader(behaviour: Behaviour): Record<string, string> {
  const json = JSON.stringify(behaviour).replace(
    /[\u007f-\uffff]/g,
    (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'),
  );
  return { [BEHAVIOUR_HEADER]: json };
}

/** Ollama's own answer when its queue is full (OLLAMA_MAX_QUEUE), status 503. */
export const BUSY_TEXT = 'server busy, please try again.  maximum pending requests exceeded';

/**
 * One scripted status answer, for a sequence such as 503, 503, then a normal reply:
 * `fake.script(statusReply(503, '1'), statusReply(503, '1'), {})`. `retryAfter` is sent as the
 * `Retry-After` header exactly as given (seconds, or an HTTP date).
 */
export function statusReply(status: number, retryAfter?: string, text: string = BUSY_TEXT): Behaviour {
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  if (retryAfter !== undefined) headers['retry-after'] = retryAfter;
  return { respond: { status, headers, body: JSON.stringify({ error: text }) } };
}

/** The tag inside a request's behaviour header, if any. */
export function tagOf(headers: IncomingHttpHeaders): string | undefined {
  const header = headers[BEHAVIOUR_HEADER];
  if (typeof header !== 'string') return undefined;
  try {
    const parsed = JSON.parse(header) as unknown;
    return isRecord(parsed) && typeof parsed['tag'] === 'string' ? parsed['tag'] : undefined;
  } catch {
    return undefined;
  }
}

export function sanitise(b: Behaviour): Behaviour {
  const cuts = Array.isArray(b.cuts) ? b.cuts.filter((c) => Number.isInteger(c) && c > 0) : [];
  return { ...b, cuts: [...new Set(cuts)].sort((x, y) => x - y) };
}

// The header wins and leaves the queue alone, so a test can mix both.
/** Where the behaviours for requests without their own come from, and the sequences' progress. */
export interface BehaviourSource {
  /** Behaviours queued with script(), taken one per request. */
  queue: Behaviour[];
  /** How many requests each sequence header has served. */
  sequences: Map<string, number>;
}

export function pickBehaviour(state: BehaviourSource, headers: IncomingHttpHeaders): Behaviour | string {
  const header = headers[BEHAVIOUR_HEADER];
  if (typeof header === 'string') {
    try {
      const parsed = JSON.parse(header) as unknown;
      if (!isRecord(parsed)) return `${BEHAVIOUR_HEADER} must be a JSON object`;
      const sequence = (parsed as Behaviour).sequence;
      if (sequence === undefined) return sanitise(parsed as Behaviour);
      if (!Array.isArray(sequence) || sequence.length === 0 || !sequence.every(isRecord)) {
        return `${BEHAVIOUR_HEADER}: sequence must be a non-empty array of objects`;
      }
      const seen = state.sequences.get(header) ?? 0;
      state.sequences.set(header, seen + 1);
      return sanitise(sequence[Math.min(seen, sequence.length - 1)] as Behaviour);
    } catch (err) {
      return `${BEHAVIOUR_HEADER} is not valid JSON: ${(err as Error).message}`;
    }
  }
  return sanitise(state.queue.shift() ?? {});
}
