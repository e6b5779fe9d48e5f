// Playing a Reply back under a Behaviour: the stream's steps (delays, blank lines, garbage, errors,
// stalls, resets), a one-object answer, and what the record says was written and is still pending.

import type { Behaviour } from './behaviour.ts';
import { goJson } from './go-json.ts';
import { JSON_UTF8, type Failure, type Reply } from './reply.ts';
import { closeConnection, emit, finish, pause, resetConnection, sendWhole, type Exchange } from './wire.ts';

const DEFAULT_ERROR = 'an error was encountered while running the model: unexpected EOF';
const GARBAGE_LINE = '<html>this is not json</html>';

type Step =
  | { kind: 'wait'; ms?: number }
  | { kind: 'chunk'; index: number }
  | { kind: 'line'; text: string }
  | { kind: 'blank' }
  | { kind: 'fail'; status: number; message: string }
  | { kind: 'reset' }
  | { kind: 'close' };

// Turns the chunk list and the knobs into the exact sequence of things to do. A handler's own
// failure comes after its chunks, unless a knob has ended the stream before.
function streamSteps(count: number, b: Behaviour, handlerFailure?: Failure): Step[] {
  const steps: Step[] = [];
  const errorText = b.errorText ?? DEFAULT_ERROR;
  const errorLine = goJson({ error: errorText });
  let wroteLine = false;
  for (let k = 0; k <= count; k++) {
    if (b.stallAfter === k) steps.push(b.stallMs === undefined ? { kind: 'wait' } : { kind: 'wait', ms: b.stallMs });
    if (b.resetAfter === k) return [...steps, { kind: 'reset' }];
    if (b.closeAfter === k) return [...steps, { kind: 'close' }];
    if (b.garbageAfter === k) {
      steps.push({ kind: 'line', text: GARBAGE_LINE });
      wroteLine = true;
    }
    if (b.errorAfter === k) {
      return [
        ...steps,
        wroteLine
          ? { kind: 'line', text: errorLine }
          : { kind: 'fail', status: b.errorStatus ?? 500, message: errorText },
      ];
    }
    if (k === count) break;
    if (k > 0 && (b.chunkDelayMs ?? 0) > 0) steps.push({ kind: 'wait', ms: b.chunkDelayMs ?? 0 });
    if (b.blankLines === true) steps.push({ kind: 'blank' });
    steps.push({ kind: 'chunk', index: k });
    wroteLine = true;
  }
  if (handlerFailure !== undefined) {
    steps.push(
      wroteLine
        ? { kind: 'line', text: goJson({ error: handlerFailure.message }) }
        : { kind: 'fail', status: handlerFailure.status, message: handlerFailure.message },
    );
  }
  return steps;
}

async function playStream(ex: Exchange, reply: Extract<Reply, { kind: 'stream' }>, b: Behaviour): Promise<void> {
  const lines = reply.lines;
  const steps = streamSteps(lines.length, b, reply.failure);
  const eol = b.crlf === true ? '\r\n' : '\n';
  let lastLine = -1;
  steps.forEach((s, at) => {
    if (s.kind === 'chunk' || s.kind === 'line') lastLine = at;
  });
  const ending = (at: number): string => (at === lastLine && b.noFinalNewline === true ? '' : eol);
  ex.res.statusCode = 200;
  ex.res.setHeader('Content-Type', 'application/x-ndjson');

  for (const [at, step] of steps.entries()) {
    if (ex.life.dead) return;
    switch (step.kind) {
      case 'wait':
        await pause(ex.life, step.ms);
        break;
      case 'blank':
        await emit(ex, eol);
        break;
      case 'line':
        await emit(ex, step.text + ending(at));
        break;
      case 'chunk':
        // The work is done by the time its last line goes out (the manifest is written before
        // `success`), so the models change here, and only if the script gets this far.
        if (step.index === lines.length - 1) reply.commit?.();
        if (await emit(ex, (lines[step.index] ?? '') + ending(at))) {
          ex.record.chunksWritten++;
          ex.record.pendingChunks--;
        }
        break;
      case 'reset':
        // A RST makes the client's kernel drop bytes it has not read yet, so a reset at the very
        // moment of the last write would take the chunks with it. A real mid-stream reset (a
        // crashed runner, a proxy) comes after delivered output: let the chunks land first.
        if (ex.record.chunksWritten > 0) await pause(ex.life, 50);
        if (ex.life.dead) return;
        resetConnection(ex);
        return;
      case 'close':
        closeConnection(ex);
        return;
      case 'fail':
        // Nothing is out yet, so the server can still pick a status; streamResponse then sets a
        // bare application/json.
        ex.res.statusCode = step.status;
        ex.res.setHeader('Content-Type', 'application/json');
        await emit(ex, goJson({ error: step.message }));
        finish(ex);
        return;
    }
  }
  finish(ex);
}

// A one-object answer: the model knobs act on the work behind it as a whole, since a
// non-streaming server writes nothing until the work is done.
async function playSingle(ex: Exchange, reply: Extract<Reply, { kind: 'single' }>, b: Behaviour): Promise<void> {
  const fires = (knob: number | undefined): boolean => knob !== undefined && knob < reply.work;
  if (fires(b.stallAfter)) {
    await pause(ex.life, b.stallMs);
    if (ex.life.dead) return;
  }
  if (fires(b.resetAfter)) {
    ex.record.pendingChunks = 0;
    resetConnection(ex);
    return;
  }
  if (fires(b.closeAfter)) {
    ex.record.pendingChunks = 0;
    closeConnection(ex);
    return;
  }
  if (fires(b.errorAfter)) {
    const type = reply.errorType ?? JSON_UTF8;
    await sendWhole(
      ex,
      b.errorStatus ?? 500,
      { 'Content-Type': type },
      goJson({ error: b.errorText ?? DEFAULT_ERROR }),
    );
  } else {
    const generation = (b.chunkDelayMs ?? 0) * Math.max(0, reply.work - 1);
    if (generation > 0) {
      await pause(ex.life, generation);
      if (ex.life.dead) return;
    }
    reply.commit?.();
    const headers: Record<string, string> =
      reply.contentType === '' ? { 'Content-Length': '0' } : { 'Content-Type': reply.contentType };
    await sendWhole(ex, reply.status, headers, reply.body);
  }
  if (!ex.life.dead) ex.record.pendingChunks = 0;
}

const chunkSteps = (steps: Step[]): number => steps.filter((s) => s.kind === 'chunk').length;

export async function deliver(ex: Exchange, reply: Reply, b: Behaviour): Promise<void> {
  ex.record.pendingChunks = reply.kind === 'stream' ? chunkSteps(streamSteps(reply.lines.length, b, reply.failure)) : 1;
  if ((b.headersDelayMs ?? 0) > 0) {
    await pause(ex.life, b.headersDelayMs);
    if (ex.life.dead) return;
  }
  if (b.respond !== undefined) {
    ex.bomPending = false;
    await sendWhole(ex, b.respond.status, b.respond.headers ?? {}, b.respond.body ?? '');
    if (!ex.life.dead) ex.record.pendingChunks = 0;
    return;
  }
  if (b.resetAfter === 0 || b.closeAfter === 0) {
    ex.record.pendingChunks = 0;
    if (b.resetAfter === 0) resetConnection(ex);
    else closeConnection(ex);
    return;
  }
  if (reply.kind === 'stream') await playStream(ex, reply, b);
  else await playSingle(ex, reply, b);
}
