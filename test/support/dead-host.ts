// A loopback address whose TCP handshake never completes, as with a host behind a firewall
// that drops packets. A listener with the smallest accept queue lives in a worker thread that
// blocks before it ever accepts; once a few holder connections fill the queue, Linux drops
// every further SYN unanswered. No root, no network namespace, nothing beyond 127.0.0.1.

import { connect, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';

export interface DeadHost {
  /** 'http://127.0.0.1:PORT' */
  readonly url: string;
  readonly port: number;
  /** Frees the holders, wakes and stops the worker. */
  close(): Promise<void>;
}

const LISTENER = `
const { createServer } = require('node:net');
const { parentPort, workerData } = require('node:worker_threads');
const server = createServer();
server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
  parentPort.postMessage(server.address().port);
  // Blocks this thread, so nothing ever accepts, until the main thread notifies.
  Atomics.wait(new Int32Array(workerData), 0, 0, 600000);
  server.close();
});
`;

/** Whether a connection to `port` completes within `ms`; the socket is kept when it does. */
function tryConnect(port: number, ms: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const give = (value: Socket | undefined): void => {
      clearTimeout(timer);
      socket.removeAllListeners('connect');
      if (value === undefined) socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => give(undefined), ms);
    socket.once('connect', () => give(socket));
    socket.on('error', () => give(undefined));
  });
}

export async function startDeadHost(): Promise<DeadHost> {
  const flag = new SharedArrayBuffer(4);
  const worker = new Worker(LISTENER, { eval: true, workerData: flag });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', (value: number) => resolve(value));
    worker.once('error', reject);
  });
  const holders: Socket[] = [];
  const close = async (): Promise<void> => {
    for (const holder of holders) holder.destroy();
    const cell = new Int32Array(flag);
    Atomics.store(cell, 0, 1);
    Atomics.notify(cell, 0);
    await worker.terminate();
  };
  // The queue holds backlog + 1 connections; a few more tries cover kernels that count otherwise.
  for (let tries = 0; tries < 16; tries++) {
    const holder = await tryConnect(port, 300);
    if (holder === undefined) return { url: `http://127.0.0.1:${port}`, port, close };
    holders.push(holder);
  }
  await close();
  throw new Error('dead host: the accept queue never filled up, so connections would not hang');
}
