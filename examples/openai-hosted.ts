// The same code pointed at a hosted OpenAI-compatible endpoint (OpenRouter, Groq, Together,
// vLLM, OpenAI): `OPENAI_BASE_URL=https://openrouter.ai/api/v1 OPENAI_API_KEY=sk-or-… \
// OPENAI_MODEL=meta-llama/llama-3.1-8b-instruct node dist/examples/openai-hosted.js`.
// In your own code, import from 'ollama-fetch/openai'.
import { createOpenAI, OllamaError } from '../lib/openai/index.ts';

if (!process.env.OPENAI_BASE_URL || !process.env.OPENAI_API_KEY) {
  console.error('Set OPENAI_BASE_URL and OPENAI_API_KEY (and OPENAI_MODEL) to the hosted endpoint to use.');
  process.exit(2);
}

// No options: the base and the key both come from the environment, read at the call. The key
// goes only to that base: a key from the environment is never sent anywhere else.
const client = createOpenAI({ totalTimeout: 120_000 });

try {
  const stream = await client.chat.completions.create({
    model: process.env.OPENAI_MODEL ?? 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Say hello in three languages.' }],
    stream: true,
  });
  for await (const chunk of stream) process.stdout.write(chunk.choices[0]?.delta.content ?? '');
  process.stdout.write('\n');
} catch (error) {
  if (error instanceof OllamaError) {
    // A 429 says how long to wait and what is left; a 402 (OpenRouter) that credits ran out.
    console.error(`${error.kind}: ${error.message}`);
    if (error.rateLimit !== undefined) console.error('rate limit:', JSON.stringify(error.rateLimit));
    if (error.requestId !== undefined) console.error(`request id: ${error.requestId}`);
  } else throw error;
  process.exitCode = 1;
}
