// Raw answers: bytes written to the socket exactly as a test scripts them, past Node's HTTP layer,
// for what no well-behaved server sends: a reset or a hang right after the final chunk, corrupt
// bytes in the same write as a good line, a trickling error body, a redirect loop, a corrupt gzip
// body, a huge header, a mislabelled body. The status line and the headers are the script's too.

import { performance } from 'node:perf_hooks';
import { pause, type Exchange } from './wire.ts';

/**
 * One step of a raw answer. Text is written as Latin-1, one byte per character, so `\u0080` to
 * `\u00ff` in a script are those single bytes (write UTF-8 text already encoded); `repeat` writes
 * the text that many times in one write.
 */
export type RawStep =
  /** Bytes as they are: the status line and headers, or a body without chunked framing. */
  | { write: string; repeat?: number }
  /** One HTTP/1.1 chunk: its size, CRLF, the bytes, CRLF. */
  | { chunk: string; repeat?: number }
  /** The chunked body's terminator, `0\r\n\r\n`. */
  | { last: true }
  | { waitMs: number }
  /** One byte of the text every `everyMs`, each its own write. */
  | { trickle: string; everyMs: number }
  /** TCP reset. */
  | { reset: true }
  /** FIN, whatever the framing said. */
  | { close: true }
  /** Nothing more until the client leaves or the stand-in closes. */
  | { hang: true };

/** The status line and headers of a raw answer, as one `write` step. */
export function rawHead(status: number, headers: Record<string, string>): RawStep {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  return { write: `HTTP/1.1 ${status} ${status < 400 ? 'OK' : 'Error'}\r\n${lines.join('')}\r\n` };
}

/** A chunked NDJSON head (`Connection: close`, so no later request lands on the socket). */
export function rawStreamHead(contentType = 'application/x-ndjson'): RawStep {
  return rawHead(200, { 'Content-Type': contentType, 'Transfer-Encoding': 'chunked', Connection: 'close' });
}

/** Plays the steps, then ends the socket (FIN) unless a step already ended it. */
export async function playRaw(ex: Exchange, steps: readonly RawStep[]): Promise<void> {
  const socket = ex.res.socket;
  if (socket === null) return;
  ex.droppedByScript = true;
  ex.record.pendingChunks = 0;
  const write = (text: string): void => {
    if (ex.life.dead || socket.destroyed) return;
    ex.record.firstByteAt ??= performance.now();
    socket.write(Buffer.from(text, 'latin1'));
  };
  for (const step of steps) {
    if (ex.life.dead || socket.destroyed) return;
    if ('write' in step) write(step.write.repeat(step.repeat ?? 1));
    else if ('chunk' in step) {
      const text = step.chunk.repeat(step.repeat ?? 1);
      write(`${Buffer.byteLength(text, 'latin1').toString(16)}\r\n${text}\r\n`);
    } else if ('last' in step) write('0\r\n\r\n');
    else if ('waitMs' in step) await pause(ex.life, step.waitMs);
    else if ('trickle' in step) {
      for (const byte of step.trickle) {
        write(byte);
        await pause(ex.life, step.everyMs);
        if (ex.life.dead) return;
      }
    } else if ('reset' in step) {
      socket.resetAndDestroy();
      return;
    } else if ('close' in step) {
      socket.destroySoon();
      return;
    } else {
      await pause(ex.life);
      return;
    }
  }
  if (!socket.destroyed) socket.destroySoon();
}
