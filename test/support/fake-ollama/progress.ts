// Progress streams of pull, push and create: the api.ProgressResponse lines, how many transfer
// lines a Behaviour asks for, and the answer for stream:true and stream:false.

import type { Behaviour } from './behaviour.ts';
import type { Layer } from './catalogue.ts';
import { goJson } from './go-json.ts';
import type { Failure, Reply } from './reply.ts';

const DEFAULT_PROGRESS_UPDATES = 6;
const MAX_PROGRESS_UPDATES = 100_000;

// api.ProgressResponse: digest, total and completed are omitempty.
export function progressJson(status: string, digest = '', total = 0, completed = 0): string {
  const out: Record<string, unknown> = { status };
  if (digest !== '') out['digest'] = digest;
  if (total !== 0) out['total'] = total;
  if (completed !== 0) out['completed'] = completed;
  return goJson(out);
}

function progressUpdates(b: Behaviour): number {
  const n = b.progressUpdates;
  if (typeof n !== 'number' || !Number.isFinite(n)) return DEFAULT_PROGRESS_UPDATES;
  return Math.min(MAX_PROGRESS_UPDATES, Math.max(0, Math.trunc(n)));
}

// `pulling <12 hex>` or `pushing <12 hex>` lines, progressUpdates of them in all. The small layers
// get one line each (a real transfer finishes them within one 60 ms progress tick), the weights
// the rest, with `completed` growing to `total`. With fewer updates than layers only the first
// layers appear. `completed` is never 0 so that it is never left out (omitempty).
export function transferLines(verb: 'pulling' | 'pushing', layers: readonly Layer[], b: Behaviour): string[] {
  const updates = progressUpdates(b);
  const counts = layers.map((_, i) =>
    updates >= layers.length ? (i === 0 ? updates - layers.length + 1 : 1) : i < updates ? 1 : 0,
  );
  const lines: string[] = [];
  layers.forEach((layer, i) => {
    const count = counts[i] ?? 0;
    for (let k = 0; k < count; k++) {
      const share = k === count - 1 ? layer.size : Math.max(1, Math.floor((layer.size * (k + 1)) / count));
      lines.push(
        progressJson(`${verb} ${layer.digest.slice(7, 19)}`, layer.digest, layer.size, Math.min(share, layer.size)),
      );
    }
  });
  return lines;
}

// PullModel's sequence, `success` included (a create that pulls its base sends it mid-stream).
export const pullLines = (layers: readonly Layer[], b: Behaviour): string[] => [
  progressJson('pulling manifest'),
  ...transferLines('pulling', layers, b),
  progressJson('verifying sha256 digest'),
  progressJson('writing manifest'),
  progressJson('success'),
];

// omitDone: the final `success` line is left out, the stream still ends cleanly.
export const finalLines = (lines: string[], b: Behaviour): string[] =>
  b.omitDone === true ? lines.slice(0, -1) : lines;

// streamResponse, or for stream:false waitForStream: after the work, the last progress object or
// the error, both as a bare application/json.
export function progressReply(
  lines: string[],
  fault: Failure | undefined,
  stream: boolean,
  commit?: () => void,
): Reply {
  const effect = commit === undefined || fault !== undefined ? {} : { commit };
  if (stream) return { kind: 'stream', lines, ...(fault === undefined ? {} : { failure: fault }), ...effect };
  return {
    kind: 'single',
    status: fault?.status ?? 200,
    contentType: 'application/json',
    // With no progress at all Go marshals a zero api.ProgressResponse.
    body: fault === undefined ? (lines.at(-1) ?? goJson({ status: '' })) : goJson({ error: fault.message }),
    work: lines.length,
    errorType: 'application/json',
    ...effect,
  };
}
