import { redact } from './header-values.ts';
import { idleTimer } from './idle.ts';
import { quietThen } from './quiet.ts';
import { bodyNotJson, bodyNotText, bodyTooLarge } from './protocol-error.ts';

/** What a whole-body read found. */
export interface BodyText {
  text: string;
  /** The body was longer than the limit; `text` holds its start. */
  truncated: boolean;
  /** The read timeout ran out before the body ended. */
  silent: boolean;
  /** The bytes are not valid UTF-8: `text` holds them with U+FFFD in place of the bad ones. */
  invalid?: boolean;
  /** How the body failed before its end (the connection reset, cut), with `keep`: `text` holds
   * what had arrived. */
  failure?: unknown;
}

/**
 * Reads at most `limit` bytes of a body as text and cancels the rest, so a huge error page
 * cannot exhaust memory and the connection is released either way. With `readTimeout`, a read
 * that waits longer for bytes ends the body there (`silent`). The bytes are decoded once, at the
 * end: a multi-byte character cut between reads is whole again by then. An abort of `signal`
 * cancels the body (see `OpenExchange.signal`); the caller reports the abort.
 */
export async function readText(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
  readTimeout = 0,
  signal?: AbortSignal,
  keep = false,
  json = false,
): Promise<BodyText> {
  if (body === null) return { text: '', truncated: false, silent: false };
  const reader = body.getReader();
  const stop = (): void => void reader.cancel().catch(ignore);
  const idle = readTimeout > 0 ? idleTimer(readTimeout, stop) : undefined;
  signal?.addEventListener('abort', stop);
  const parts: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  let failure: unknown;
  /** With `json`: how far the bytes were followed, to tell when the answer's value is whole. */
  const follow = json ? nesting() : undefined;
  /** See `QUIET_MS` (quiet.ts): when what arrived is one whole object or array, that is the answer, and the
   * body is cancelled (the read under way then ends it, as its end would). */
  const probe = (): void => {
    if (follow?.(parts) !== true) return;
    try {
      if (isWholeJson(new TextDecoder('utf-8', { fatal: true }).decode(joined(parts, size)))) stop();
    } catch {
      // Not UTF-8: the end of the body will tell.
    }
  };
  try {
    for (;;) {
      idle?.begin();
      let read: Awaited<ReturnType<typeof reader.read>>;
      try {
        const next = reader.read();
        if (follow !== undefined && closesValue(parts)) quietThen(next, probe);
        read = await next;
      } catch (error) {
        // With `keep`, what had arrived is the caller's to judge (a whole answer may be in it).
        if (!keep || signal?.aborted === true) throw error;
        failure = error;
        break;
      }
      idle?.end();
      const { done, value } = read;
      if (done) break;
      parts.push(value);
      size += value.length;
      if (size > limit) {
        truncated = true;
        reader.cancel().catch(ignore);
        break;
      }
    }
  } finally {
    idle?.dispose();
    signal?.removeEventListener('abort', stop);
  }
  const bytes = joined(parts, Math.min(size, limit));
  const silent = idle?.fired === true;
  const read: BodyText = { text: '', truncated, silent };
  if (failure !== undefined) read.failure = failure;
  try {
    // Checked as decoded, at no extra cost: an answer read as JSON must not lose bad bytes to U+FFFD
    // unseen. A body cut at the limit, or cut off, may end inside a character: not a fault of its own.
    read.text = new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: truncated || failure !== undefined });
  } catch {
    read.text = new TextDecoder().decode(bytes);
    read.invalid = true;
  }
  return read;
}

/**
 * Throws how a body ended short, when it did: its failure (a reset, a cut), or `silence()` for a
 * read timeout. With `json`, not when what had arrived is a whole JSON object or array already:
 * that is the answer, which what the connection did after it does not change.
 */
export function endedShort(body: BodyText, json: boolean, silence: () => unknown): void {
  if (body.failure === undefined && !body.silent) return;
  if (json && !body.truncated && body.invalid !== true && isWholeJson(body.text)) return;
  throw body.failure ?? silence();
}

