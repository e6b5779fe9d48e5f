import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { handler, SAFETY_MARGIN_MS } from '../examples/lambda.ts';
import { startFakeOllama, type FakeOllama } from './support/fake-ollama.ts';
import { withFake } from './support/with-fake.ts';

const run = promisify(execFile);
const examples = join(dirname(fileURLToPath(import.meta.url)), '..', 'examples');
const root = join(examples, '..', '..');

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
function example(name: string, ollamaHost: string, args: string[] = [], extra: NodeJS.ProcessEnv = {}) {
  const env: NodeJS.ProcessEnv = { ...process.env, OLLAMA_HOST: ollamaHost };
  delete env.OLLAMA_MODEL;
  Object.assign(env, extra);
  return run(process.execPath, [join(examples, `${name}.js`), ...args], {
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
  assert.match(
    stdout,
    /4\. a model that is not installed: OllamaError kind=http status=404[\s\S]*ollama pull no-such-model/,
  );
  assert.match(stdout, /4\. a model that is not installed: OllamaError kind=http status=404 attempts=1/);
  assert.match(
    stdout,
    /5\. a port where nothing listens: OllamaError kind=connection status=- attempts=3[\s\S]*ollama serve[\s\S]*Gave up after 3 attempts/,
  );
});

test('demo: an OLLAMA_HOST it cannot read is named as OLLAMA_HOST, in one line, exit 1', async () => {
  const failed = await example('demo', 'http://127.0.0.1:99999').then(
    () => assert.fail('expected the demo to fail'),
    (error: unknown) => error as { stderr: string; code: number },
  );
  assert.equal(failed.code, 1);
  assert.match(
    failed.stderr,
    /^ollama-fetch demo failed against OLLAMA_HOST: TypeError: OLLAMA_HOST "http:\/\/127\.0\.0\.1:99999" has a port/,
  );
  assert.doesNotMatch(failed.stderr, /options\.host/);
});

test('demo: when an Ollama answers at OLLAMA_HOST it uses that server and its first chat model', async () => {
  const mark = fake.requests.length;
  const { stdout } = await example('demo', fake.url);
  assert.match(stdout, new RegExp(`Ollama at ${fake.url}\n`));
  assert.match(stdout, /Model llama3\.2:latest: the most recent installed model with the "completion" capability\n/);
  const chats = fake.requests.slice(mark).filter((r) => r.path === '/api/chat');
  assert.ok(chats.length >= 3);
  assert.equal((chats[0]!.body as { model: string }).model, 'llama3.2:latest');
});

/** The demo run against a stand-in of its own, which is closed afterwards. */
async function demoAgainst(
  catalogue: 'embedding-first' | 'embeddings-only' | undefined,
  extra: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string; server: FakeOllama }> {
  const server = await startFakeOllama(catalogue === undefined ? {} : { catalogue });
  try {
    const { stdout, stderr } = await example('demo', server.url, [], extra);
    return { code: 0, stdout, stderr, server };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '', server };
  } finally {
    await server.close();
  }
}

/** A failure printed as the demo promises: one line on stderr, no stack trace, exit 1. */
function assertOneLineFailure(run: { code: number; stderr: string }, pattern: RegExp): void {
  assert.equal(run.code, 1, run.stderr);
  assert.equal(run.stderr.trim().split('\n').length, 1, `one line, got: ${run.stderr}`);
  assert.doesNotMatch(run.stderr, /^\s+at /m, 'no stack trace');
  assert.match(run.stderr, /^ollama-fetch demo failed against http:\/\/127\.0\.0\.1:\d+: /);
  assert.match(run.stderr.trim(), pattern);
}

