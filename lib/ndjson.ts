import { isOllamaError, notJsonLine, withUrl } from './errors.ts';
import { LineSplitter, type LineSplitterOptions } from './lines.ts';

export interface ReadNdjsonOptions extends LineSplitterOptions {
  /** Named in error messages, so an error says where the bad line came from. @default none */
  url?: string | undefined;
}

/**
 * Yields the JSON value of every line of an NDJSON byte stream, in order, as soon as its
 * line is complete. A line that is not JSON is an `OllamaError` of kind `protocol` carrying
 * that line; it is never skipped. Leaving the loop early cancels the stream, which for a
 * `fetch` body closes the connection. Errors of the stream itself (a reset connection)
 * pass through unchanged for the caller to classify.
 */
export async function* readNdjson<T = unknown>(
  body: ReadableStream<Uint8Array>,
  options: ReadNdjsonOptions = {},
): AsyncGenerator<T, void, undefined> {
  const splitter = new LineSplitter(options);
  const reader = body.getReader();
  let parsed = 0;
  let finished = false;
  const parse = (line: string): T => {
    try {
      const value = JSON.parse(line) as T;
      parsed++;
      return value;
    } catch (error) {
      throw notJsonLine(parsed + 1, options.url, line, error);
    }
  };
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (const line of feed(splitter, value, options.url)) yield parse(line);
    }
    for (const line of feed(splitter, undefined, options.url)) yield parse(line);
    finished = true;
  } finally {
    if (finished) reader.releaseLock();
    // Not awaited: a consumer that breaks out must get control back at once; the
    // cancellation closes the connection in the background.
    else reader.cancel().catch(ignore);
  }
}

function feed(splitter: LineSplitter, chunk: Uint8Array | undefined, url: string | undefined): readonly string[] {
  try {
    return chunk === undefined ? splitter.end() : splitter.feed(chunk);
  } catch (error) {
    throw isOllamaError(error) && url !== undefined ? withUrl(error, url) : error;
  }
}

function ignore(): void {}
