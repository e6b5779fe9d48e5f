// The README's "Drop-in for ollama-js" example: `OLLAMA_HOST=… node dist/examples/compat.js`.
// Code written for ollama-js, with one import changed; OLLAMA_HOST is passed on by hand, as
// ollama-js itself does not read it.
import { Ollama } from '../lib/compat/index.ts';

const ollama = new Ollama({
  host: process.env.OLLAMA_HOST, // unset: http://127.0.0.1:11434, as in ollama-js
  readTimeout: 600_000, // this library's options, applied to every call of the instance
  retry: { retries: 3 },
});

// From here on, unchanged ollama-js code.
const stream = await ollama.chat({
  model: 'llama3.2',
  messages: [{ role: 'user', content: 'Why is the sky blue?' }],
  stream: true,
});
for await (const part of stream) process.stdout.write(part.message.content);
process.stdout.write('\n');

try {
  await ollama.show({ model: 'no-such-model' });
} catch (error) {
  // The fields of ollama-js's ResponseError, on an OllamaError.
  const { status_code, error: said } = error as { status_code: number; error: string };
  console.log(`show: ${status_code} ${said}`);
}

// abort() stops every call of the instance still running, with or without stream: true.
const story = ollama.generate({ model: 'llama3.2', prompt: 'Tell me a long story.' });
setTimeout(() => ollama.abort(), 200);
await story.catch((error: Error) => console.log(`generate: ${error.name}`));
