// The HTTP server: routing as gin routes, recording every request, the out-of-band /_fake/ and
// static-file answers, and startFakeOllama with the handle a test drives it with.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { BEHAVIOUR_HEADER, pickBehaviour, sanitise, tagOf, type Behaviour } from './behaviour.ts';
import { MODELS, type Registry } from './catalogue.ts';
import { catalogueModels } from './catalogues.ts';
import { deliver } from './delivery.ts';
import { goJson } from './go-json.ts';
import { isModelPath, MODEL_ENDPOINTS } from './inference.ts';
import { BLOB_ROUTE, isManagementPath, MANAGEMENT_ENDPOINTS } from './management.ts';
import { listed, psBody, register, tagsBody, type RunningModel } from './registry.ts';
import { JSON_UTF8, single } from './reply.ts';
import type { Call, Store } from './store.ts';
import type { FakeOllama, FakeOllamaOptions, RecordedRequest, StaticFile } from './types.ts';
import { serveV1Exchange } from './v1.ts';
import { WEB_PATHS, webAnswer } from './web.ts';
import { endLife, sendWhole, type Exchange, type Lifeline } from './wire.ts';

export const FAKE_OLLAMA_VERSION = '0.12.0';

export interface State {
  requests: RecordedRequest[];
  queue: Behaviour[];
  /** How many requests each sequence header has served. */
  sequences: Map<string, number>;
  files: ReadonlyMap<string, StaticFile>;
  live: Set<Exchange>;
  closing: boolean;
  store: Store;
  /** Requests in flight per path, from arrival until their response or connection closes. */
  inFlight: Map<string, number>;
}

// gin's routes; a wrong method on one of them is a 405, anything else a 404.
const KNOWN_PATHS: Record<string, readonly string[]> = {
  '/': ['GET', 'HEAD'],
  '/api/version': ['GET', 'HEAD'],
  '/api/tags': ['GET', 'HEAD'],
  '/api/ps': ['GET'],
  '/api/chat': ['POST'],
  '/api/generate': ['POST'],
  '/api/embed': ['POST'],
  '/api/embeddings': ['POST'],
  '/api/show': ['POST'],
  '/api/copy': ['POST'],
  '/api/delete': ['DELETE'],
  '/api/pull': ['POST'],
  '/api/push': ['POST'],
  '/api/create': ['POST'],
  [BLOB_ROUTE]: ['HEAD', 'POST'],
  ...Object.fromEntries(WEB_PATHS.map((path) => [path, ['POST']])),
};

// The route a path falls under: itself, or /api/blobs/:digest for one non-empty segment after
// the prefix (gin matches no empty parameter and no further slash).
function routeOf(path: string): string | undefined {
  if (Object.hasOwn(KNOWN_PATHS, path)) return path;
  return /^\/api\/blobs\/[^/]+$/.test(path) ? BLOB_ROUTE : undefined;
}

// The :digest of /api/blobs/:digest, decoded as gin hands it over; a malformed escape is left as it is.
function decodedParam(path: string, route: string): string {
  if (route !== BLOB_ROUTE) return '';
  const raw = path.slice('/api/blobs/'.length);
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/**
 * Requests that are not part of the protocol: the static files, and GET /_fake/requests, which
 * lets a client in another process (another runtime, a browser) see what the server saw: the
 * requests carrying a tag, and whether their client went away. Neither is recorded.
 */
function serveOutOfBand(state: State, req: IncomingMessage, res: ServerResponse): boolean {
  const [path = '/', query = ''] = (req.url ?? '/').split('?');
  if (req.method !== 'GET') return false;
  const file = state.files.get(path);
  if (file !== undefined) {
    res.writeHead(200, { 'Content-Type': file.type, 'Cache-Control': 'no-store' });
    res.end(file.body);
    return true;
  }
  if (path !== '/_fake/requests') return false;
  const tag = new URLSearchParams(query).get('tag');
  const seen = state.requests
    .filter((r) => tag === null || tagOf(r.headers) === tag)
    .map((r) => ({
      method: r.method,
      path: r.path,
      tag: tagOf(r.headers) ?? null,
      chunksWritten: r.chunksWritten,
      closed: r.closedAt !== undefined,
      clientDisconnected: r.clientDisconnected,
    }));
  res.writeHead(200, { 'Content-Type': JSON_UTF8, 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(seen));
  return true;
}

function readBody(req: IncomingMessage, life: Lifeline): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', () => resolve(undefined));
    life.wakers.add(() => resolve(undefined));
  });
}