/**
 * Follows the nesting of JSON text as its bytes arrive, from where it was left, so that all the
 * probes of one body scan each byte once: the bytes of a multi-byte character are all over 0x7f,
 * never taken for a bracket or a quote. It does not check the text, which `JSON.parse` does once
 * the value looks whole. The function it returns scans the parts that arrived since its last call,
 * and says whether they end one whole object or array.
 */
function nesting(): (parts: readonly Uint8Array[]) => boolean {
  let part = 0;
  let offset = 0;
  let depth = 0;
  let inString = false;
  let escaped = false;
  /** The top value closed, and nothing but whitespace followed it so far. */
  let closed = false;
  /** Something followed a closed value, or the text does not open with one: never one value. */
  let never = false;
  return (parts) => {
    for (; part < parts.length && !never; part++, offset = 0) {
      const bytes = parts[part] as Uint8Array;
      for (let i = offset; i < bytes.length && !never; i++) {
        const byte = bytes[i] as number;
        if (inString) {
          if (escaped) escaped = false;
          else if (byte === 0x5c) escaped = true;
          else if (byte === 0x22) inString = false;
        } else if (!isSpace(byte)) {
          if (closed || (depth === 0 && byte !== 0x7b && byte !== 0x5b)) never = true;
          else if (byte === 0x22) inString = true;
          else if (byte === 0x7b || byte === 0x5b) depth++;
          else if ((byte === 0x7d || byte === 0x5d) && --depth === 0) closed = true;
        }
      }
    }
    // The next call goes on after the last byte scanned, in the part that held it.
    if (part > 0) offset = (parts[--part] as Uint8Array).length;
    return closed && !never;
  };
}

function isSpace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/** The last byte of `parts` that is not JSON whitespace closes an object or an array (it is
 * nearly always in the last part: a read of whitespace alone is rare). */
function closesValue(parts: readonly Uint8Array[]): boolean {
  for (let p = parts.length - 1; p >= 0; p--) {
    const bytes = parts[p] as Uint8Array;
    let i = bytes.length - 1;
    while (isSpace(bytes[i])) i--;
    if (i >= 0) return bytes[i] === 0x7d || bytes[i] === 0x5d;
  }
  return false;
}

function isWholeJson(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null;
  } catch {
    return false;
  }
}

/** The first `length` bytes of `parts`, copied only when there is more than one. */
export function joined(parts: readonly Uint8Array[], length: number): Uint8Array {
  let all = parts[0] ?? new Uint8Array(0);
  if (parts.length > 1) {
    all = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
    let offset = 0;
    for (const part of parts) {
      all.set(part, offset);
      offset += part.length;
    }
  }
  return all.subarray(0, length);
}

/** A whole body read as JSON: a body over the limit, or one that is not JSON, is a `protocol`
 * error naming what arrived (with `secrets` redacted before it is cut for the message). */
export function parseJson(
  { text, truncated, invalid }: BodyText,
  limit: number,
  url: string,
  secrets: readonly string[] | undefined,
): unknown {
  if (truncated) throw bodyTooLarge(url, limit);
  if (invalid === true) throw bodyNotText(url);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw bodyNotJson(url, redact(text, secrets), error);
  }
}

/**
 * The same body, ended `ms` after this call whatever the server is still sending (`onCut` says
 * so then): an error answer's body is read under this deadline, so that a server trickling it
 * cannot hold the call, and the error is reported with what arrived. Ending it cancels the
 * source, which closes the connection. `stop()` clears the timer, whichever way the body ended.
 */
export function endedAfter(
  body: ReadableStream<Uint8Array> | null,
  ms: number,
  onCut: () => void,
): { body: ReadableStream<Uint8Array> | null; stop: () => void } {
  if (body === null) return { body, stop: ignore };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const cut = new TransformStream<Uint8Array, Uint8Array>({
    start(controller) {
      timer = setTimeout(() => {
        onCut();
        controller.terminate();
      }, ms);
    },
  });
  body.pipeTo(cut.writable).catch(ignore);
  return { body: cut.readable, stop: () => clearTimeout(timer) };
}

function ignore(): void {}
