import { eventTooLarge, invalidText } from '../errors.ts';
import { lineLimit } from '../lines.ts';

/** One event of a `text/event-stream`, as the WHATWG rules dispatch it. */
export interface SseEvent {
  /** The `event:` field, when one was given (the default type, `message`, is left out). */
  event?: string;
  /** The `data:` lines joined with `\n`; `''` for an event whose data lines were empty. */
  data: string;
  /** The last event id seen so far (it carries over to later events, as the spec says). */
  id?: string;
  /** A `retry:` field of this event, in milliseconds. */
  retry?: number;
  /** llama.cpp's non-standard `error:` field, which the spec would ignore; kept so that a
   * failure it reports is not lost. An event with only this field is dispatched too. */
  error?: string;
}

export interface SseParserOptions {
  /**
   * The largest event accepted, in UTF-16 code units of its text; a larger one throws an
   * `OllamaError` of kind `protocol` instead of growing memory without bound.
   * @default 67108864 (64 MiB)
   */
  maxEventSize?: number | undefined;
}

const LF = 10;
const CR = 13;
const COLON = 58;
const SPACE = 32;
const NO_EVENTS: readonly SseEvent[] = Object.freeze([]);
const NO_BYTES = new Uint8Array(0);

/**
 * Splits an event stream into events by the WHATWG rules: lines end with LF, CR or CRLF (also
 * when the CR and the LF arrive in different reads); a line starting with `:` is a comment;
 * `field: value` loses one space after the colon; `data` lines are joined with `\n`; an event
 * ends at a blank line and is dispatched only if it had a data line; a byte-order mark at the
 * very start is dropped; an event cut off by the end of the stream is not dispatched (see
 * `unfinished`). `feed` returns the events a chunk completed. Bytes go through one streaming
 * `TextDecoder`, so a character cut between reads stays whole, and invalid UTF-8 is an error
 * rather than a silent U+FFFD: the events that the lines before the bad bytes complete are still
 * returned, and the `protocol` error is thrown by the next call (`feed` or `end`), so that what is
 * returned does not depend on how the stream was chunked. Bad bytes in a comment, which nobody
 * reads, are no error. Each character is looked at once whatever the chunking. Feed either bytes
 * or strings to one parser, not both.
 */
export class SseParser {
  // The minified build renames classes; `util.inspect` and `constructor.name` should not show it.
  static {
    Object.defineProperty(SseParser, 'name', { value: 'SseParser' });
  }

  readonly #max: number;
  #decoder = new TextDecoder('utf-8', { fatal: true });
  #started = false;
  /** The previous chunk ended with CR: a LF at the start of the next one belongs to it. */
  #pendingCR = false;
  /** The line in progress (it holds no CR or LF). */
  #carry = '';
  #data = '';
  #hasData = false;
  #type = '';
  #lastId = '';
  #retry: number | undefined;
  #error: string | undefined;
  #touched = false;
  /** Characters of the event in progress, for the size limit. */
  #size = 0;
  /** The bytes of a character the decoder holds until the next read completes it. */
  #held: Uint8Array = NO_BYTES;
  /** Bytes were decoded already: a byte-order mark is dropped only before them. */
  #decoded = false;
  /** Bad bytes found after events that were returned: thrown by the next call. */
  #failure: unknown;
  /** The event the end of the stream cut off, if any: what it held so far. */
  unfinished: SseEvent | undefined;

  constructor(options: SseParserOptions = {}) {
    this.#max = lineLimit(options.maxEventSize, 'maxEventSize');
  }

  feed(chunk: Uint8Array | string): readonly SseEvent[] {
    this.#throwPending();
    let text: string;
    if (typeof chunk === 'string') {
      text = chunk;
      if (!this.#started && text.length > 0) {
        this.#started = true;
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      }
    } else {
      // The decoder drops a leading byte-order mark itself.
      try {
        text = this.#decoder.decode(chunk, { stream: true });
      } catch {
        return this.#salvage(chunk);
      }
      this.#decoded = true;
      this.#held = unfinishedTail(this.#held, chunk);
    }
    return text.length === 0 ? NO_EVENTS : this.#scan(text);
  }

