// The benchmark's fake Ollama, run in its own process (forked by compare.bench.ts) so that
// serving costs the benchmark process nothing. It speaks just enough HTTP/1.1 over `net`
// (keep-alive, Content-Length or chunked request bodies), and every response is framed once
// at start-up (status line, headers, chunked framing) so that a request only costs writing
// buffers. It listens on 127.0.0.1 only, tells the parent its port over IPC, and exits as soon
// as the parent goes away.
//
// Routes: the first path segment is a scenario prefix that the clients get as part of their
// host (every client keeps a host's path prefix), e.g. host `http://127.0.0.1:PORT/s/64`:
//   /s/<line|64|1024|16384|65536>/api/chat  the stream fixture in HTTP chunks of that size
//   /small/api/chat, /small/api/generate     a short answer: NDJSON when the body asks for a
//                                            stream (or says nothing), one object for "stream":false
//   /big/api/chat                           `bigTokens` one-line chunks, then the done line
//   /brk/api/chat                           a short stream, for clients that leave it early
//   /emb/api/embed                          one vector per input (answers cached by count)
//   /v1s/<line|64|16384>/v1/chat/completions the /v1 SSE stream fixture in HTTP chunks of that size
import { createServer, type Socket } from 'node:net';
import {
  chatLine,
  chatStreamFixture,
  embedResponse,
  encoder,
  piecesOf,
  type ServerConfig,
  smallChatStream,
  smallChatWhole,
  smallGenerateStream,
  smallGenerateWhole,
  STREAM_MODES,
  token,
  V1_MODES,
  v1StreamFixture,
} from './fixtures.ts';

const config = JSON.parse(process.argv[2] ?? '{}') as ServerConfig;

const NDJSON_HEAD = Buffer.from(
  'HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n',
  'latin1',
);
const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');
const SSE_HEAD = Buffer.from(
  'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n',
  'latin1',
);

