import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startFakeOllama, type FakeOllama } from './support/fake-ollama.ts';

const run = promisify(execFile);
const examples = join(dirname(fileURLToPath(import.meta.url)), '..', 'examples');

let fake: FakeOllama;
let closedHost: string;
before(async () => {
  fake = await startFakeOllama();
  const closed = await startFakeOllama();
  closedHost = closed.url;
  await closed.close();
});
after(() => fake.close());

/** Runs an example with OLLAMA_HOST set; only loopback is ever named. */
function example(name: string, ollamaHost: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, OLLAMA_HOST: ollamaHost };
  delete env.OLLAMA_MODEL;
  return run(process.execPath, [join(examples, `${name}.js`)], {
    env,
    timeout: 30_000,
  });
}

test('demo: with no Ollama at OLLAMA_HOST it runs every step against the stand-in and exits 0', async () => {
  const { stdout } = await example('demo', closedHost);
  assert.match(stdout, /no Ollama answered at .*using the bundled stand-in/);
  assert.match(stdout, /1\. chatStream, token by token: You said: .*🦙/);
  assert.match(stdout, /2\. chat, one aggregated answer/);
  assert.match(stdout, /3\. break after a few tokens/);
  assert.match(stdout, /4\. a model that is not installed: OllamaError kind=http status=404[\s\S]*ollama pull no-such-model/);
  assert.match(stdout, /4\. a model that is not installed: OllamaError kind=http status=404 attempts=1/);
  assert.match(stdout, /5\. a port where nothing listens: OllamaError kind=connection status=- attempts=3[\s\S]*ollama serve[\s\S]*Gave up after 3 attempts/);
});

test('demo: when an Ollama answers at OLLAMA_HOST it uses that server and its first chat model', async () => {
  const mark = fake.requests.length;
  const { stdout } = await example('demo', fake.url);
  assert.match(stdout, new RegExp(`Ollama at ${fake.url}, model llama3\\.2:latest`));
  const chats = fake.requests.slice(mark).filter((r) => r.path === '/api/chat');
  assert.ok(chats.length >= 3);
  assert.equal((chats[0]?.body as { model: string }).model, 'llama3.2:latest');
});

test('quick-start: streams, then answers in one piece', async () => {
  const { stdout } = await example('quick-start', fake.url);
  const [streamed, whole] = stdout.trim().split('\n');
  assert.match(streamed ?? '', /^You said: Name three llamas\./);
  assert.ok(whole?.startsWith(streamed ?? '-'), whole);
  assert.match(whole ?? '', /\(\d+ tokens\)$/);
});

test('quick-start: with no server it reports the connection error and exits 1', async () => {
  await assert.rejects(example('quick-start', closedHost), (error: { code?: number; stderr?: string }) => {
    assert.equal(error.code, 1);
    assert.match(error.stderr ?? '', /^connection: .*ollama serve/);
    return true;
  });
});