  /**
   * The data of the event in progress so far, a `data:` line still without its line break
   * included, without taking it or changing anything: '' when there is none. For a reader that
   * wants to know whether a server that went quiet had sent its last event (`[DONE]`) whole but
   * for the blank line that ends it.
   */
  peekData(): string {
    const line = this.#carry;
    if (!line.startsWith('data:')) return this.#data;
    const value = line.charCodeAt(5) === SPACE ? line.slice(6) : line.slice(5);
    return this.#hasData ? `${this.#data}\n${value}` : value;
  }

  /** Ends the stream: returns what the decoder still held, and leaves an event that lacked
   * its blank line in `unfinished` rather than dispatching it. */
  end(): readonly SseEvent[] {
    this.#throwPending();
    this.#held = NO_BYTES;
    this.#decoded = false;
    const rest = this.#decode(new Uint8Array(0), false);
    const events = rest.length === 0 ? NO_EVENTS : this.#scan(rest);
    if (this.#carry.length > 0) {
      const line = this.#carry;
      this.#carry = '';
      this.#line(line, []);
    }
    this.unfinished = this.#touched ? this.#current() : undefined;
    this.#reset();
    this.#started = false;
    this.#pendingCR = false;
    return events;
  }

  #decode(bytes: Uint8Array, stream: boolean): string {
    try {
      return this.#decoder.decode(bytes, { stream });
    } catch (error) {
      this.#decoder = new TextDecoder('utf-8', { fatal: true });
      throw invalidText(!stream, error);
    }
  }

  #throwPending(): void {
    const failure = this.#failure;
    if (failure === undefined) return;
    this.#failure = undefined;
    throw failure;
  }

  /**
   * The decode of a read failed: its bytes (after those of a character the decoder held) are
   * decoded again a line at a time, since a line break is ASCII and never inside a character.
   * The events of the lines before the bad one are returned; a comment line with bad bytes is
   * skipped; the error is kept for the next call, or thrown now when no event came before it.
   */
  #salvage(chunk: Uint8Array): readonly SseEvent[] {
    const bytes = this.#held.length === 0 ? chunk : joinBytes(this.#held, chunk);
    this.#held = NO_BYTES;
    let decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: this.#decoded });
    const events: SseEvent[] = [];
    let failure: unknown;
    /** What the decoder holds at the end: the start of a character the next read completes. */
    let held: Uint8Array = NO_BYTES;
    let start = 0;
    while (start < bytes.length) {
      let end = lineEnd(bytes, start);
      // A CRLF is one line break: its LF alone would read as a blank line.
      if (end !== -1 && bytes[end] === CR && bytes[end + 1] === LF) end++;
      const piece = bytes.subarray(start, end === -1 ? bytes.length : end + 1);
      const atLineStart = start > 0 || this.#carry.length === 0;
      try {
        const text = decoder.decode(piece, { stream: true });
        this.#decoded = true;
        held = end === -1 ? unfinishedTail(NO_BYTES, piece) : NO_BYTES;
        if (text.length > 0) events.push(...this.#scan(text));
      } catch (cause) {
        if (!(atLineStart ? piece[0] === COLON : this.#carry.charCodeAt(0) === COLON)) {
          failure = cause;
          break;
        }
        // A comment, which nobody reads: its bytes are skipped to the end of its line.
        decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
        held = NO_BYTES;
        if (end === -1) {
          // The comment goes on in the next read: the line in progress stays one.
          if (atLineStart) this.#carry = ':';
          break;
        }
        this.#carry = '';
        if (end === bytes.length - 1 && bytes[end] === CR) this.#pendingCR = true;
      }
      if (end === -1) break;
      start = end + 1;
    }
    if (failure === undefined) {
      this.#decoder = decoder;
      this.#held = held;
      return events;
    }
    this.#decoder = new TextDecoder('utf-8', { fatal: true });
    const bad = invalidText(false, failure);
    if (events.length === 0) throw bad;
    this.#failure = bad;
    return events;
  }

  #scan(text: string): readonly SseEvent[] {
    let events: SseEvent[] | undefined;
    let start = 0;
    if (this.#pendingCR) {
      this.#pendingCR = false;
      if (text.charCodeAt(0) === LF) start = 1;
    }
    // The next LF and the next CR, each searched for once: no character is scanned twice.
    let lf = text.indexOf('\n', start);
    let cr = text.indexOf('\r', start);
    while (lf !== -1 || cr !== -1) {
      const end = cr === -1 || (lf !== -1 && lf < cr) ? lf : cr;
      let line = text.slice(start, end);
      if (this.#carry.length > 0) {
        line = this.#carry + line;
        this.#carry = '';
      }
      events ??= [];
      this.#line(line, events);
      start = end + 1;
      if (end === cr) {
        if (start === text.length) this.#pendingCR = true;
        else if (text.charCodeAt(start) === LF) start++;
        cr = text.indexOf('\r', start);
      }
      if (lf !== -1 && lf < start) lf = text.indexOf('\n', start);
    }
    if (start < text.length) {
      const rest = start === 0 ? text : text.slice(start);
      if (this.#size + this.#carry.length + rest.length > this.#max) {
        this.#tooLarge(this.#size + this.#carry.length + rest.length);
      }
      this.#carry += rest;
    }
    return events ?? NO_EVENTS;
  }

  #line(line: string, events: SseEvent[]): void {
    const length = line.length;
    if (length === 0) {
      if (this.#hasData || this.#error !== undefined) events.push(this.#current());
      this.#reset();
      return;
    }
    const first = line.charCodeAt(0);
    if (first === COLON) return;
    this.#size += length;
    if (this.#size > this.#max) this.#tooLarge(this.#size);
    this.#touched = true;
    const colon = line.indexOf(':');
    let field: string;
    let value: string;
    if (colon === -1) {
      field = line;
      value = '';
    } else {
      field = line.slice(0, colon);
      value = line.charCodeAt(colon + 1) === SPACE ? line.slice(colon + 2) : line.slice(colon + 1);
    }
    switch (field) {
      case 'data':
        if (this.#hasData) this.#data += `\n${value}`;
        else {
          this.#data = value;
          this.#hasData = true;
        }
        break;
      case 'event':
        this.#type = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.#lastId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.#retry = Number(value);
        break;
      case 'error':
        this.#error = this.#error === undefined ? value : `${this.#error}\n${value}`;
        break;
      default:
      // The spec ignores any other field.
    }
  }

  #current(): SseEvent {
    const event: SseEvent = { data: this.#data };
    if (this.#type !== '') event.event = this.#type;
    if (this.#lastId !== '') event.id = this.#lastId;
    if (this.#retry !== undefined) event.retry = this.#retry;
    if (this.#error !== undefined) event.error = this.#error;
    return event;
  }

  #reset(): void {
    this.#data = '';
    this.#hasData = false;
    this.#type = '';
    this.#retry = undefined;
    this.#error = undefined;
    this.#touched = false;
    this.#size = 0;
  }

  #tooLarge(size: number): never {
    this.#carry = '';
    this.#reset();
    throw eventTooLarge(this.#max, size);
  }
}

/** The index of the first LF or CR at or after `from`; -1 when there is none. */
function lineEnd(bytes: Uint8Array, from: number): number {
  for (let i = from; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte === LF || byte === CR) return i;
  }
  return -1;
}

function joinBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const both = new Uint8Array(a.length + b.length);
  both.set(a);
  both.set(b, a.length);
  return both;
}

/**
 * The bytes that a streaming decoder holds after `held` and then `chunk`: the start of a character
 * that the next read completes (at most three bytes). Read from the end: a chunk that ends in
 * ASCII, as nearly every one does, costs one comparison.
 */
function unfinishedTail(held: Uint8Array, chunk: Uint8Array): Uint8Array {
  const last = chunk[chunk.length - 1];
  if (last === undefined) return held;
  if (last < 0x80) return NO_BYTES;
  const bytes = chunk.length >= 3 || held.length === 0 ? chunk : joinBytes(held, chunk);
  const n = bytes.length;
  for (let back = 1; back <= 3 && back <= n; back++) {
    const byte = bytes[n - back] as number;
    if ((byte & 0xc0) === 0x80) continue;
    const size = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return size > back ? bytes.slice(n - back) : NO_BYTES;
  }
  return NO_BYTES;
}
