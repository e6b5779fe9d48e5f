// Issue 12 item 12: a request JSON cannot carry is a TypeError naming the call and the field,
// before any request; and the body is serialised once per call, not once per attempt. On the old
// code a BigInt threw the runtime's "Do not know how to serialize a BigInt" at the first attempt,
// and toJSON ran once per attempt (3 here).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type ChatRequest,
  chat,
  chatStream,
  createModel,
  embed,
  generate,
  pullModel,
  showModel,
} from '../lib/index.ts';
import { requestJson } from '../lib/internal/serialise.ts';
import { statusReply } from './support/fake-ollama.ts';
import { withFake } from './support/with-fake.ts';

const hello: ChatRequest = { model: 'llama3.2', messages: [{ role: 'user', content: 'Hi there, llama' }] };

function refused(pattern: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof TypeError, `expected a TypeError, got ${String(error)}`);
    assert.match(error.message, pattern);
    return true;
  };
}

test('a BigInt or a cycle: a TypeError naming the call and the path of the field, before any request', () =>
  withFake(async (fake) => {
    const host = fake.url;
    await assert.rejects(
      chat({ ...hello, options: { seed: 42n as unknown as number } }, { host }),
      refused(/^chat: request\.options\.seed is a BigInt, which cannot be sent as JSON\. Nothing was sent\.$/),
    );
    const looped: Record<string, unknown> = { role: 'user', content: 'x' };
    looped.self = { again: looped };
    await assert.rejects(
      chat({ model: 'llama3.2', messages: [looped as never] }, { host }),
      refused(/^chat: request\.messages\[0\]\.self\.again refers back to request\.messages\[0\] \(a cycle\)/),
    );
    assert.throws(
      () => chatStream({ ...hello, options: { num_ctx: 8n as never } }, { host }),
      refused(/^chatStream: request\.options\.num_ctx is a BigInt/),
    );
    await assert.rejects(
      generate({ model: 'llama3.2', prompt: 'p', format: { properties: { 'my-field': { default: 1n } } } }, { host }),
      refused(/^generate: request\.format\.properties\["my-field"\]\.default is a BigInt/),
    );
    await assert.rejects(
      embed({ model: 'all-minilm', input: ['a', 'b', 'c'], options: { seed: 1n as never } }, { host, batchSize: 1 }),
      refused(/^embed: request\.options\.seed is a BigInt/),
    );
    await assert.rejects(
      showModel({ model: 'llama3.2', options: { num_ctx: 1n as never } }, { host }),
      refused(/^showModel: request\.options\.num_ctx is a BigInt/),
    );
    await assert.rejects(
      pullModel({ model: 'llama3.2', insecure: 1n as never }, { host }),
      refused(/^pullModel: request\.insecure is a BigInt/),
    );
    const when = { toJSON: () => ({ at: 2n }) };
    await assert.rejects(
      createModel({ model: 'x', parameters: { list: [0, when] } }, { host }),
      refused(/^createModel: request\.parameters\.list\[1\]\.at is a BigInt/),
    );
    assert.equal(fake.requests.length, 0, 'nothing was sent');
  }));

test('nesting too deep for the stack is a TypeError naming the call, not a RangeError', () => {
  let deep: Record<string, unknown> = {};
  const root = deep;
  for (let i = 0; i < 100_000; i++) {
    const next = {};
    deep.a = next;
    deep = next;
  }
  assert.throws(
    () => requestJson('chat', { model: 'm', format: root }),
    refused(/^chat: the request cannot be sent as JSON/),
  );
});

test('the same object twice is not a cycle; a Date goes as its toJSON; undefined fields are left out', () => {
  const schema = { type: 'string' };
  const text = requestJson('chat', { a: schema, b: [schema, schema], when: new Date(0), skip: undefined });
  assert.equal(
    text,
    '{"a":{"type":"string"},"b":[{"type":"string"},{"type":"string"}],"when":"1970-01-01T00:00:00.000Z"}',
  );
});

test('the body is serialised once per call: three attempts send the same bytes and toJSON runs once', () =>
  withFake(async (fake) => {
    let serialised = 0;
    const options = {
      toJSON() {
        serialised++;
        return { seed: 7 };
      },
    };
    fake.script(statusReply(503, '0'), statusReply(503, '0'), {});
    const reply = await chat({ ...hello, options: options as never }, { host: fake.url });
    assert.equal(reply.done, true);
    assert.equal(fake.requests.length, 3);
    assert.equal(serialised, 1);
    const bodies = new Set(fake.requests.map((r) => r.rawBody.toString('utf8')));
    assert.equal(bodies.size, 1);
    assert.deepEqual((fake.requests[0]!.body as { options: unknown }).options, { seed: 7 });
  }));