function parseJsonOrUndefined(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function configure(ex: Exchange, b: Behaviour): void {
  ex.cuts = b.cuts ?? [];
  ex.pieceDelayMs = b.pieceDelayMs ?? 15;
  ex.splitCharacters = b.splitCharacters === true;
  ex.bomPending = b.bom === true;
}

async function serve(state: State, ex: Exchange, method: string, path: string): Promise<void> {
  const route = routeOf(path);
  const allowed = route === undefined ? undefined : KNOWN_PATHS[route];
  const plain = (status: number, body: string): Promise<void> =>
    sendWhole(ex, status, { 'Content-Type': 'text/plain' }, body);
  ex.record.pendingChunks = 1;
  if (path.startsWith('/v1/')) {
    // The OpenAI-compatible side (v1.ts). A listing takes a behaviour from the header only.
    const header = typeof ex.record.headers[BEHAVIOUR_HEADER] === 'string';
    const b = method === 'POST' || header ? pickBehaviour(state, ex.record.headers) : {};
    if (typeof b === 'string') return plain(400, b);
    configure(ex, b);
    return serveV1Exchange(ex, state.store.registry, method, path, b);
  }
  if (route === undefined || allowed === undefined) return plain(404, '404 page not found');
  if (!allowed.includes(method)) return plain(405, '405 method not allowed');

  if (isModelPath(route)) {
    const b = pickBehaviour(state, ex.record.headers);
    if (typeof b === 'string') return plain(400, b);
    configure(ex, b);
    return deliver(ex, MODEL_ENDPOINTS[route](ex.record.rawBody, b, state.store.registry), b);
  }
  if (WEB_PATHS.includes(route)) {
    const b = pickBehaviour(state, ex.record.headers);
    if (typeof b === 'string') return plain(400, b);
    configure(ex, b);
    const answer = webAnswer(route, ex.record.rawBody, ex.record.headers);
    return deliver(ex, single(answer.status, answer.body, 1), b);
  }
  if (isManagementPath(route)) {
    const b = pickBehaviour(state, ex.record.headers);
    if (typeof b === 'string') return plain(400, b);
    configure(ex, b);
    const call: Call = { raw: ex.record.rawBody, b, store: state.store, method, param: decodedParam(path, route) };
    return deliver(ex, MANAGEMENT_ENDPOINTS[route](call), b);
  }

  const head = method === 'HEAD';
  const fixed: Record<string, [string, string]> = {
    '/': ['text/plain; charset=utf-8', 'Ollama is running'],
    '/api/version': [JSON_UTF8, goJson({ version: FAKE_OLLAMA_VERSION })],
    '/api/tags': [JSON_UTF8, tagsBody(state.store.registry)],
    '/api/ps': [JSON_UTF8, psBody(state.store.running)],
  };
  const [contentType, body] = fixed[path] ?? ['text/plain', ''];
  if (head) {
    ex.res.setHeader('Content-Length', Buffer.byteLength(body));
    return sendWhole(ex, 200, { 'Content-Type': contentType }, '');
  }
  // Only the header applies here: the queue belongs to requests that do something, so a health
  // check or a listing in between does not shift a test's script.
  if (typeof ex.record.headers[BEHAVIOUR_HEADER] === 'string') {
    const b = pickBehaviour(state, ex.record.headers);
    if (typeof b === 'string') return plain(400, b);
    configure(ex, b);
    return deliver(ex, { kind: 'single', status: 200, contentType, body, work: 1 }, b);
  }
  return sendWhole(ex, 200, { 'Content-Type': contentType }, body);
}

async function handle(state: State, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (serveOutOfBand(state, req, res)) return;
  const life: Lifeline = { dead: false, wakers: new Set() };
  const record: RecordedRequest = {
    method: req.method ?? 'GET',
    path: (req.url ?? '/').split('?')[0] ?? '/',
    headers: req.headers,
    rawBody: Buffer.alloc(0),
    body: undefined,
    receivedAt: 0,
    clientDisconnected: false,
    concurrent: 0,
    chunksWritten: 0,
    pendingChunks: 0,
  };
  const ex: Exchange = {
    res,
    record,
    life,
    offset: 0,
    cuts: [],
    pieceDelayMs: 15,
    splitCharacters: false,
    bomPending: false,
    droppedByScript: false,
  };
  state.live.add(ex);
  state.inFlight.set(record.path, (state.inFlight.get(record.path) ?? 0) + 1);
  res.on('error', () => undefined);
  res.on('close', () => {
    state.inFlight.set(record.path, (state.inFlight.get(record.path) ?? 1) - 1);
    record.closedAt = performance.now();
    record.clientDisconnected = !res.writableFinished && !ex.droppedByScript && !state.closing;
    state.live.delete(ex);
    endLife(life);
  });

  const raw = await readBody(req, life);
  if (raw === undefined || life.dead) return;
  record.rawBody = raw;
  record.body = parseJsonOrUndefined(raw);
  record.receivedAt = performance.now();
  record.concurrent = state.inFlight.get(record.path) ?? 1;
  state.requests.push(record);
  await serve(state, ex, record.method, record.path);
}

export async function startFakeOllama(options: FakeOllamaOptions = {}): Promise<FakeOllama> {
  const registry: Registry = new Map();
  const installed = options.catalogue === undefined ? MODELS : catalogueModels(options.catalogue, MODELS);
  installed.forEach((m, k) => {
    const entry = register(m, installed.length - k, m.modifiedAt);
    registry.set(entry.full.toLowerCase(), entry);
  });
  const loaded = registry.get('registry.ollama.ai/library/llama3.2:latest');
  // One model loaded, as after a first chat; /api/ps does not follow later requests.
  const running: RunningModel[] =
    loaded === undefined
      ? []
      : [
          {
            model: loaded,
            size: 3281926144,
            expiresAt: '2026-01-01T01:05:00.123456789+01:00',
            contextLength: 4096,
          },
        ];
  const store: Store = { registry, blobs: new Map(), running, writes: 0 };
  const files = new Map(Object.entries(options.files ?? {}));
  const state: State = {
    requests: [],
    queue: [],
    sequences: new Map(),
    files,
    live: new Set(),
    closing: false,
    store,
    inFlight: new Map(),
  };
  const sockets = new Set<Socket>();
  const waits = new Set<() => void>();

  const server = createServer((req, res) => {
    handle(state, req, res).catch((err: unknown) => {
      // A bug in the stand-in must surface in the test as a response, never as console noise.
      if (!res.headersSent && !res.destroyed) {
        res.statusCode = 500;
        res.setHeader('Content-Type', 'text/plain');
        res.end(`fake-ollama internal error: ${err instanceof Error ? err.message : String(err)}`);
      } else {
        res.destroy();
      }
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_err, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let closed: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    requests: state.requests,
    blobs: store.blobs,
    models(): string[] {
      return listed(store.registry).map((m) => m.name);
    },
    script(...behaviours: Behaviour[]): void {
      state.queue.push(...behaviours);
    },
    expected(path: '/api/chat' | '/api/generate', body: object, behaviour: Behaviour = {}): Promise<unknown> {
      const raw = Buffer.from(JSON.stringify({ ...body, stream: false }), 'utf8');
      const reply = MODEL_ENDPOINTS[path](raw, sanitise(behaviour), store.registry);
      return Promise.resolve(reply.kind === 'single' ? (JSON.parse(reply.body) as unknown) : undefined);
    },
    waitFor(pred: (r: RecordedRequest[]) => boolean, timeoutMs: number): Promise<void> {
      return new Promise((resolve, reject) => {
        const started = performance.now();
        let timer: ReturnType<typeof setTimeout> | undefined;
        const stop = (): void => {
          if (timer !== undefined) clearTimeout(timer);
          waits.delete(cancel);
        };
        const cancel = (): void => {
          stop();
          reject(new Error('waitFor: the fake Ollama server was closed while waiting'));
        };
        const check = (): void => {
          let ok: boolean;
          try {
            ok = pred(state.requests);
          } catch (err) {
            stop();
            reject(err instanceof Error ? err : new Error(String(err)));
            return;
          }
          if (ok) {
            stop();
            resolve();
          } else if (performance.now() - started >= timeoutMs) {
            stop();
            const seen = state.requests.map((r) => `${r.method} ${r.path}`).join(', ') || 'none';
            reject(new Error(`waitFor: condition still false after ${timeoutMs} ms (requests so far: ${seen})`));
          } else {
            timer = setTimeout(check, 10);
          }
        };
        waits.add(cancel);
        check();
      });
    },
    close(): Promise<void> {
      closed ??= new Promise<void>((resolve) => {
        state.closing = true;
        for (const cancel of [...waits]) cancel();
        for (const ex of [...state.live]) endLife(ex.life);
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      });
      return closed;
    },
  };
}
