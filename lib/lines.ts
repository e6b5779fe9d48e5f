import { invalidText, lineTooLong } from './errors.ts';

/** 64 MiB: far above any real Ollama line (a `stream:false` answer, a verbose `/api/show`),
 * far below what would exhaust a small machine. */
export const DEFAULT_MAX_LINE_LENGTH: number = 64 * 1024 * 1024;

export interface LineSplitterOptions {
  /**
   * The longest line accepted: bytes while a line is still arriving as bytes, UTF-16 code
   * units once decoded (or when fed strings). A longer line throws an `OllamaError` of kind
   * `protocol` instead of growing memory without bound.
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
const NO_LINES: readonly string[] = Object.freeze([]);
const NO_BYTES = new Uint8Array(0);

/**
 * Splits a byte (or text) stream into lines, in time linear in its length whatever the
 * chunking. `feed` returns the lines a chunk completed; `end` returns the last line when the
 * stream did not end with a line break. `\n` and `\r\n` end a line, blank lines are skipped,
 * one byte-order mark at the very start is dropped, and invalid UTF-8 is an error rather
 * than a silent U+FFFD.
 *
 * It never rescans what it has seen: a chunk without a LF byte cannot end a line, so it is
 * only copied aside; when a LF arrives, the held bytes and the chunk go through one streaming
 * `TextDecoder` (which keeps a multi-byte character cut between chunks whole) and only that
 * new text is searched. Feed either bytes or strings to one splitter, not both.
 */
export class LineSplitter {
  readonly #max: number;
  #decoder = new TextDecoder('utf-8', { fatal: true });
  /** Bytes of the line in progress not decoded yet; they hold no LF. */
  #held: Uint8Array = NO_BYTES;
  #heldLength = 0;
  /** Decoded text of the line in progress. */
  #carry = '';
  #started = false;

  constructor(options: LineSplitterOptions = {}) {
    this.#max = lineLimit(options.maxLineLength, 'maxLineLength');
  }

  feed(chunk: Uint8Array | string): readonly string[] {
    if (typeof chunk === 'string') {
      if (!this.#started && chunk.length > 0) {
        this.#started = true;
        if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
      }
      return this.#split(chunk);
    }
    if (chunk.length > 0) this.#started = true;
    if (chunk.indexOf(LF) === -1) {
      this.#hold(chunk);
      return NO_LINES;
    }
    this.#decodeHeld();
    return this.#split(this.#decode(chunk, true));
  }

  end(): readonly string[] {
    this.#decodeHeld();
    const rest = this.#decode(NO_BYTES, false);
    const lines = this.#split(rest);
    const tail = this.#carry;
    this.#carry = '';
    this.#started = false;
    if (tail.length === 0) return lines;
    const all = lines.length === 0 ? [] : lines.slice();
    this.#push(all, tail);
    return all;
  }

  #hold(chunk: Uint8Array): void {
    const needed = this.#heldLength + chunk.length;
    if (needed + this.#carry.length > this.#max) this.#tooLong(needed + this.#carry.length);
    if (needed > this.#held.length) {
      // Doubling keeps the copying linear; the cap keeps one line from reserving more than allowed.
      const grown = new Uint8Array(Math.min(Math.max(needed, this.#held.length * 2, 1024), this.#max));
      grown.set(this.#held.subarray(0, this.#heldLength));
      this.#held = grown;
    }
    this.#held.set(chunk, this.#heldLength);
    this.#heldLength = needed;
  }

  #decodeHeld(): void {
    if (this.#heldLength === 0) return;
    // The held bytes contain no LF, so their text only extends the line in progress.
    this.#carry += this.#decode(this.#held.subarray(0, this.#heldLength), true);
    this.#heldLength = 0;
    if (this.#held.length > 65536) this.#held = NO_BYTES;
  }

  #decode(bytes: Uint8Array, stream: boolean): string {
    try {
      return this.#decoder.decode(bytes, { stream });
    } catch (error) {
      this.#decoder = new TextDecoder('utf-8', { fatal: true });
      throw invalidText(!stream, error);
    }
  }

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
