// The /v1 examples run as a user would run them, against the stand-in (loopback only).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type FakeOllama, startFakeOllama } from './support/fake-ollama.ts';

const run = promisify(execFile);
const examples = join(dirname(fileURLToPath(import.meta.url)), '..', 'examples');

let fake: FakeOllama;
before(async () => {
  fake = await startFakeOllama();
});
after(() => fake.close());

function example(name: string, env: Record<string, string>) {
  const clean: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const key of ['OPENAI_BASE_URL', 'OPENAI_API_KEY', 'OPENAI_MODEL', 'OLLAMA_HOST']) {
    if (!(key in env)) delete clean[key];
  }
  return run(process.execPath, [join(examples, `${name}.js`)], { env: clean, timeout: 30_000 });
}

test('openai example: the ported SDK snippet answers whole, then streams, against Ollama /v1', async () => {
  const mark = fake.requests.length;
  const { stdout } = await example('openai', { OLLAMA_HOST: fake.url });
  assert.equal(stdout, 'Hello from the stand-in.\nHello from the stand-in.\n');
  const calls = fake.requests.slice(mark);
  assert.deepEqual(
    calls.map((r) => r.path),
    ['/v1/chat/completions', '/v1/chat/completions'],
  );
  assert.ok(calls.every((r) => r.headers.authorization === 'Bearer ollama'));
});

test('openai-hosted example: base and key from the environment, the key sent to that base only', async () => {
  const mark = fake.requests.length;
  const { stdout } = await example('openai-hosted', {
    OPENAI_BASE_URL: `${fake.url}/v1`,
    OPENAI_API_KEY: 'sk-hosted-test',
    OPENAI_MODEL: 'llama3.2',
  });
  assert.equal(stdout, 'Hello from the stand-in.\n');
  assert.equal(fake.requests.slice(mark)[0]?.headers.authorization, 'Bearer sk-hosted-test');
  await assert.rejects(
    example('openai-hosted', { OLLAMA_HOST: fake.url }),
    (error: { code?: number; stderr?: string }) => {
      assert.equal(error.code, 2);
      assert.match(error.stderr ?? '', /Set OPENAI_BASE_URL and OPENAI_API_KEY/);
      return true;
    },
  );
});

test('openai-hosted example: a refused key is exit code 1 with the server message, and no key in it', async () => {
  const closed = await startFakeOllama();
  const url = closed.url;
  await closed.close();
  await assert.rejects(
    example('openai-hosted', { OPENAI_BASE_URL: `${url}/v1`, OPENAI_API_KEY: 'sk-secret-zz', OPENAI_MODEL: 'x' }),
    (error: { code?: number; stderr?: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr ?? '', /^connection: /);
      assert.doesNotMatch(error.stderr ?? '', /sk-secret-zz/);
      return true;
    },
  );
});