test('demo: a server whose newest model only embeds: it picks the chat model by capability and says why', async () => {
  // all-minilm has no "embed" in its name: a guess by name picked it and got 400 "does not
  // support chat" with a stack trace.
  const run = await demoAgainst('embedding-first');
  assert.equal(run.server.models()[0], 'all-minilm:latest', 'the newest model is the embedding one');
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stdout,
    /Model llama3\.2:latest: the most recent installed model with the "completion" capability; skipped all-minilm:latest \(embedding\)\n/,
  );
  const shown = run.server.requests
    .filter((r) => r.path === '/api/show')
    .map((r) => (r.body as { model: string }).model);
  assert.deepEqual(shown, ['all-minilm:latest', 'llama3.2:latest'], 'it asked the server, newest first');
  const chats = run.server.requests.filter((r) => r.path === '/api/chat');
  assert.ok(chats.length >= 3);
  for (const c of chats.filter((r) => (r.body as { model: string }).model !== 'no-such-model'))
    assert.equal((c.body as { model: string }).model, 'llama3.2:latest');
  assert.match(run.stdout, /5\. a port where nothing listens/);
});

test('demo: a server where no model can chat: one actionable line, exit 1, no chat sent', async () => {
  const run = await demoAgainst('embeddings-only');
  assertOneLineFailure(
    run,
    /no installed model can chat \(installed: all-minilm:latest \(embedding\), nomic-embed-text:latest \(embedding\)\); install one with `ollama pull llama3\.2`$/,
  );
  assert.equal(run.server.requests.filter((r) => r.path === '/api/chat').length, 0);
});

test('demo: OLLAMA_MODEL naming an embedding model, or a missing one, fails in one line', async () => {
  const embedding = await demoAgainst(undefined, { OLLAMA_MODEL: 'nomic-embed-text' });
  assertOneLineFailure(embedding, /OLLAMA_MODEL=nomic-embed-text cannot chat \(its capabilities: embedding\)/);
  const missing = await demoAgainst(undefined, { OLLAMA_MODEL: 'no-such-model' });
  assertOneLineFailure(missing, /http error: .*ollama pull no-such-model/);
});

