// Model management, free of I/O: copy, delete, pull, push and blobs here, show and create in their
// own files, and the table of every management route.

import { bindRequest, COPY_RULE, DELETE_RULE, modelOrName, PULL_RULE, PUSH_RULE, str } from './binding.ts';
import { MODELS_DIR } from './catalogue.ts';
import { createReply } from './create.ts';
import { goQuote } from './go-json.ts';
import { fullNameOf, nameKey, parseModelName, shortName } from './model-names.ts';
import { finalLines, progressJson, progressReply, pullLines, transferLines } from './progress.ts';
import { findPullable, register, sha256Hex } from './registry.ts';
import { emptyAnswer, failure, type Reply } from './reply.ts';
import { showReply } from './show.ts';
import { DIGEST_RE, install, INVALID_NAME, layerSize, type Call } from './store.ts';

function copyReply(c: Call): Reply {
  const bound = bindRequest(c.raw, COPY_RULE);
  if (!bound.ok) return failure(bound.status, bound.message);
  const source = str(bound.req['source']);
  const destination = str(bound.req['destination']);
  const from = parseModelName(source);
  if (from === undefined) return failure(400, `source ${goQuote(source)} is invalid`);
  const to = parseModelName(destination);
  if (to === undefined) return failure(400, `destination ${goQuote(destination)} is invalid`);
  const m = c.store.registry.get(nameKey(from));
  if (m === undefined) return failure(404, `model ${goQuote(source)} not found`);
  // The same manifest bytes under a second name (so the same digest); copying onto itself is a no-op.
  return emptyAnswer(200, () => {
    if (nameKey(from) !== nameKey(to)) install(c.store, { ...m, name: shortName(to), full: fullNameOf(to) });
  });
}

function deleteReply(c: Call): Reply {
  const bound = bindRequest(c.raw, DELETE_RULE);
  if (!bound.ok) return failure(bound.status, bound.message);
  const asSent = modelOrName(bound.req);
  const name = parseModelName(asSent);
  if (name === undefined) return failure(400, `name ${goQuote(asSent)} is invalid`);
  const key = nameKey(name);
  const m = c.store.registry.get(key);
  if (m === undefined) return failure(404, `model '${asSent}' not found`);
  return emptyAnswer(200, () => {
    c.store.registry.delete(key);
    // The manifest goes, then every layer of it that no other model uses.
    const used = new Set([...c.store.registry.values()].flatMap((o) => o.layers.map((l) => l.digest)));
    for (const l of m.layers) if (!used.has(l.digest)) c.store.blobs.delete(l.digest);
  });
}

// ---- pull and push

function pullReply(c: Call): Reply {
  const bound = bindRequest(c.raw, PULL_RULE);
  if (!bound.ok) return failure(bound.status, bound.message);
  const req = bound.req;
  const name = parseModelName(modelOrName(req));
  if (name === undefined) return failure(400, INVALID_NAME);
  const stream = req['stream'] !== false;
  const source = findPullable(name);
  if (source === undefined) {
    // The registry answers 404 to the manifest request after the first line has gone out.
    return progressReply(
      [progressJson('pulling manifest')],
      { status: 500, message: 'pull model manifest: file does not exist' },
      stream,
    );
  }
  // A re-pull of an installed model is a full pull here too, so that progressUpdates stays exact.
  const pulled = register(source, 0, '');
  return progressReply(finalLines(pullLines(pulled.layers, c.b), c.b), undefined, stream, () =>
    install(c.store, pulled),
  );
}

function pushReply(c: Call): Reply {
  const bound = bindRequest(c.raw, PUSH_RULE);
  if (!bound.ok) return failure(bound.status, bound.message);
  const req = bound.req;
  const asSent = modelOrName(req);
  if (asSent === '') return failure(400, 'model is required');
  const stream = req['stream'] !== false;
  const lines = [progressJson('retrieving manifest')];
  const name = parseModelName(asSent);
  // The push runs in the background goroutine, so everything below arrives after the first line.
  // For an unparsable name the real wording depends on deep internals; this one is a plausible stand-in.
  if (name === undefined) return progressReply(lines, { status: 500, message: INVALID_NAME }, stream);
  const m = c.store.registry.get(nameKey(name));
  if (m === undefined) {
    // PushModel: GetManifest fails on the missing manifest file.
    lines.push(progressJson("couldn't retrieve manifest"));
    const path = `${MODELS_DIR}/manifests/${name.host}/${name.namespace}/${name.model}/${name.tag}`;
    return progressReply(lines, { status: 500, message: `open ${path}: no such file or directory` }, stream);
  }
  lines.push(...transferLines('pushing', m.layers, c.b), progressJson('pushing manifest'), progressJson('success'));
  return progressReply(finalLines(lines, c.b), undefined, stream);
}

// ---- blobs

function blobReply(c: Call): Reply {
  const match = DIGEST_RE.exec(c.param);
  if (match === null) return failure(400, 'invalid digest format');
  const key = `sha256:${match[1] ?? ''}`;
  const exists = layerSize(c.store, key) !== undefined;
  if (c.method === 'HEAD') return exists ? emptyAnswer(200) : failure(404, `blob ${goQuote(c.param)} not found`);
  // CreateBlobHandler answers 200 for a blob it has without reading the body.
  if (exists) return emptyAnswer(200);
  // The digest must match as sent: `sha256-<hex>` never equals the computed `sha256:<hex>`.
  const got = `sha256:${sha256Hex(c.raw)}`;
  if (got !== c.param) return failure(400, `digest mismatch, expected ${goQuote(c.param)}, got ${goQuote(got)}`);
  return emptyAnswer(201, () => c.store.blobs.set(key, c.raw));
}

export const BLOB_ROUTE = '/api/blobs/:digest';

type ManagementPath =
  | '/api/show'
  | '/api/copy'
  | '/api/delete'
  | '/api/pull'
  | '/api/push'
  | '/api/create'
  | typeof BLOB_ROUTE;

export const MANAGEMENT_ENDPOINTS: Record<ManagementPath, (c: Call) => Reply> = {
  '/api/show': showReply,
  '/api/copy': copyReply,
  '/api/delete': deleteReply,
  '/api/pull': pullReply,
  '/api/push': pushReply,
  '/api/create': createReply,
  [BLOB_ROUTE]: blobReply,
};

export const isManagementPath = (p: string): p is ManagementPath => Object.hasOwn(MANAGEMENT_ENDPOINTS, p);
