import { bodyNotJson, bodyTooLarge } from './protocol-error.ts';

/** Reads at most `limit` bytes of a body as text and cancels the rest, so a huge error page
 * cannot exhaust memory and the connection is released either way. */
export async function readText(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
): Promise<{ text: string; truncated: boolean }> {
  if (body === null) return { text: '', truncated: false };
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parts: string[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const room = limit - size;
      parts.push(decoder.decode(value.length > room ? value.subarray(0, room) : value, { stream: true }));
      size += value.length;
      if (size > limit) {
        reader.cancel().catch(() => {});
        return { text: parts.join(''), truncated: true };
      }
    }
    parts.push(decoder.decode());
    return { text: parts.join(''), truncated: false };
  } finally {
    reader.releaseLock();
  }
}

/** Reads a whole `application/json` body and parses it; a body that is not JSON is a
 * `protocol` error naming what arrived. */
export async function readJsonBody(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
  url: string,
): Promise<unknown> {
  const { text, truncated } = await readText(body, limit);
  if (truncated) throw bodyTooLarge(url, limit);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw bodyNotJson(url, text, error);
  }
}
