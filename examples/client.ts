// The README's "Client" example: `OLLAMA_HOST=… node dist/examples/client.js`.
import { createClient, resolveHost } from '../lib/index.ts';

// Defaults for every call of this client; each call can still override any of them.
const ollama = createClient({
  host: resolveHost(), // OLLAMA_HOST, else http://127.0.0.1:11434
  headers: { 'X-Request-Source': 'nightly-report' },
  readTimeout: 600_000, // a cold model may take minutes to load
  retry: { retries: 4 },
});

const { version } = await ollama.version();
const reply = await ollama.chat(
  { model: 'llama3.2', messages: [{ role: 'user', content: 'Say hello in five words.' }] },
  { totalTimeout: 60_000 },
);
console.log(`Ollama ${version} at ${resolveHost()}: ${reply.message.content}`);
