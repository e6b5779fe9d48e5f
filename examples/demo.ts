// `npm run demo`: ollama-fetch at work. It talks to a real Ollama when one answers at
// OLLAMA_HOST (default http://127.0.0.1:11434), and otherwise to the stand-in server the
// tests use, so it runs anywhere. The model is one that can chat, as the server itself says
// (`capabilities` from /api/show), or OLLAMA_MODEL when set. Any failure is one line on stderr
// saying what to do, and exit code 1: never a stack trace.
import { createServer } from 'node:net';
import { parseHost } from '../lib/host.ts';
import { chat, chatStream, isRunning, listModels, OllamaError, showModel } from '../lib/index.ts';
import { startFakeOllama } from '../test/support/fake-ollama.ts';

/** The most models asked about with /api/show before giving up on finding one that chats. */
const MAX_SHOWN = 25;

/** A failure of the demo itself, already worded as the one line to print. */
class DemoFailure extends Error {}

interface Choice {
  model: string;
  why: string;
}

/**
 * The model to chat with: OLLAMA_MODEL if set, else the most recent installed model whose
 * capabilities (as /api/show reports them) include `completion`. Names are no guide: an
 * embedding model is not always called `*embed*` (all-minilm, bge-m3).
 */
async function chooseModel(host: string): Promise<Choice> {
  const wanted = process.env.OLLAMA_MODEL; // '' counts as unset
  if (wanted) {
    const capabilities = (await showModel({ model: wanted }, { host })).capabilities;
    if (capabilities !== undefined && !capabilities.includes('completion'))
      throw new DemoFailure(
        `OLLAMA_MODEL=${wanted} cannot chat (its capabilities: ${capabilities.join(', ') || 'none'}); ` +
          'set OLLAMA_MODEL to a chat model, or unset it to let the demo pick one',
      );
    return { model: wanted, why: 'named by OLLAMA_MODEL' };
  }
  const { models } = await listModels({ host });
  const skipped: string[] = [];
  for (const { name } of models.slice(0, MAX_SHOWN)) {
    const { capabilities } = await showModel({ model: name }, { host });
    if (capabilities === undefined) {
      // An Ollama older than 0.6 does not say; the model is tried as a chat model.
      return { model: name, why: 'the most recent installed model (this Ollama does not report capabilities)' };
    }
    if (capabilities.includes('completion')) {
      const passed = skipped.length === 0 ? '' : `; skipped ${skipped.join(', ')}`;
      return { model: name, why: `the most recent installed model with the "completion" capability${passed}` };
    }
    skipped.push(`${name} (${capabilities.join(', ') || 'no capabilities'})`);
  }
  const seen = skipped.length === 0 ? 'no models are installed' : `installed: ${skipped.join(', ')}`;
  throw new DemoFailure(`no installed model can chat (${seen}); install one with \`ollama pull llama3.2\``);
}

/** A loopback port that nothing listens on: one the OS just handed out and took back. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function demo(host: string, model: string): Promise<void> {
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
}

/** Any error as the one line to print: what happened and, from the library, what to do. */
function oneLine(error: unknown): string {
  const text =
    error instanceof DemoFailure
      ? error.message
      : error instanceof OllamaError
        ? `${error.kind} error: ${error.message}`
        : error instanceof Error
          ? `${error.name}: ${error.message}`
          : String(error);
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

async function main(): Promise<void> {
  let base = 'OLLAMA_HOST';
  let standIn: Awaited<ReturnType<typeof startFakeOllama>> | undefined;
  try {
    // Read by the library itself, so that a value it cannot read is named as OLLAMA_HOST.
    base = parseHost(undefined).base;
    const real = await isRunning({ host: base, connectTimeout: 2000, readTimeout: 2000 });
    standIn = real ? undefined : await startFakeOllama();
    const host = standIn?.url ?? base;
    console.log(
      real
        ? `ollama-fetch demo: Ollama at ${host}`
        : `ollama-fetch demo: no Ollama answered at ${base}; using the bundled stand-in at ${host}`,
    );
    const { model, why } = await chooseModel(host);
    console.log(`Model ${model}: ${why}\n`);
    await demo(host, model);
  } catch (error) {
    process.stderr.write(`ollama-fetch demo failed against ${standIn?.url ?? base}: ${oneLine(error)}\n`);
    process.exitCode = 1;
  } finally {
    await standIn?.close();
  }
}

// Output piped into `head` that has seen enough: stop quietly, as command-line tools do.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') process.stderr.write(`ollama-fetch demo failed: stdout: ${error.message}\n`);
  process.exit(error.code === 'EPIPE' ? 0 : 1);
});
await main();
