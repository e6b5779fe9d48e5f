// The examples of the compat, web search and tool loop sections (README material for issue 16),
// each run as a process against the stand-in, as a user would run it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type FakeOllama, startFakeOllama } from './support/fake-ollama.ts';

const run = promisify(execFile);
const examples = join(dirname(fileURLToPath(import.meta.url)), '..', 'examples');
const root = join(examples, '..', '..');
const KEY = 'example-key';

let fake: FakeOllama;
before(async () => {
  fake = await startFakeOllama();
});
after(() => fake.close());

function example(name: string, env: Record<string, string>, args: string[] = []) {
  const base: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const unset of ['OLLAMA_MODEL', ...(env.OLLAMA_API_KEY === undefined ? ['OLLAMA_API_KEY'] : [])])
    delete base[unset];
  return run(process.execPath, [join(examples, `${name}.js`), ...args], { env: base, timeout: 30_000 });
}

test('compat example: ollama-js code with one import changed streams, reads ResponseError fields, aborts', async () => {
  const mark = fake.requests.length;
  // The chat and the show answer at once; the story is slow, so abort() finds it running.
  fake.script({}, {}, { headersDelayMs: 10_000 });
  const { stdout, stderr } = await example('compat', { OLLAMA_HOST: fake.url });
  assert.equal(stderr, '');
  assert.deepEqual(stdout.split('\n'), [
    'You said: Why is the sky blue?. é 漢字 🦙 done',
    "show: 404 model 'no-such-model' not found",
    'generate: AbortError',
    '',
  ]);
  const sent = fake.requests.slice(mark);
  assert.deepEqual(
    sent.map((r) => r.path),
    ['/api/chat', '/api/show', '/api/generate'],
  );
  assert.equal(sent[2]?.clientDisconnected, true, 'the aborted generate closed its connection');
});

test('web search example: three results and the first page, with the key sent', async () => {
  const mark = fake.requests.length;
  const { stdout } = await example('web-search', { WEB_HOST: fake.url, OLLAMA_API_KEY: KEY }, ['llama', 'care']);
  const lines = stdout.trim().split('\n');
  assert.equal(lines[0], 'Result 1 for llama care');
  assert.equal(lines[1], '  https://example.com/1?q=llama%20care');
  assert.equal(lines.filter((line) => line.startsWith('Result ')).length, 3);
  assert.match(lines.at(-1) ?? '', /^The page at https:\/\/example\.com\/1\?q=llama%20care: \d+ characters, 2 links$/);
  const sent = fake.requests.slice(mark);
  assert.deepEqual(
    sent.map((r) => [r.path, r.body]),
    [
      ['/api/web_search', { query: 'llama care', max_results: 3 }],
      ['/api/web_fetch', { url: 'https://example.com/1?q=llama%20care' }],
    ],
  );
  for (const request of sent) assert.equal(request.headers.authorization, `Bearer ${KEY}`);
});

test('web search example: without a key it fails before sending anything', async () => {
  const mark = fake.requests.length;
  await assert.rejects(example('web-search', { WEB_HOST: fake.url }), (error: { code?: number; stderr?: string }) => {
    assert.equal(error.code, 1);
    assert.match(error.stderr ?? '', /no API key/);
    return true;
  });
  assert.equal(fake.requests.length, mark);
});

test('tool loop example: the model searches, counts, then answers; every step is printed', async () => {
  const mark = fake.requests.length;
  fake.script(
    { tokens: [], toolCalls: [{ name: 'web_search', arguments: { query: 'ollama news' } }] },
    {}, // the web search itself
    { tokens: [], toolCalls: [{ name: 'word_count', arguments: { text: 'one two three' } }] },
    { toolCallCount: 0, tokens: ['Ollama', ' shipped', ' web search.'] },
  );
  const { stdout } = await example('tools', { OLLAMA_HOST: fake.url, WEB_HOST: fake.url, OLLAMA_API_KEY: KEY });
  assert.deepEqual(stdout.split('\n'), [
    '[calling web_search]',
    '[web_search: [{"title":"Result 1 for ollama news","url":"https://example.]',
    '[calling word_count]',
    '[word_count: 3]',
    'Ollama shipped web search.',
    '(3 rounds, 6 messages)',
    '',
  ]);
  assert.deepEqual(
    fake.requests.slice(mark).map((r) => r.path),
    ['/api/chat', '/api/web_search', '/api/chat', '/api/chat'],
  );
});

test('README: the compat, web search, tool loop and /v1 examples appear exactly as the files have them', async () => {
  const readme = await readFile(join(root, 'README.md'), 'utf8');
  for (const [name, from, to] of [
    ['compat', '../lib/compat/index.ts', 'ollama-fetch/compat'],
    ['web-search', '../lib/index.ts', 'ollama-fetch'],
    ['tools', '../lib/tools/index.ts', 'ollama-fetch/tools'],
    ['openai', '../lib/openai/index.ts', 'ollama-fetch/openai'],
    ['openai-hosted', '../lib/openai/index.ts', 'ollama-fetch/openai'],
  ] as const) {
    const source = await readFile(join(root, 'examples', `${name}.ts`), 'utf8');
    const body = source
      .split('\n')
      .filter((_, i, all) => !all.slice(0, i + 1).every((l) => l.startsWith('//')))
      .join('\n')
      .trim()
      .replace(`from '${from}'`, `from '${to}'`);
    assert.ok(
      readme.includes('```ts\n' + body + '\n```'),
      `README block for examples/${name}.ts differs from the file`,
    );
  }
});
