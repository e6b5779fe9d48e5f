// The OpenAI SDK snippet from Ollama's OpenAI-compatibility docs, ported line by line to
// ollama-fetch/openai: `OLLAMA_HOST=… node dist/examples/openai.js`.
// In your own code, import from 'ollama-fetch/openai'.
import { createOpenAI, OllamaError } from '../lib/openai/index.ts';

const client = createOpenAI({
  baseURL: `${process.env.OLLAMA_HOST ?? 'http://localhost:11434'}/v1`, // base_url=…
  apiKey: 'ollama', // required by the SDK, ignored by Ollama
});

const messages = [
  { role: 'system' as const, content: 'You are a helpful assistant.' },
  { role: 'user' as const, content: 'Which llama is the tallest?' },
];

try {
  // Non-streaming: response.choices[0].message.content, as in the SDK.
  const response = await client.chat.completions.create({ model: 'llama3.2', messages });
  console.log(response.choices[0]?.message.content);

  // Streaming: chunk.choices[0].delta.content. The last chunk may carry only `usage`, with
  // `choices: []`, hence the `?.`.
  const stream = await client.chat.completions.create({ model: 'llama3.2', messages, stream: true });
  for await (const chunk of stream) process.stdout.write(chunk.choices[0]?.delta.content ?? '');
  process.stdout.write('\n');
} catch (error) {
  if (error instanceof OllamaError) console.error(`${error.kind}: ${error.message}`);
  else throw error;
  process.exitCode = 1;
}