/** HTTP chunks, one per piece, as one buffer. */
function frameChunks(pieces: readonly Uint8Array[]): Buffer {
  const parts: Buffer[] = [];
  for (const piece of pieces) {
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`, 'latin1'), Buffer.from(piece), Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

function ndjsonResponse(pieces: readonly Uint8Array[]): Buffer[] {
  return [NDJSON_HEAD, frameChunks(pieces), LAST_CHUNK];
}

function jsonResponse(text: string, status = '200 OK'): Buffer[] {
  const body = Buffer.from(text, 'utf8');
  return [
    Buffer.from(
      `HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${body.length}\r\n\r\n`,
      'latin1',
    ),
    body,
  ];
}

// ---- Everything framed once, before the port is announced --------------------------------

const streamFixture = chatStreamFixture(config.streamTokens);
const streamBytes = encoder.encode(streamFixture.lines.join(''));
const streams = new Map<string, Buffer[]>();
for (const mode of STREAM_MODES) {
  const pieces =
    mode === 'line' ? streamFixture.lines.map((line) => encoder.encode(line)) : piecesOf(streamBytes, Number(mode));
  streams.set(mode, ndjsonResponse(pieces));
}

const v1Fixture = v1StreamFixture(config.v1Tokens);
const v1Bytes = encoder.encode(v1Fixture.events.join(''));
const v1Streams = new Map<string, Buffer[]>();
for (const mode of V1_MODES) {
  const pieces = mode === 'line' ? v1Fixture.events.map((e) => encoder.encode(e)) : piecesOf(v1Bytes, Number(mode));
  v1Streams.set(mode, [SSE_HEAD, frameChunks(pieces), LAST_CHUNK]);
}

const small = {
  chatStream: ndjsonResponse([encoder.encode(smallChatStream())]),
  chatWhole: jsonResponse(smallChatWhole()),
  generateStream: ndjsonResponse([encoder.encode(smallGenerateStream())]),
  generateWhole: jsonResponse(smallGenerateWhole()),
};

/** The big stream is this block of one-line chunks written over and over, then the end. */
const BIG_BLOCK_TOKENS = 1000;
const bigBlock = frameChunks(
  Array.from({ length: BIG_BLOCK_TOKENS }, (_, i) => encoder.encode(chatLine(i, token(i), false))),
);
const bigEnd = Buffer.concat([frameChunks([encoder.encode(chatLine(config.bigTokens, '', true))]), LAST_CHUNK]);

const breakStream = ndjsonResponse(chatStreamFixture(config.breakTokens).lines.map((line) => encoder.encode(line)));

const embeds = new Map<number, Buffer[]>();
const embedFor = (count: number): Buffer[] => {
  let answer = embeds.get(count);
  if (answer === undefined) {
    answer = jsonResponse(embedResponse(count));
    embeds.set(count, answer);
  }
  return answer;
};
for (const count of config.embedCounts) embedFor(count);

const notFound = jsonResponse('{"error":"no such route in the benchmark server"}', '404 Not Found');

// ---- Serving ------------------------------------------------------------------------------

/** Resolves once the socket can take more, or is gone. */
function drained(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

async function respond(socket: Socket, path: string, body: Buffer): Promise<void> {
  const write = (buffers: readonly Buffer[]): void => {
    socket.cork();
    for (const buffer of buffers) socket.write(buffer);
    socket.uncork();
  };
  const slash = path.indexOf('/', 1);
  const scenario = path.slice(1, slash < 0 ? path.length : slash);
  const endpoint = slash < 0 ? '' : path.slice(slash);
  if (scenario === 's' && endpoint.endsWith('/api/chat')) {
    const mode = endpoint.slice(1, endpoint.indexOf('/', 1));
    write(streams.get(mode) ?? notFound);
  } else if (scenario === 'v1s' && endpoint.endsWith('/v1/chat/completions')) {
    const mode = endpoint.slice(1, endpoint.indexOf('/', 1));
    write(v1Streams.get(mode) ?? notFound);
  } else if (scenario === 'small') {
    const whole = body.includes('"stream":false');
    if (endpoint === '/api/chat') write(whole ? small.chatWhole : small.chatStream);
    else if (endpoint === '/api/generate') write(whole ? small.generateWhole : small.generateStream);
    else write(notFound);
  } else if (scenario === 'big' && endpoint === '/api/chat') {
    socket.write(NDJSON_HEAD);
    for (let sent = 0; sent < config.bigTokens && !socket.destroyed; sent += BIG_BLOCK_TOKENS) {
      if (!socket.write(bigBlock)) await drained(socket);
    }
    if (!socket.destroyed) socket.write(bigEnd);
  } else if (scenario === 'brk' && endpoint === '/api/chat') {
    write(breakStream);
  } else if (scenario === 'emb' && endpoint === '/api/embed') {
    const input = (JSON.parse(body.toString('utf8')) as { input: unknown }).input;
    write(embedFor(Array.isArray(input) ? input.length : 1));
  } else {
    write(notFound);
  }
}

/** A request's head and body, or undefined while more bytes are needed. */
function parseRequest(buffer: Buffer): { path: string; body: Buffer; used: number } | undefined {
  const headEnd = buffer.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const head = buffer.toString('latin1', 0, headEnd);
  const path = head.slice(head.indexOf(' ') + 1, head.indexOf(' ', head.indexOf(' ') + 1));
  const lower = head.toLowerCase();
  const start = headEnd + 4;
  const length = /\r\ncontent-length:\s*(\d+)/.exec(lower);
  if (length !== null) {
    const end = start + Number(length[1]);
    return buffer.length < end ? undefined : { path, body: buffer.subarray(start, end), used: end };
  }
  if (!/\r\ntransfer-encoding:\s*chunked/.test(lower)) return { path, body: Buffer.alloc(0), used: start };
  const parts: Buffer[] = [];
  let at = start;
  for (;;) {
    const lineEnd = buffer.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const size = Number.parseInt(buffer.toString('latin1', at, lineEnd), 16);
    if (size === 0) {
      const end = lineEnd + 4; // The empty trailer section.
      return buffer.length < end ? undefined : { path, body: Buffer.concat(parts), used: end };
    }
    if (buffer.length < lineEnd + 2 + size + 2) return undefined;
    parts.push(buffer.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

const accept = (socket: Socket): void => {
  socket.setNoDelay(true);
  let pending: Buffer = Buffer.alloc(0);
  let queue = Promise.resolve();
  socket.on('error', () => {}); // A client that left early; nothing to do.
  socket.on('data', (data: Buffer) => {
    pending = pending.length === 0 ? data : Buffer.concat([pending, data]);
    for (;;) {
      const request = parseRequest(pending);
      if (request === undefined) break;
      pending = pending.subarray(request.used);
      queue = queue.then(() => respond(socket, request.path, request.body));
    }
  });
};
const server = createServer(accept);

// One listener per client besides the first, on ports of their own: a client keeps its own
// connections when it has its own origin, as an application's only client does (ollama-js and
// the raw client would otherwise share Node's global pool and its warm connection).
const listeners = [server, ...Array.from({ length: config.ownPorts ?? 0 }, () => createServer(accept))];
Promise.all(
  listeners.map(
    (listener) =>
      new Promise<number>((resolve) => {
        listener.listen(0, '127.0.0.1', () => {
          const address = listener.address();
          resolve(typeof address === 'object' && address !== null ? address.port : 0);
        });
      }),
  ),
).then(([port = 0, ...ports]) => process.send?.({ port, ports }));
// The parent exiting (normally or not) closes the IPC channel.
process.on('disconnect', () => process.exit(0));