test('demo: an OLLAMA_HOST it cannot parse fails in one line', async () => {
  await assert.rejects(example('demo', 'ftp://127.0.0.1:21'), (error: { code?: number; stderr?: string }) => {
    assert.equal(error.code, 1);
    assert.equal((error.stderr ?? '').trim().split('\n').length, 1, error.stderr);
    assert.match(error.stderr ?? '', /^ollama-fetch demo failed against OLLAMA_HOST: .*http:\/\/ or https:\/\//);
    return true;
  });
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

test('models: pulls with progress, shows, copies and deletes against the stand-in', async () => {
  const mark = fake.requests.length;
  const { stdout } = await example('models', fake.url);
  const lines = stdout.trim().split('\n');
  assert.match(lines[0] ?? '', /^installed: llama3\.2:latest, /);
  assert.equal(lines.filter((line) => line === 'pulling manifest').length, 1);
  const percents = lines
    .map((line) => /(\d+)%$/.exec(line)?.[1])
    .filter((p) => p !== undefined)
    .map(Number);
  assert.ok(percents.length >= 2, stdout);
  assert.deepEqual(
    percents,
    [...percents].sort((a, b) => a - b),
    'the shown fraction never goes back',
  );
  assert.ok(lines.includes('success 100%'), stdout);
  assert.ok(lines.includes('pull: success'), stdout);
  assert.match(stdout, /\ncopied and deleted all-minilm-copy\nloaded now: /);
  const paths = fake.requests.slice(mark).map((r) => `${r.method} ${r.path}`);
  assert.deepEqual(paths, [
    'GET /',
    'GET /api/tags',
    'POST /api/pull',
    'POST /api/show',
    'POST /api/copy',
    'DELETE /api/delete',
    'GET /api/ps',
  ]);
});

test('embeddings: 1,200 texts in 3 batches, then the 3 closest', async () => {
  const mark = fake.requests.length;
  const { stdout } = await example('embeddings', fake.url);
  const lines = stdout.trim().split('\n');
  assert.match(lines[0] ?? '', /^1200 vectors of \d+ dimensions$/);
  assert.equal(lines.length, 4);
  for (const line of lines.slice(1)) assert.match(line, /^-?\d\.\d{3} {2}Note \d+: llamas/);
  assert.equal(fake.requests.slice(mark).filter((r) => r.path === '/api/embed').length, 4);
});

test("client: one client's defaults reach the server with every call", async () => {
  const mark = fake.requests.length;
  const { stdout } = await example('client', fake.url);
  assert.match(stdout, new RegExp(`^Ollama 0\\.12\\.0 at ${fake.url}: You said: `));
  const sent = fake.requests.slice(mark);
  assert.deepEqual(
    sent.map((r) => r.path),
    ['/api/version', '/api/chat'],
  );
  for (const request of sent) assert.equal(request.headers['x-request-source'], 'nightly-report');
});

/** Calls the Lambda handler in this process, configured as a function would be: OLLAMA_HOST set, no
 * OLLAMA_MODEL. `remaining` is the invocation's time left, counting down from now as Lambda's does. */
async function invoke(host: string, event: unknown, remaining = 60_000) {
  const saved = { host: process.env.OLLAMA_HOST, model: process.env.OLLAMA_MODEL };
  const deadline = performance.now() + remaining;
  const context = { getRemainingTimeInMillis: () => Math.max(0, Math.floor(deadline - performance.now())) };
  process.env.OLLAMA_HOST = host;
  delete process.env.OLLAMA_MODEL;
  const started = performance.now();
  try {
    const result = await handler(event, context);
    return { ...result, json: JSON.parse(result.body) as LambdaBody, elapsed: performance.now() - started };
  } finally {
    for (const [name, value] of [
      ['OLLAMA_HOST', saved.host],
      ['OLLAMA_MODEL', saved.model],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

interface LambdaBody {
  model?: string;
  response?: string;
  error?: { kind: string; message: string; status?: number; attempts?: number };
}

test('lambda: answers a prompt given as the event or as an API Gateway body', async () => {
  const direct = await invoke(fake.url, { prompt: 'Hi there' });
  assert.equal(direct.statusCode, 200, direct.body);
  assert.equal(direct.headers['content-type'], 'application/json');
  assert.deepEqual(direct.json, { model: 'llama3.2', response: 'You said: Hi there. é 漢字 🦙 done' });

  const mark = fake.requests.length;
  const gateway = await invoke(fake.url, {
    httpMethod: 'POST',
    body: JSON.stringify({ prompt: 'Hello', model: 'qwen3' }),
  });
  assert.equal(gateway.statusCode, 200, gateway.body);
  assert.equal(gateway.json.response, 'You said: Hello. é 漢字 🦙 done');
  const sent = fake.requests.slice(mark);
  assert.deepEqual(
    sent.map((r) => r.path),
    ['/api/generate'],
  );
  assert.deepEqual(
    { ...(sent[0]?.body as object), stream: undefined },
    { model: 'qwen3', prompt: 'Hello', stream: undefined },
  );
});

test('lambda: an event without a usable prompt is a 400 and sends nothing to Ollama', async () => {
  const mark = fake.requests.length;
  const events: unknown[] = [
    null,
    'Hi',
    {},
    { prompt: '  ' },
    { prompt: 42 },
    { prompt: 'Hi', model: 7 },
    { body: '{"prompt":' },
    { body: '[]' },
  ];
  for (const event of events) {
    const result = await invoke(fake.url, event);
    assert.equal(result.statusCode, 400, `${JSON.stringify(event)}: ${result.body}`);
    assert.equal(result.json.error?.kind, 'bad-request');
    assert.match(result.json.error?.message ?? '', /prompt|JSON/);
  }
  assert.equal(fake.requests.length, mark);
});

test('lambda: Ollama unreachable, or refusing the model, is a 502 whose body says why', async () => {
  const refused = await invoke(closedHost, { prompt: 'Hi' });
  assert.equal(refused.statusCode, 502, refused.body);
  assert.equal(refused.json.error?.kind, 'connection');
  assert.equal(refused.json.error?.attempts, 3);
  assert.match(refused.json.error?.message ?? '', /ollama serve/);

  const missing = await invoke(fake.url, { prompt: 'Hi', model: 'llama9' });
  assert.equal(missing.statusCode, 502, missing.body);
  assert.deepEqual(
    { ...missing.json.error, message: undefined },
    { kind: 'http', status: 404, attempts: 1, message: undefined },
  );
  assert.match(missing.json.error?.message ?? '', /ollama pull llama9/);
});

test('lambda: with less time left than the model takes, it answers 504 before Lambda would kill it', async () => {
  await withFake(async (slow) => {
    slow.script({ headersDelayMs: 10_000 });
    const remaining = 3000;
    const result = await invoke(slow.url, { prompt: 'Hi' }, remaining);
    assert.equal(result.statusCode, 504, result.body);
    assert.equal(result.json.error?.kind, 'total-timeout');
    assert.equal(result.json.error?.attempts, 1);
    assert.ok(result.elapsed < remaining, `answered after ${result.elapsed} ms, past the ${remaining} ms deadline`);
    // The budget is the time left minus the margin, not some shorter guess.
    assert.ok(result.elapsed > remaining - SAFETY_MARGIN_MS - 100, `gave up after only ${result.elapsed} ms`);
    // And Ollama hears that nobody is waiting any more.
    await slow.waitFor((r) => r[0]?.clientDisconnected === true, 2000);
  });
});

test('lambda: with no more time left than the margin, it answers 504 at once instead of waiting without a limit', async () => {
  await withFake(async (slow) => {
    slow.script({ headersDelayMs: 10_000 });
    const result = await invoke(slow.url, { prompt: 'Hi' }, SAFETY_MARGIN_MS / 2);
    assert.equal(result.statusCode, 504, result.body);
    assert.equal(result.json.error?.kind, 'total-timeout');
    assert.ok(result.elapsed < SAFETY_MARGIN_MS / 2, `answered after ${result.elapsed} ms`);
  });
});

test('chat: streams each reply, and sends the whole conversation so far with the next question', async () => {
  const mark = fake.requests.length;
  const pending = example('chat', fake.url);
  pending.child.stdin?.end('Hello llama\nWhat did I just say?\n');
  const { stdout } = await pending;
  assert.equal(
    stdout,
    '>>> You said: Hello llama. é 漢字 🦙 done\n>>> You said: What did I just say?. é 漢字 🦙 done\n>>> ',
  );
  const chats = fake.requests.slice(mark).filter((r) => r.path === '/api/chat');
  assert.equal(chats.length, 2);
  assert.deepEqual((chats[1]!.body as { messages: unknown }).messages, [
    { role: 'user', content: 'Hello llama' },
    { role: 'assistant', content: 'You said: Hello llama. é 漢字 🦙 done' },
    { role: 'user', content: 'What did I just say?' },
  ]);
});

test('chat: /bye ends it while the input is still open, and what follows is never sent', async () => {
  const mark = fake.requests.length;
  const pending = example('chat', fake.url);
  pending.child.stdin?.write('Hi\n/bye\nNot this one\n');
  try {
    const { stdout } = await pending;
    assert.equal(stdout, '>>> You said: Hi. é 漢字 🦙 done\n>>> ');
  } finally {
    pending.child.stdin?.destroy();
  }
  assert.equal(fake.requests.slice(mark).filter((r) => r.path === '/api/chat').length, 1);
});

test('chat: SIGINT during a reply stops that reply, closes its connection, and the chat goes on', async () => {
  await withFake(async (slow) => {
    slow.script({ chunkDelayMs: 200 });
    const pending = example('chat', slow.url);
    pending.child.stdin?.write('Tell me a long story\n');
    await slow.waitFor((r) => (r[0]?.chunksWritten ?? 0) >= 3, 10_000);
    pending.child.kill('SIGINT');
    await slow.waitFor((r) => r[0]?.closedAt !== undefined, 5000);
    pending.child.stdin?.end('And now?\n');
    const { stdout, stderr } = await pending;

    const [story, next] = slow.requests;
    assert.equal(story?.clientDisconnected, true);
    assert.ok((story?.pendingChunks ?? 0) > 0, 'the reply was cut short');
    assert.equal(stderr, '\n[stopped]');
    assert.match(stdout, /\n>>> You said: And now\?\. é 漢字 🦙 done\n>>> $/);
    const messages = (next!.body as { messages: Array<{ role: string; content: string }> }).messages;
    assert.deepEqual(
      messages.map((m) => m.role),
      ['user', 'assistant', 'user'],
    );
    const partial = messages[1]?.content ?? '';
    const full = 'You said: Tell me a long story. é 漢字 🦙 done';
    assert.ok(partial !== '' && partial.length < full.length && full.startsWith(partial), partial);
    assert.ok(stdout.startsWith(`>>> ${partial}\n`), stdout);
  });
});

test('script: streams the answer to the prompt in its arguments, or on stdin', async () => {
  const mark = fake.requests.length;
  const { stdout, stderr } = await example('script', fake.url, ['Why is the sky', 'blue?']);
  assert.equal(stdout, 'You said: Why is the sky blue?. é 漢字 🦙 done\n');
  assert.equal(stderr, '');

  const piped = example('script', fake.url);
  piped.child.stdin?.end('Summarise this:\nline one\n');
  assert.match((await piped).stdout, /^You said: Summarise this:\nline one\n\. é/);
  const prompts = fake.requests.slice(mark).map((r) => (r.body as { prompt: string }).prompt);
  assert.deepEqual(prompts, ['Why is the sky blue?', 'Summarise this:\nline one\n']);
});

test('script: a failure is its message on stderr and exit code 1; no prompt at all is exit code 2', async () => {
  await assert.rejects(
    example('script', closedHost, ['Hi']),
    (error: { code?: number; stdout?: string; stderr?: string }) => {
      assert.equal(error.code, 1);
      assert.equal(error.stdout, '');
      assert.match(
        error.stderr ?? '',
        /^Could not get an answer from Ollama at .*ollama serve.*Gave up after 3 attempts\.\n$/,
      );
      return true;
    },
  );

  const mark = fake.requests.length;
  const empty = example('script', fake.url);
  empty.child.stdin?.end();
  await assert.rejects(empty, (error: { code?: number; stderr?: string }) => {
    assert.equal(error.code, 2);
    assert.match(error.stderr ?? '', /^usage: /);
    return true;
  });
  assert.equal(fake.requests.length, mark);
});

test('script: a reader that stops early (| head) ends the generation, quietly and with exit code 0', async () => {
  await withFake(async (slow) => {
    slow.script({ chunkDelayMs: 200 });
    const pending = example('script', slow.url, ['Tell me a long story']);
    await slow.waitFor((r) => (r[0]?.chunksWritten ?? 0) >= 2, 10_000);
    pending.child.stdout?.destroy();
    const { stderr } = await pending;
    assert.equal(stderr, '');
    await slow.waitFor((r) => r[0]?.closedAt !== undefined, 5000);
    assert.equal(slow.requests[0]?.clientDisconnected, true);
    assert.ok((slow.requests[0]?.pendingChunks ?? 0) > 0, 'the answer was cut short');
  });
});

test('the README shows each of these examples exactly as the file has it, but for the import path', async () => {
  const readme = await readFile(join(root, 'README.md'), 'utf8');
  for (const name of ['models', 'embeddings', 'client', 'chat', 'script', 'lambda']) {
    const source = await readFile(join(root, 'examples', `${name}.ts`), 'utf8');
    const body = source
      .split('\n')
      .filter((_, i, all) => !all.slice(0, i + 1).every((l) => l.startsWith('//')))
      .join('\n')
      .trim();
    // The README imports the package by name; the file imports the sources beside it.
    const shown = body.replace("from '../lib/index.ts'", "from 'ollama-fetch'");
    assert.ok(
      readme.includes('```ts\n' + shown + '\n```'),
      `README block for examples/${name}.ts differs from the file`,
    );
  }
});
