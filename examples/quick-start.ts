// The README's quick start, runnable: `OLLAMA_HOST=… node dist/examples/quick-start.js`.
// In your own code, import from 'ollama-fetch' (or from your vendored copy of lib/index.ts).
import { chat, chatStream, OllamaError } from '../lib/index.ts';

const messages = [{ role: 'user' as const, content: 'Name three llamas.' }];

try {
  // Streaming: each chunk as Ollama sends it. `break` would cancel the request.
  for await (const chunk of chatStream({ model: 'llama3.2', messages })) {
    process.stdout.write(chunk.message.content);
  }
  process.stdout.write('\n');

  // Non-streaming: exactly what Ollama answers for stream:false.
  const reply = await chat({ model: 'llama3.2', messages, options: { temperature: 0 } });
  console.log(reply.message.content, `(${reply.eval_count} tokens)`);
} catch (error) {
  if (error instanceof OllamaError) console.error(`${error.kind}: ${error.message}`);
  else throw error;
  process.exitCode = 1;
}
