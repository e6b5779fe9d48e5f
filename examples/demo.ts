// `npm run demo`: ollama-fetch at work. It talks to a real Ollama when one answers at
// OLLAMA_HOST (default http://127.0.0.1:11434), and otherwise to the stand-in server the
// tests use, so it runs anywhere. OLLAMA_MODEL picks the model on a real server.
import { createServer } from 'node:net';
import { parseHost } from '../lib/host.ts';
import { chat, chatStream, OllamaError } from '../lib/index.ts';
import { startFakeOllama } from '../test/support/fake-ollama.ts';

interface Target {
  host: string;
  model: string;
}

/** A real Ollama with a chat model, or undefined. */
async function findOllama(base: string): Promise<Target | undefined> {
  try {
    const response = await fetch(`${base}/api/tags`, { signal: AbortSignal.timeout(2000) });
    if (!response.ok) return undefined;
    const { models = [] } = (await response.json()) as { models?: Array<{ name: string }> };
    const model = process.env.OLLAMA_MODEL || models.find((m) => !/embed/i.test(m.name))?.name; // '' counts as unset
    if (model === undefined) {
      console.log(
        `Ollama answers at ${base} but has no chat model (try \`ollama pull llama3.2\`); using the stand-in.`,
      );
      return undefined;
    }
    return { host: base, model };
  } catch {
    return undefined;
  }
}

/** A loopback port that nothing listens on: one the OS just handed out and took back. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const { base } = parseHost(process.env.OLLAMA_HOST);
const real = await findOllama(base);
const standIn = real === undefined ? await startFakeOllama() : undefined;
const { host, model } = real ?? { host: standIn!.url, model: 'llama3.2' };
console.log(
  real !== undefined
    ? `ollama-fetch demo: Ollama at ${host}, model ${model}\n`
    : `ollama-fetch demo: no Ollama answered at ${base}; using the bundled stand-in at ${host}\n`,
);

try {
  const question = { role: 'user' as const, content: 'In one short sentence: why is the sky blue?' };

  process.stdout.write('1. chatStream, token by token: ');
  for await (const chunk of chatStream({ model, messages: [question], options: { num_predict: 60 } }, { host })) {
    process.stdout.write(chunk.message.content);
    if (chunk.done) console.log(`\n   (done_reason ${chunk.done_reason}, ${chunk.eval_count} tokens)`);
  }

  const answer = await chat({ model, messages: [question], options: { num_predict: 60 } }, { host });
  console.log(`2. chat, one aggregated answer: ${JSON.stringify(answer.message.content)}`);

  let taken = 0;
  for await (const chunk of chatStream({ model, messages: [question] }, { host })) {
    taken += chunk.message.content.length;
    if (taken > 10) break; // closes the connection: Ollama stops generating
  }
  console.log('3. break after a few tokens: the request was cancelled');

  const nobody = `http://127.0.0.1:${await closedPort()}`;
  for (const [step, what, call] of [
    [4, 'a model that is not installed', () => chat({ model: 'no-such-model', messages: [question] }, { host })],
    // Refused connections are retried (Ollama may be restarting); short waits keep the demo quick.
    [
      5,
      'a port where nothing listens',
      () => chat({ model, messages: [question] }, { host: nobody, retry: { baseDelay: 200 } }),
    ],
  ] as const) {
    try {
      await call();
    } catch (error) {
      if (!(error instanceof OllamaError)) throw error;
      console.log(
        `${step}. ${what}: OllamaError kind=${error.kind} status=${error.status ?? '-'} attempts=${error.attempts}\n   ${error.message}`,
      );
    }
  }
} finally {
  await standIn?.close();
}
