// What the management endpoints read and change, and the helpers they share for it. Their effect
// on the server's models is a commit the transport applies only when the answer is really going
// out, so a scripted 503, reset or error leaves the models as they were.

import type { Behaviour } from './behaviour.ts';
import { MODELS_DIR, type RegisteredModel, type Registry } from './catalogue.ts';
import { createdAt } from './go-json.ts';
import type { RunningModel } from './registry.ts';

/** What the management endpoints read and change. */
export interface Store {
  registry: Registry;
  blobs: Map<string, Buffer>;
  running: RunningModel[];
  /** Manifests written so far: their modification times and their order in /api/tags. */
  writes: number;
}

export interface Call {
  raw: Buffer;
  b: Behaviour;
  store: Store;
  method: string;
  /** The :digest of /api/blobs/:digest, URL-decoded as gin hands it over. */
  param: string;
}

export const INVALID_NAME = 'invalid model name';
// manifest.BlobsPath accepts both separators; what it stores is always sha256-<hex>.
export const DIGEST_RE = /^sha256[:-]([0-9a-fA-F]{64})$/;

// A manifest written now: a fresh modification time, listed first.
export function install(store: Store, m: RegisteredModel): void {
  store.writes++;
  store.registry.set(m.full.toLowerCase(), {
    ...m,
    order: 1000 + store.writes,
    modifiedAt: createdAt(store.writes * 1000),
  });
}

export function layerSize(store: Store, digest: string): number | undefined {
  const blob = store.blobs.get(digest);
  if (blob !== undefined) return blob.length;
  for (const m of store.registry.values()) {
    for (const l of m.layers) if (l.digest === digest) return l.size;
  }
  return undefined;
}

export const canonicalDigest = (digest: string): string => `sha256:${digest.slice(7)}`;
export const blobPath = (digest: string): string => `${MODELS_DIR}/blobs/sha256-${digest.slice(7)}`;
