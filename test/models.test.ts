// The model-management calls against the stand-in: each one's success, and its documented errors.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { copyModel, deleteModel, isRunning, listModels, listRunning, showModel, version } from '../lib/index.ts';
import { failsWith } from './support/assertions.ts';
import { startFakeOllama, statusReply } from './support/fake-ollama.ts';
import { withFake } from './support/with-fake.ts';

describe('model management', { concurrency: true }, () => {
  test('listModels: GET /api/tags, the installed models as Ollama lists them', () =>
    withFake(async (fake) => {
      const { models } = await listModels({ host: fake.url });
      assert.ok(models.length >= 3);
      const llama = models.find((m) => m.name === 'llama3.2:latest');
      assert.equal(llama?.details.family, 'llama');
      assert.match(llama?.digest ?? '', /^[0-9a-f]{64}$/);
      assert.equal(fake.requests[0]?.method, 'GET');
    }));

  test('listRunning: GET /api/ps, with expires_at and size_vram', () =>
    withFake(async (fake) => {
      const { models } = await listRunning({ host: fake.url });
      assert.ok(models.length >= 1);
      for (const model of models) {
        assert.equal(typeof model.expires_at, 'string');
        assert.equal(typeof model.size_vram, 'number');
      }
    }));

  test('version: GET /api/version', () =>
    withFake(async (fake) => {
      assert.deepEqual(await version({ host: fake.url }), { version: '0.12.0' });
    }));

  test('showModel: details and model_info; verbose asks for the large arrays', () =>
    withFake(async (fake) => {
      const plain = await showModel({ model: 'llama3.2' }, { host: fake.url });
      assert.equal(plain.details?.family, 'llama');
      assert.equal(typeof plain.model_info, 'object');
      assert.ok(plain.capabilities?.includes('completion'));
      const verbose = await showModel({ model: 'llama3.2', verbose: true }, { host: fake.url });
      assert.ok(Object.keys(verbose.model_info ?? {}).length > Object.keys(plain.model_info ?? {}).length);
      assert.deepEqual(
        fake.requests.map((r) => r.body),
        [{ model: 'llama3.2' }, { model: 'llama3.2', verbose: true }],
      );
    }));

  test('showModel of an unknown model: http 404 with the pull advice', () =>
    withFake(async (fake) => {
      await assert.rejects(
        showModel({ model: 'llama9' }, { host: fake.url }),
        failsWith('http', (error) => {
          assert.equal(error.status, 404);
          assert.match(error.message, /model 'llama9' not found/);
          assert.match(error.message, /ollama pull llama9/);
          assert.equal(error.attempts, 1);
        }),
      );
    }));

  test('copyModel then deleteModel: empty 200 bodies, and the listing follows', () =>
    withFake(async (fake) => {
      assert.equal(await copyModel({ source: 'llama3.2', destination: 'llama-copy' }, { host: fake.url }), undefined);
      assert.ok((await listModels({ host: fake.url })).models.some((m) => m.name === 'llama-copy:latest'));
      assert.equal(await deleteModel({ model: 'llama-copy' }, { host: fake.url }), undefined);
      assert.ok(!(await listModels({ host: fake.url })).models.some((m) => m.name === 'llama-copy:latest'));
      const del = fake.requests.find((r) => r.path === '/api/delete');
      assert.equal(del?.method, 'DELETE');
      assert.deepEqual(del?.body, { model: 'llama-copy' });
    }));

  test("copyModel of an unknown source: http 404, the server's double-quoted text", () =>
    withFake(async (fake) => {
      await assert.rejects(
        copyModel({ source: 'ghost', destination: 'x' }, { host: fake.url }),
        failsWith('http', (error) => {
          assert.equal(error.status, 404);
          assert.match(error.message, /model "ghost" not found/);
        }),
      );
    }));

  test('copyModel to an invalid name: http 400', () =>
    withFake(async (fake) => {
      await assert.rejects(
        copyModel({ source: 'llama3.2', destination: 'bad name!' }, { host: fake.url }),
        failsWith('http', (error) => {
          assert.equal(error.status, 400);
          assert.match(error.message, /destination "bad name!" is invalid/);
        }),
      );
    }));

  test('deleteModel of a model that is not there: 404 saying nothing was deleted, not to pull it', () =>
    withFake(async (fake) => {
      await assert.rejects(
        deleteModel({ model: 'ghost' }, { host: fake.url }),
        failsWith('http', (error) => {
          assert.equal(error.status, 404);
          assert.match(error.message, /model 'ghost' not found/);
          assert.match(error.message, /nothing was deleted/);
          assert.doesNotMatch(error.message, /ollama pull/);
        }),
      );
    }));

  test('deleteModel of an invalid name: http 400', () =>
    withFake(async (fake) => {
      await assert.rejects(
        deleteModel({ model: 'bad name!' }, { host: fake.url }),
        failsWith('http', (error) => {
          assert.equal(error.status, 400);
          assert.match(error.message, /name "bad name!" is invalid/);
        }),
      );
    }));

  test('requests without a model or with the wrong shape are refused before sending', () =>
    withFake(async (fake) => {
      const host = fake.url;
      await assert.rejects(showModel({ model: '' }, { host }), /showModel: request\.model/);
      await assert.rejects(deleteModel({} as never, { host }), /deleteModel: request\.model/);
      await assert.rejects(copyModel({ source: 'llama3.2' } as never, { host }), /copyModel: request\.destination/);
      await assert.rejects(copyModel(null as never, { host }), /copyModel: request\.source/);
      assert.equal(fake.requests.length, 0);
    }));

  test('a 503 with Retry-After is retried for these calls too', () =>
    withFake(async (fake) => {
      fake.script(statusReply(503, '0'));
      await copyModel({ source: 'llama3.2', destination: 'twice' }, { host: fake.url });
      assert.equal(fake.requests.length, 2);
    }));

  test('a 200 that is not Ollama\'s (no "models" field) is a protocol error, not an empty list', () =>
    withFake(async (fake) => {
      const headers = {
        'x-fake-behaviour': JSON.stringify({
          respond: { status: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' },
        }),
      };
      await assert.rejects(
        listModels({ host: fake.url, headers }),
        failsWith('protocol', (error) => {
          assert.match(error.message, /no "models" field/);
        }),
      );
    }));
});

describe('isRunning', { concurrency: true }, () => {
  test('true when Ollama answers', () =>
    withFake(async (fake) => {
      assert.equal(await isRunning({ host: fake.url }), true);
      assert.equal(fake.requests[0]?.path, '/');
    }));

  test('false, not a throw, for a refused connection, after one attempt only', async () => {
    const fake = await startFakeOllama();
    await fake.close();
    const started = performance.now();
    assert.equal(await isRunning({ host: fake.url }), false);
    assert.ok(performance.now() - started < 1000, 'no backoff waits for a probe');
  });

  test('false for a server that says something other than Ollama does', () =>
    withFake(async (fake) => {
      const other = { 'x-fake-behaviour': JSON.stringify({ respond: { status: 200, body: 'Welcome to nginx' } }) };
      assert.equal(await isRunning({ host: fake.url, headers: other }), false);
    }));

  test('false for something on the port that does not speak HTTP (an SSH banner)', () =>
    withFake(async (fake) => {
      const ssh = {
        'x-fake-behaviour': JSON.stringify({ raw: [{ write: 'SSH-2.0-OpenSSH_9.6\r\n' }, { close: true }] }),
      };
      assert.equal(await isRunning({ host: fake.url, headers: ssh }), false);
    }));

  test('false when the server stays silent past readTimeout', () =>
    withFake(async (fake) => {
      const silent = { 'x-fake-behaviour': JSON.stringify({ headersDelayMs: 5000 }) };
      assert.equal(await isRunning({ host: fake.url, headers: silent, readTimeout: 300 }), false);
    }));

  test('an HTTP error status is thrown: something answered, and its reason matters', () =>
    withFake(async (fake) => {
      const denied = { 'x-fake-behaviour': JSON.stringify(statusReply(401, undefined, 'unauthorized')) };
      await assert.rejects(
        isRunning({ host: fake.url, headers: denied }),
        failsWith('http', (error) => assert.equal(error.status, 401)),
      );
    }));

  test("an abort rejects with the signal's reason", () =>
    withFake(async (fake) => {
      const reason = new Error('stop');
      await assert.rejects(
        isRunning({ host: fake.url, signal: AbortSignal.abort(reason) }),
        (error) => error === reason,
      );
    }));
});
