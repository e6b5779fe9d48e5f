// What a test sees of a running stand-in: the handle startFakeOllama returns, the requests it
// records, and its options.

import type { IncomingHttpHeaders } from 'node:http';
import type { Behaviour } from './behaviour.ts';
import type { Catalogue } from './catalogues.ts';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
  /** Parsed JSON, or undefined if the body is not JSON. */
  body: unknown;
  /** performance.now() when the request body was fully read. */
  receivedAt: number;
  /** performance.now() when the first response byte was written. */
  firstByteAt?: number;
  /** performance.now() when the response or its connection closed, for any reason. */
  closedAt?: number;
  /** The client went away before the response was complete. */
  clientDisconnected: boolean;
  /**
   * Requests to the same path in flight when this one's body had been received, this one
   * included. A request is in flight from its arrival until its response or connection closes.
   */
  concurrent: number;
  /** NDJSON objects written (content and final chunks), not counting garbage, error or blank lines. */
  chunksWritten: number;
  /**
   * Chunks the script still meant to send when the connection closed: 0 when the script ran to its
   * scripted end (including an end scripted by errorAfter/resetAfter/closeAfter/omitDone). For a
   * single-object reply (stream:false, load, embed, errors) it is 1 until that object is written.
   */
  pendingChunks: number;
}

export interface FakeOllama {
  /** 'http://127.0.0.1:PORT' */
  readonly url: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  /**
   * The blobs uploaded with POST /api/blobs/:digest, by `sha256:<64 hex>`. Layers of pulled or
   * created models are known to the server (HEAD finds them) but hold no bytes here.
   */
  readonly blobs: Map<string, Buffer>;
  /** The installed models (names as /api/tags lists them, in its order: most recent first). */
  models(): string[];
  /**
   * Queue behaviours; each request to chat, generate, embed, embeddings, show, copy, delete, pull,
   * push, create or blobs without an x-fake-behaviour header takes the next one.
   */
  script(...behaviours: Behaviour[]): void;
  /** What a stream:false request with this body would answer, computed without a request. */
  expected(path: '/api/chat' | '/api/generate', body: object, behaviour?: Behaviour): Promise<unknown>;
  /** Polls every 10 ms until pred holds; rejects after timeoutMs. */
  waitFor(pred: (r: RecordedRequest[]) => boolean, timeoutMs: number): Promise<void>;
  /** Ends stalls, destroys every open socket and closes the listener. */
  close(): Promise<void>;
}

export interface FakeOllamaOptions {
  port?: number;
  host?: string;
  /**
   * Files served on GET at these paths, from the server's own origin, so that a browser page
   * can call the API without CORS. They are not recorded in `requests`.
   */
  files?: Record<string, StaticFile>;
  /** Another set of installed models (see catalogues.ts); by default llama3.2, qwen3 and
   * nomic-embed-text. */
  catalogue?: Catalogue;
}

export interface StaticFile {
  type: string;
  body: string | Uint8Array;
}
