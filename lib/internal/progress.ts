import type { ProgressEvent, ProgressResponse } from '../types.ts';
import type { FinalChunk } from './exchange.ts';

/**
 * Turns progress lines into events with an overall `fraction`. Ollama reports one layer at a
 * time and never announces the layers still to come, so the fraction is bytes done over bytes
 * announced so far. A small layer announced after the big one would pull that ratio down a
 * hair; the fraction is held at its highest instead, because a progress bar that goes back is
 * worse than one that pauses. Layers may follow the last one announced, so it reaches 1 only
 * with the answer's own `success`: a create's pull of its base ends with a success line of its
 * own, and the create's steps come after it (the same rule as the stream's, `FinalChunk.opens`).
 */
const ALMOST = 0.999;

export class ProgressTracker {
  readonly #layers = new Map<string, { total: number; completed: number }>();
  #fraction: number | undefined;
  /** A step inside the answer has begun and not yet ended. */
  #nested = false;

  readonly #final: FinalChunk | undefined;

  constructor(final?: FinalChunk) {
    this.#final = final;
  }

  add(line: ProgressResponse): ProgressEvent {
    const { digest, total, completed } = line;
    if (typeof total === 'number' && total >= 0) {
      const key = typeof digest === 'string' ? digest : line.status;
      const done = typeof completed === 'number' ? Math.min(Math.max(completed, 0), total) : 0;
      this.#layers.set(key, { total, completed: Math.max(done, this.#layers.get(key)?.completed ?? 0) });
      let sumTotal = 0;
      let sumDone = 0;
      for (const layer of this.#layers.values()) {
        sumTotal += layer.total;
        sumDone += layer.completed;
      }
      if (sumTotal > 0) this.#fraction = Math.max(this.#fraction ?? 0, Math.min(sumDone / sumTotal, ALMOST));
    }
    if (this.#final?.opens?.(line as unknown as Record<string, unknown>)) this.#nested = true;
    if (line.status === 'success') {
      if (this.#nested) this.#nested = false;
      else this.#fraction = 1;
    }
    return this.#fraction === undefined ? { ...line } : { ...line, fraction: this.#fraction };
  }
}
