// Writing one response: a cancellable pause for everything that waits, and body writes split at
// the requested cuts (or inside every character), the BOM, resets and FINs.

import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { RecordedRequest } from './types.ts';

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

// A cancellable wait: everything that sleeps goes through it so that a client leaving or close()
// wakes it at once and no timer outlives the connection.
export interface Lifeline {
  dead: boolean;
  wakers: Set<() => void>;
}

export function endLife(life: Lifeline): void {
  if (life.dead) return;
  life.dead = true;
  for (const wake of life.wakers) wake();
  life.wakers.clear();
}

/** Resolves after ms, or when the lifeline ends; ms undefined = only when it ends. */
export function pause(life: Lifeline, ms?: number): Promise<void> {
  if (life.dead) return Promise.resolve();
  return new Promise((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const wake = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      life.wakers.delete(wake);
      resolve();
    };
    life.wakers.add(wake);
    if (ms !== undefined) timer = setTimeout(wake, Math.max(0, ms));
  });
}

export interface Exchange {
  res: ServerResponse;
  record: RecordedRequest;
  life: Lifeline;
  /** Body bytes written so far, for placing cuts. */
  offset: number;
  cuts: number[];
  pieceDelayMs: number;
  splitCharacters: boolean;
  bomPending: boolean;
  /** The script itself dropped the connection, so its closing is not the client's doing. */
  droppedByScript: boolean;
}

function rawWrite(ex: Exchange, data: Buffer): void {
  if (ex.life.dead || ex.res.destroyed) return;
  ex.record.firstByteAt ??= performance.now();
  ex.res.write(data);
}

// Writes body bytes, splitting them at the requested cuts with a pause in between so each piece
// reaches the client as its own read. Returns false if the connection is gone.
export async function emit(ex: Exchange, text: string | Buffer): Promise<boolean> {
  let data = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  if (ex.bomPending) {
    data = Buffer.concat([BOM, data]);
    ex.bomPending = false;
  }
  const start = ex.offset;
  const end = start + data.length;
  if (start > 0 && ex.cuts.includes(start)) await pause(ex.life, ex.pieceDelayMs);
  let cuts = ex.cuts;
  if (ex.splitCharacters) {
    const inside: number[] = [];
    // A lead byte is 11xxxxxx; cutting after it leaves the rest of the character for the next read.
    data.forEach((byte, i) => {
      if (byte >= 0xc0 && i + 1 < data.length) inside.push(start + i + 1);
    });
    cuts = [...new Set([...cuts, ...inside])].sort((x, y) => x - y);
  }
  let from = 0;
  for (const cut of cuts) {
    if (cut <= start || cut >= end) continue;
    rawWrite(ex, data.subarray(from, cut - start));
    from = cut - start;
    await pause(ex.life, ex.pieceDelayMs);
  }
  rawWrite(ex, data.subarray(from));
  ex.offset = end;
  return !ex.life.dead;
}

export function finish(ex: Exchange): void {
  if (ex.life.dead || ex.res.destroyed) return;
  ex.record.firstByteAt ??= performance.now();
  ex.res.end();
}

export function resetConnection(ex: Exchange): void {
  ex.droppedByScript = true;
  ex.res.socket?.resetAndDestroy();
}

export function closeConnection(ex: Exchange): void {
  ex.droppedByScript = true;
  // FIN after whatever is already queued, without the chunked terminator.
  ex.res.socket?.destroySoon();
}

export async function sendWhole(
  ex: Exchange,
  status: number,
  headers: Record<string, string>,
  body: string,
): Promise<void> {
  const bytes = Buffer.from(body, 'utf8');
  ex.res.statusCode = status;
  for (const [k, v] of Object.entries(headers)) ex.res.setHeader(k, v);
  const lengthGiven = Object.keys(headers).some((k) => /^(content-length|transfer-encoding)$/i.test(k));
  if (!lengthGiven && bytes.length > 0)
    ex.res.setHeader('Content-Length', bytes.length + (ex.bomPending ? BOM.length : 0));
  if (bytes.length > 0 || ex.bomPending) {
    if (!(await emit(ex, bytes))) return;
  }
  finish(ex);
}
