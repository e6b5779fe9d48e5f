import { invalidText, lineTooLong, type OllamaError } from './errors.ts';

/** 64 MiB: far above any real Ollama line (a `stream:false` answer, a verbose `/api/show`),
 * far below what would exhaust a small machine. */
export const DEFAULT_MAX_LINE_LENGTH: number = 64 * 1024 * 1024;

export interface LineSplitterOptions {
  /**
   * The longest line accepted, not counting its line break: in bytes (UTF-8) when bytes are fed,
   * however the line is cut between chunks; in UTF-16 code units when strings are fed. A longer
   * line throws an `OllamaError` of kind `protocol` instead of growing memory without bound.
   * @default 67108864 (64 MiB)
   */
  maxLineLength?: number | undefined;
}

/** `value` checked as a line limit (the default when undefined): the one place the rule lives. */
export function lineLimit(value: unknown, name: string): number {
  if (value === undefined) return DEFAULT_MAX_LINE_LENGTH;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive whole number of bytes, got ${String(value)}`);
  }
  return value;
}

const LF = 0x0a;
const CR = 0x0d;
const NO_LINES: readonly string[] = Object.freeze([]);
const NO_BYTES = new Uint8Array(0);

/** The decoders every splitter shares: each call decodes whole lines and flushes, so they keep no
 * state between calls (and are made afresh after an error, to be sure); making one per stream
 * would cost more than the decoding of a short answer. */
let whole: InstanceType<typeof TextDecoder> | undefined;
let bulk: InstanceType<typeof TextDecoder> | undefined;

/** Reads this long and longer may go to `bulk`. */
const BULK = 4096;

function decoder(): InstanceType<typeof TextDecoder> {
  return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
}

/**
 * `bytes` decoded, by `bulk` when `wide` (the stream's last long read was not all ASCII). Node 18
 * to 22 decode a whole input through a path that is fast for ASCII but 1.3x slower than their
 * ICU converter for other text; a decoder that has once streamed uses the converter for good.
 * Elsewhere the two decoders cost the same.
 */
function decode(bytes: Uint8Array, wide = false): string {
  try {
    if (!wide) {
      whole ??= decoder();
      return whole.decode(bytes);
    }
    if (bulk === undefined) {
      bulk = decoder();
      bulk.decode(NO_BYTES, { stream: true });
    }
    return bulk.decode(bytes);
  } catch (error) {
    whole = bulk = undefined;
    throw error;
  }
}

/**
 * Splits a byte (or text) stream into lines, in time linear in its length whatever the
 * chunking. `feed` returns the lines a chunk completed; `end` returns the last line when the
 * stream did not end with a line break; a non-empty result is a new array, the caller's to keep
 * or change. `\n` and `\r\n` end a line, blank lines are skipped, one byte-order mark at the
 * very start is dropped, and invalid UTF-8 is an error rather than a silent U+FFFD.
 *
 * Bytes are decoded one whole line at a time, never part of one: the bytes of the line still
 * arriving are held aside, and the text up to a chunk's last LF is decoded in one go, so a
 * character cut between chunks is whole by then and nothing is ever rescanned. When that text
 * holds bytes that are not UTF-8, every complete line before the bad one is still returned, in
 * order, and the `protocol` error is thrown by the next call (`feed` or `end`). Feed either bytes
 * or strings to one splitter, not both.
 */
export class LineSplitter {
  readonly #max: number;
  /** Bytes of the line in progress, not decoded yet; they hold no LF. */
  #held: Uint8Array = NO_BYTES;
  #heldLength = 0;
  /** Text of the line in progress, when strings are fed. */
  #carry = '';
  /** Text came out of this stream already: a byte-order mark is dropped only before it. */
  #started = false;
  /** Bad bytes found after lines that were returned: thrown by the next call. */
  #failure: OllamaError | undefined;
  /** The last long read held text other than ASCII: see `decode`. */
  #wide = false;

  constructor(options: LineSplitterOptions = {}) {
    this.#max = lineLimit(options.maxLineLength, 'maxLineLength');
  }

  feed(chunk: Uint8Array | string): readonly string[] {
    this.#throwPending();
    if (typeof chunk === 'string') {
      if (!this.#started && chunk.length > 0) {
        this.#started = true;
        if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
      }
      return this.#split(chunk);
    }
    const last = chunk.lastIndexOf(LF);
    if (last === -1) {
      if (chunk.length > 0) this.#hold(chunk);
      return NO_LINES;
    }
    const lines: string[] = [];
    // The line in progress ends at this chunk's first LF: it is completed among the held bytes,
    // so that each decode starts and ends between two lines, never inside a character. It is
    // decoded on its own: joined to the rest as text, it would cost a copy of the whole read.
    let from = 0;
    if (this.#heldLength > 0) {
      from = chunk.indexOf(LF) + 1;
      this.#hold(chunk.subarray(0, from), true);
      const held = this.#held.subarray(0, this.#heldLength);
      this.#release();
      if (!this.#decodeLines(lines, held)) return lines;
    }
    if (from <= last) {
      const rest = from === 0 && last + 1 === chunk.length ? chunk : chunk.subarray(from, last + 1);
      if (!this.#decodeLines(lines, rest)) return lines;
    }
    if (last + 1 < chunk.length) {
      try {
        this.#hold(chunk.subarray(last + 1));
      } catch (error) {
        // The line that begins here is too long: the complete lines before it are still handed on.
        this.#defer(lines, error);
      }
    }
    return lines;
  }

  /** Adds the lines of `bytes` (whole lines) to `lines`; false when that found an error (thrown
   * now when `lines` is empty, else kept for the next call, and the stream is not read on). */
  #decodeLines(lines: string[], bytes: Uint8Array): boolean {
    let text: string;
    try {
      if (bytes.length < BULK) text = decode(bytes);
      else {
        text = decode(bytes, this.#wide);
        this.#wide = text.length !== bytes.length;
      }
    } catch (error) {
      this.#salvage(lines, bytes, error);
      return false;
    }
    this.#lines(lines, this.#unmarked(text));
    return this.#failure === undefined;
  }

  /**
   * The line still in progress (no line break has ended it yet), as text, without taking it or
   * changing anything: '' when there is none, or when its bytes do not decode yet (a character
   * still cut). For a reader that wants to know whether a server that went quiet had sent its last
   * line whole but for the line break.
   */
  peek(): string {
    if (this.#heldLength === 0) return this.#carry;
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(this.#held.subarray(0, this.#heldLength));
    } catch {
      return '';
    }
  }

  end(): readonly string[] {
    this.#throwPending();
    let tail = this.#carry;
    this.#carry = '';
    const held = this.#held.subarray(0, this.#heldLength);
    this.#release();
    if (held.length > 0) {
      try {
        tail = this.#unmarked(decode(held));
      } catch (error) {
        // Bytes that would be valid if more followed: the stream was cut inside a character.
        let cutOff = false;
        try {
          new TextDecoder('utf-8', { fatal: true }).decode(held, { stream: true });
          cutOff = true;
        } catch {
          // Bad bytes, not just a cut.
        }
        this.#started = false;
        throw invalidText(cutOff, error);
      }
    }
    this.#started = false;
    if (tail.length === 0) return NO_LINES;
    const lines: string[] = [];
    if (held.length > 0 && tail.length * 3 > this.#max) this.#countBytes(tail);
    this.#push(lines, tail);
    return lines;
  }

  /** The text without the byte-order mark that may open a stream. */
  #unmarked(text: string): string {
    if (this.#started) return text;
    this.#started = true;
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  }

  #throwPending(): void {
    const failure = this.#failure;
    if (failure === undefined) return;
    this.#failure = undefined;
    this.#started = false;
    throw failure;
  }

  /** The decode of complete lines failed: decode them one at a time, add those before the bad
   * one, and keep the error for the next call (or throw it now when no line came before). */
  #salvage(lines: string[], bytes: Uint8Array, error: unknown): void {
    this.#release();
    let failure: unknown = error;
    try {
      for (
        let start = 0, end = bytes.indexOf(LF);
        end !== -1 && this.#failure === undefined;
        end = bytes.indexOf(LF, start)
      ) {
        this.#lines(lines, this.#unmarked(decode(bytes.subarray(start, end + 1))));
        start = end + 1;
      }
    } catch (cause) {
      failure = cause;
    }
    if (this.#failure === undefined) this.#defer(lines, invalidText(false, failure));
  }

  /** Keeps `error` for the next call when lines before it are being returned; else throws it. */
  #defer(lines: readonly string[], error: unknown): void {
    if (lines.length === 0) throw error;
    this.#failure = error as OllamaError;
  }

  /** Adds `chunk` to the line in progress; `ended` when its last byte is the line's LF. */
  #hold(chunk: Uint8Array, ended = false): void {
    const needed = this.#heldLength + chunk.length;
    if (needed > this.#max) {
      const content = this.#contentLength(chunk, needed, ended);
      if (content > this.#max) this.#tooLong(content);
    }
    if (needed > this.#held.length) {
      // Doubling keeps the copying linear; the cap (the limit and a CRLF) keeps one line from
      // reserving more than allowed.
      const grown = new Uint8Array(Math.min(Math.max(needed, this.#held.length * 2, 1024), this.#max + 2));
      grown.set(this.#held.subarray(0, this.#heldLength));
      this.#held = grown;
    }
    this.#held.set(chunk, this.#heldLength);
    this.#heldLength = needed;
  }

  /** The length of the held line once `chunk` is added, less its line break: the LF that ends it
   * and a CR before that (or a CR that may yet be one, at the end of a line still arriving). */
  #contentLength(chunk: Uint8Array, needed: number, ended: boolean): number {
    const byteAt = (back: number): number | undefined =>
      back <= chunk.length ? chunk[chunk.length - back] : this.#held[this.#heldLength - (back - chunk.length)];
    let length = needed;
    if (ended) length--;
    if (byteAt(ended ? 2 : 1) === CR) length--;
    return length;
  }

  /** Forgets the held bytes, and their buffer when a long line made it large. */
  #release(): void {
    this.#heldLength = 0;
    if (this.#held.length > 65536) this.#held = NO_BYTES;
  }

  /** Adds the lines of decoded text that ends with a line break to `lines`. */
  #lines(lines: string[], text: string): void {
    let start = 0;
    // Lines decoded from bytes are measured in bytes, as they were while arriving. A UTF-16 unit
    // is at most 3 bytes, so only text longer than a third of the limit can hold a line to count.
    const counted = text.length * 3 > this.#max;
    try {
      for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', start)) {
        const raw = text.slice(start, newline);
        if (counted) this.#countBytes(raw);
        this.#push(lines, raw);
        start = newline + 1;
      }
    } catch (error) {
      this.#defer(lines, error);
    }
  }

  /** Throws when the line (its CR aside) is over the limit in bytes. */
  #countBytes(raw: string): void {
    const bytes = utf8Length(raw) - (raw.charCodeAt(raw.length - 1) === 0x0d ? 1 : 0);
    if (bytes > this.#max) this.#tooLong(bytes);
  }

  /** Strings: the text is split as it comes, the line in progress carried as text. */
  #split(text: string): readonly string[] {
    let newline = text.indexOf('\n');
    if (newline === -1) {
      this.#extend(text);
      return NO_LINES;
    }
    const lines: string[] = [];
    const first = text.slice(0, newline);
    this.#push(lines, this.#carry.length === 0 ? first : this.#carry + first);
    this.#carry = '';
    let start = newline + 1;
    for (newline = text.indexOf('\n', start); newline !== -1; newline = text.indexOf('\n', start)) {
      this.#push(lines, text.slice(start, newline));
      start = newline + 1;
    }
    if (start < text.length) this.#extend(text.slice(start));
    return lines;
  }

  #extend(text: string): void {
    if (text.length === 0) return;
    if (this.#carry.length + text.length > this.#max) this.#tooLong(this.#carry.length + text.length);
    this.#carry += text;
  }

  #push(lines: string[], raw: string): void {
    const line = raw.charCodeAt(raw.length - 1) === 0x0d ? raw.slice(0, -1) : raw;
    if (line.length > this.#max) this.#tooLong(line.length);
    if (line.length === 0) return;
    const first = line.charCodeAt(0);
    if ((first === 0x20 || first === 0x09 || first === 0x0d) && line.trim().length === 0) return;
    lines.push(line);
  }

  #tooLong(length: number): never {
    this.#carry = '';
    this.#heldLength = 0;
    this.#held = NO_BYTES;
    throw lineTooLong(this.#max, length);
  }
}

/** The number of bytes of `text` in UTF-8 (decoded text holds no lone surrogate). */
function utf8Length(text: string): number {
  // Each unit is counted once by the length; what is added here is the rest of its bytes.
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else if (code >= 0xd800 && code <= 0xdbff) {
      // A surrogate pair: two units, four bytes.
      bytes += 2;
      i++;
    } else bytes += 2;
  }
  return bytes;
}
