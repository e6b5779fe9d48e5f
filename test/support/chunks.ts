// Byte fixtures for the splitter tests: a seeded generator (so a failing chunking can be
// replayed) and a ReadableStream that hands out exactly the pieces it is given.

export const encoder = new TextEncoder();

export function bytes(...parts: Array<string | number[]>): Uint8Array {
  const arrays = parts.map((part) => (typeof part === 'string' ? encoder.encode(part) : Uint8Array.from(part)));
  const out = new Uint8Array(arrays.reduce((sum, a) => sum + a.length, 0));
  let offset = 0;
  for (const a of arrays) {
    out.set(a, offset);
    offset += a.length;
  }
  return out;
}

/** mulberry32: tiny, fast, and the same sequence on every run for a given seed. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Cuts `data` at the given sorted offsets. */
export function cut(data: Uint8Array, offsets: number[]): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  let start = 0;
  for (const offset of offsets) {
    pieces.push(data.subarray(start, offset));
    start = offset;
  }
  pieces.push(data.subarray(start));
  return pieces;
}

/** A pull-based stream handing out the pieces one per read, like a fetch body. */
export function streamOf(pieces: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  let index = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const piece = pieces[index++];
      if (piece === undefined) controller.close();
      else controller.enqueue(piece);
    },
  });
}

/** Every item of `iterable`, pushed into `into` as it arrives, so a caller can see what came
 * before a rejection. */
export async function collect<T>(iterable: AsyncIterable<T>, into: T[] = []): Promise<T[]> {
  for await (const item of iterable) into.push(item);
  return into;
}

/** At least 50 chat chunks whose strings hold é, 漢字, 🦙 and an escaped \n. */
export function chatFixture(count = 60): { objects: object[]; ndjson: Uint8Array } {
  const tokens = ['Hello', ' é', ' 漢字', ' 🦙', '\n', ' ok', 'éé🦙漢', ' "quoted"'];
  const objects: object[] = [];
  for (let i = 0; i < count; i++) {
    objects.push({
      model: 'llama3.2',
      created_at: `2026-01-01T00:00:00.${String(i).padStart(3, '0')}Z`,
      message: { role: 'assistant', content: tokens[i % tokens.length]! },
      done: false,
    });
  }
  objects.push({
    model: 'llama3.2',
    created_at: '2026-01-01T00:00:01Z',
    message: { role: 'assistant', content: '' },
    done: true,
    done_reason: 'stop',
  });
  return { objects, ndjson: encoder.encode(objects.map((o) => `${JSON.stringify(o)}\n`).join('')) };
}
