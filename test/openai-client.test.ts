// Requirements 6 and 7 and the rest of the surface: embeddings (batches, base64), the model
// listing (`data: null` → []), and createOpenAI shaped like openai-node's client.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  type ChatCompletionChunk,
  createOpenAI,
  embeddings,
  listModels,
  type OpenAIClient,
  retrieveModel,
} from '../lib/openai/index.ts';
import { failsWith } from './support/assertions.ts';
import { type FakeOllama, startFakeOllama } from './support/fake-ollama.ts';
import { v1 } from './support/v1.ts';

let fake: FakeOllama;
before(async () => {
  fake = await startFakeOllama();
});
after(() => fake.close());

const tagged = (tag: string) => fake.requests.filter((r) => r.headers['x-fake-behaviour']?.includes(tag));

test('embeddings: a string or a string[], one vector of numbers per input, in order', async () => {
  const one = await embeddings({ model: 'nomic-embed-text', input: 'alpha' }, v1(fake));
  assert.equal(one.data.length, 1);
  assert.ok(Array.isArray(one.data[0]?.embedding) && (one.data[0].embedding as number[]).every(Number.isFinite));
  const many = await embeddings({ model: 'nomic-embed-text', input: ['beta', 'alpha'] }, v1(fake));
  assert.deepEqual(many.data[1]?.embedding, one.data[0]?.embedding);
  assert.deepEqual(
    many.data.map((d) => d.index),
    [0, 1],
  );
  await assert.rejects(embeddings({ model: 'nomic-embed-text', input: [1, 2] as never }, v1(fake)), TypeError);
});

test('embeddings: base64 asked for is base64 given; base64 sent unasked becomes the same float32 numbers', async () => {
  const floats = await embeddings({ model: 'nomic-embed-text', input: ['a', 'b'] }, v1(fake));
  const asked = await embeddings({ model: 'nomic-embed-text', input: ['a', 'b'], encoding_format: 'base64' }, v1(fake));
  assert.equal(typeof asked.data[0]?.embedding, 'string');
  // A server that answers base64 though floats were wanted: decoded to the very same values.
  const respond = { status: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(asked) };
  const decoded = await embeddings({ model: 'nomic-embed-text', input: ['a', 'b'] }, v1(fake, { respond }));
  assert.deepEqual(decoded.data, floats.data);
});

test('embeddings: a long input goes in batches, indexed and counted as one answer; a missing vector is a protocol error', async () => {
  const tag = `batch-${Math.random()}`;
  const input = Array.from({ length: 7 }, (_, i) => `text ${i}`);
  const whole = await embeddings({ model: 'nomic-embed-text', input }, v1(fake));
  const batched = await embeddings(
    { model: 'nomic-embed-text', input },
    { ...v1(fake, { tag }), batchSize: 3, concurrency: 2 },
  );
  assert.equal(tagged(tag).length, 3);
  assert.deepEqual(batched.data, whole.data);
  assert.equal(batched.usage?.prompt_tokens, whole.usage?.prompt_tokens);
  await assert.rejects(
    embeddings({ model: 'nomic-embed-text', input: ['a', 'b'] }, v1(fake, { dropVectors: 1 })),
    failsWith('protocol', (e) => assert.match(e.message, /sent 2 input\(s\) and answered with 1 vector/)),
  );
});

test('models: the listing, data null becomes [], one model by id, and a 404 for an unknown one', async () => {
  const list = await listModels(v1(fake));
  assert.ok(list.data.some((m) => m.id === 'llama3.2:latest' && m.object === 'model' && m.owned_by === 'library'));
  const empty = await listModels(v1(fake, { noModels: true }));
  assert.deepEqual(empty.data, []);
  const model = await retrieveModel('llama3.2:latest', v1(fake));
  assert.equal(model.id, 'llama3.2:latest');
  await assert.rejects(
    retrieveModel('missing', v1(fake)),
    failsWith('http', (e) => assert.equal(e.status, 404)),
  );
  await assert.rejects(retrieveModel('', v1(fake)), TypeError);
});

test('createOpenAI: the shape of openai-node — chat.completions.create (stream or not), completions, embeddings, models', async () => {
  const tag = `client-${Math.random()}`;
  const client: OpenAIClient = createOpenAI({
    baseURL: `${fake.url}/v1`,
    apiKey: 'sk-x',
    headers: { 'x-fake-behaviour': JSON.stringify({ tag }) },
  });
  const answer = await client.chat.completions.create({
    model: 'llama3.2',
    messages: [{ role: 'user', content: 'Hi' }],
  });
  assert.equal(answer.choices[0]?.message.content, 'Hello from the stand-in.');
  // As openai-node code writes it: await the create, then iterate.
  const stream = await client.chat.completions.create({
    model: 'llama3.2',
    messages: [{ role: 'user', content: 'Hi' }],
    stream: true,
  });
  let text = '';
  for await (const chunk of stream as AsyncIterable<ChatCompletionChunk>)
    text += chunk.choices[0]?.delta?.content ?? '';
  assert.equal(text, 'Hello from the stand-in.');
  const completion = await client.completions.create({ model: 'llama3.2', prompt: 'Once' });
  assert.equal(completion.object, 'text_completion');
  let streamed = '';
  for await (const chunk of client.completions.create({ model: 'llama3.2', prompt: 'Once', stream: true }))
    streamed += chunk.choices[0]?.text ?? '';
  assert.equal(streamed, completion.choices[0]?.text);
  const vectors = await client.embeddings.create({ model: 'nomic-embed-text', input: 'x' });
  assert.equal(vectors.data.length, 1);
  assert.ok((await client.models.list()).data.length > 0);
  assert.equal((await client.models.retrieve('llama3.2:latest')).id, 'llama3.2:latest');
  const seen = tagged(tag);
  assert.equal(seen.length, 7);
  assert.ok(seen.every((r) => r.headers.authorization === 'Bearer sk-x'));
  // Per-call options merge over the defaults, headers by name.
  await client.models.list({ headers: { 'x-extra': '1' } });
  assert.equal(tagged(tag).at(-1)?.headers['x-extra'], '1');
  assert.throws(() => createOpenAI(null as never), TypeError);
});
