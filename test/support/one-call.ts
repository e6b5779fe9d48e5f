// Run as a child process by exit.test.ts: makes one call against the stand-in whose URL is
// argv[2], in the way argv[3] names, then writes one line saying how it settled. The parent
// measures how long the process lives after that line: no timer or socket of the library may
// keep it running.

import { Ollama } from '../../lib/compat/index.ts';
import { chat, chatStream, isOllamaError } from '../../lib/index.ts';
import { createOpenAI } from '../../lib/openai/index.ts';
import { runToolsStream } from '../../lib/tools/index.ts';

const [host, scenario] = process.argv.slice(2);
if (host === undefined || scenario === undefined) throw new Error('usage: one-call.js <host> <scenario>');

const hello = { model: 'llama3.2', messages: [{ role: 'user' as const, content: 'Hi there, llama' }] };
/** Long timers everywhere, so that one left behind would show. */
const patient = { host, readTimeout: 120_000, connectTimeout: 60_000, totalTimeout: 600_000 };

async function run(): Promise<string> {
  switch (scenario) {
    case 'success':
      return (await chat(hello, patient)).done === true ? 'ok' : 'not done';
    case 'http-error':
      await chat({ ...hello, model: 'no-such-model' }, patient);
      return 'no error';
    case 'read-timeout':
      await chat(hello, { ...patient, readTimeout: 1000, headers: { 'x-fake-behaviour': '{"headersDelayMs":60000}' } });
      return 'no error';
    case 'abort': {
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('stopped')), 300);
      await chat(hello, {
        ...patient,
        signal: controller.signal,
        headers: { 'x-fake-behaviour': '{"headersDelayMs":60000}' },
      });
      return 'no error';
    }
    case 'break': {
      const stream = chatStream(hello, { ...patient, headers: { 'x-fake-behaviour': '{"chunkDelayMs":300}' } });
      for await (const chunk of stream) {
        void chunk;
        break;
      }
      return 'ok';
    }
    case 'retry-wait-abort': {
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('stopped')), 500);
      await chat(hello, {
        ...patient,
        signal: controller.signal,
        headers: { 'x-fake-behaviour': '{"respond":{"status":503,"headers":{"retry-after":"30"}}}' },
      });
      return 'no error';
    }
    case 'never-iterated':
      // Made, never read: it must hold nothing (its total timer begins with the iteration).
      chatStream(hello, patient);
      return 'ok';
    case 'next-by-hand': {
      // A consumer that stops at the final chunk and never asks for the end of the stream.
      const stream = chatStream(hello, patient);
      for (let i = 0; i < 100; i++) {
        const { value, done } = await stream.next();
        if (done === true || value.done) return value?.done === true ? 'ok' : 'ended';
      }
      return 'too many chunks';
    }
    case 'dropped': {
      // A consumer that takes two chunks and then simply stops reading (no break, no return()):
      // the answer has arrived whole, and nothing of the library may hold the process.
      const stream = chatStream(hello, {
        host,
        readTimeout: 120_000,
        headers: { 'x-fake-behaviour': '{"chunkDelayMs":20}' },
      });
      await stream.next();
      await stream.next();
      return 'ok';
    }
    case 'dropped-with-total': {
      // The same, with a totalTimeout still to run: its timer must not hold the process either.
      const stream = chatStream(hello, { ...patient, headers: { 'x-fake-behaviour': '{"chunkDelayMs":20}' } });
      await stream.next();
      await stream.next();
      return 'ok';
    }
    case 'compat-never-iterated': {
      // ollama-js's way: the stream is awaited (its first chunk read) and never looped over.
      const headers = { 'x-fake-behaviour': '{"chunkDelayMs":20}' };
      const stream = await new Ollama({ host, headers, totalTimeout: 600_000 }).chat({ ...hello, stream: true });
      return typeof stream.abort === 'function' ? 'ok' : 'no stream';
    }
    case 'openai-never-iterated': {
      const defaultHeaders = { 'x-fake-behaviour': '{"chunkDelayMs":20}' };
      const client = createOpenAI({ baseURL: `${host}/v1`, defaultHeaders, totalTimeout: 600_000 });
      const stream = await client.chat.completions.create({ ...hello, stream: true });
      return stream.controller instanceof AbortController ? 'ok' : 'no stream';
    }
    case 'tools-dropped': {
      const loop = runToolsStream(
        { ...hello, tools: [] },
        { ...patient, headers: { 'x-fake-behaviour': '{"chunkDelayMs":20}' } },
      );
      await loop.next();
      return 'ok';
    }
    default:
      throw new Error(`unknown scenario ${scenario}`);
  }
}

run().then(
  (outcome) => process.stdout.write(`settled ${outcome}\n`),
  (error: unknown) => process.stdout.write(`settled ${isOllamaError(error) ? error.kind : (error as Error).message}\n`),
);
