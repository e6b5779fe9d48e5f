// The README's "One-shot script" example: `node dist/examples/script.js "Why is the sky blue?"`, or
// with the prompt on stdin: `git diff | node dist/examples/script.js`.
import { text } from 'node:stream/consumers';
import { generateStream } from '../lib/index.ts';

const prompt = process.argv.length > 2 ? process.argv.slice(2).join(' ') : await text(process.stdin);
if (prompt.trim() === '') {
  process.stderr.write('usage: script.js "prompt", or the prompt on stdin\n');
  process.exit(2);
}

const stop = new AbortController();
// A reader that leaves early (`| head -n 3`) closes the pipe: stop generating rather than die of EPIPE.
process.stdout.on('error', () => stop.abort());

try {
  const request = { model: process.env.OLLAMA_MODEL || 'llama3.2', prompt };
  for await (const chunk of generateStream(request, { signal: stop.signal })) process.stdout.write(chunk.response);
  process.stdout.write('\n');
} catch (error) {
  if (!stop.signal.aborted) {
    // The message alone, on stderr, and a failing exit code: what `set -e`, `&&` and `||` look at.
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
