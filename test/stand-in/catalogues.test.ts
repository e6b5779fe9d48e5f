// The stand-in's other catalogues (test/support/fake-ollama/catalogues.ts), seen over plain HTTP as a
// client sees them: what /api/tags lists first, what /api/show says it can do, and what a chat
// with an embedding model answers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startFakeOllama } from '../support/fake-ollama.ts';

async function post(url: string, body: object): Promise<Response> {
  return fetch(url, { method: 'POST', body: JSON.stringify(body) });
}

test('embedding-first: all-minilm is the newest model, only embeds, and refuses to chat', async () => {
  const f = await startFakeOllama({ catalogue: 'embedding-first' });
  try {
    const { models } = (await (await fetch(`${f.url}/api/tags`)).json()) as { models: Array<{ name: string }> };
    assert.deepEqual(
      models.map((m) => m.name),
      ['all-minilm:latest', 'llama3.2:latest', 'qwen3:latest', 'nomic-embed-text:latest'],
    );
    const shown = (await (await post(`${f.url}/api/show`, { model: 'all-minilm' })).json()) as {
      capabilities: string[];
    };
    assert.deepEqual(shown.capabilities, ['embedding']);
    const refused = await post(`${f.url}/api/chat`, { model: 'all-minilm', messages: [], stream: false });
    assert.equal(refused.status, 400);
    assert.match(await refused.text(), /does not support chat/);
    const embedded = await post(`${f.url}/api/embed`, { model: 'all-minilm', input: 'x' });
    assert.equal(embedded.status, 200);
  } finally {
    await f.close();
  }
});

test('embeddings-only: no installed model has the completion capability, and none is running', async () => {
  const f = await startFakeOllama({ catalogue: 'embeddings-only' });
  try {
    assert.deepEqual(f.models(), ['all-minilm:latest', 'nomic-embed-text:latest']);
    for (const model of f.models()) {
      const shown = (await (await post(`${f.url}/api/show`, { model })).json()) as { capabilities: string[] };
      assert.ok(!shown.capabilities.includes('completion'), `${model}: ${shown.capabilities.join(', ')}`);
    }
    const ps = (await (await fetch(`${f.url}/api/ps`)).json()) as { models: unknown[] };
    assert.deepEqual(ps.models, []);
  } finally {
    await f.close();
  }
});

test('the default catalogue is unchanged: llama3.2 first', async () => {
  const f = await startFakeOllama();
  try {
    assert.deepEqual(f.models(), ['llama3.2:latest', 'qwen3:latest', 'nomic-embed-text:latest']);
  } finally {
    await f.close();
  }
});
