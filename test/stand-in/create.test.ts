// POST /api/create: from an installed model, from a pulled one, from an uploaded GGUF, with
// quantization; its layers, what the new model shows, and every error.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FakeOllama } from '../support/fake-ollama.ts';
import { errorOf, fake, type Json, post, progressOf, send, sha256, statuses } from './helpers.ts';

const TERSE = {
  model: 'alice/terse',
  from: 'llama3.2',
  system: 'Be terse.',
  parameters: { temperature: 0.2 },
  license: ['MIT'],
};

/** Uploads a small GGUF file as a blob; its digest. */
async function uploadGguf(f: FakeOllama): Promise<{ gguf: Buffer; digest: string }> {
  const gguf = Buffer.from('GGUF\x03\x00\x00\x00 a tiny fake model');
  const digest = sha256(gguf);
  assert.equal((await send(f, 'POST', `/api/blobs/${digest}`, gguf)).status, 201);
  return { gguf, digest };
}

// A template no model has yet.
const TEMPLATE = '{{ .System }} {{ .Prompt }}';

/** Creates `imported` from an uploaded GGUF with a template of its own. */
async function createImported(f: FakeOllama): Promise<{ gguf: Buffer; digest: string; lines: Json[] }> {
  const { gguf, digest } = await uploadGguf(f);
  const lines = await progressOf(f, '/api/create', {
    model: 'imported',
    files: { 'model.gguf': digest },
    template: TEMPLATE,
  });
  return { gguf, digest, lines };
}

test('create from a model reuses its weights and template, and writes system, license and parameters', async (t) => {
  const f = await fake(t);
  const notes = statuses(await progressOf(f, '/api/create', TERSE)) as string[];
  assert.deepEqual(notes.slice(-2), ['writing manifest', 'success']);
  assert.match(notes[0] ?? '', /^using existing layer sha256:[0-9a-f]{64}$/, 'the weights');
  assert.equal(notes.filter((s) => s.startsWith('using existing layer ')).length, 2, 'weights and template are reused');
  assert.equal(notes.filter((s) => s.startsWith('creating new layer ')).length, 3, 'system, license, parameters');
});

test('a model created from another is installed', async (t) => {
  const f = await fake(t);
  await progressOf(f, '/api/create', TERSE);
  assert.ok(f.models().includes('alice/terse:latest'));
});

test('a created model shows its system, its parent, the parameters merged and the license added', async (t) => {
  const f = await fake(t);
  await progressOf(f, '/api/create', TERSE);
  const shown = (await (await post(f, '/api/show', { model: 'alice/terse' })).json()) as Json;
  assert.equal(shown['system'], 'Be terse.');
  assert.equal((shown['details'] as Json)['parent_model'], 'llama3.2:latest');
  const parameters = (shown['parameters'] as string).split('\n');
  assert.equal(parameters[0], `${'stop'.padEnd(30)} "<|start_header_id|>"`);
  assert.equal(parameters.at(-1), `${'temperature'.padEnd(30)} 0.2`);
  assert.match(shown['license'] as string, /\nMIT$/);
});

test('creating the same model again finds every layer already there', async (t) => {
  const f = await fake(t);
  await progressOf(f, '/api/create', TERSE);
  const again = statuses(await progressOf(f, '/api/create', TERSE)) as string[];
  assert.ok(again.slice(0, -2).every((s) => s.startsWith('using existing layer ')));
});

test('create from an uploaded GGUF: parsing, the weights reused, a new layer for a new template', async (t) => {
  const f = await fake(t);
  const { digest, lines } = await createImported(f);
  assert.deepEqual(statuses(lines), [
    'parsing GGUF',
    `using existing layer ${digest}`,
    `creating new layer ${sha256(TEMPLATE)}`,
    'writing manifest',
    'success',
  ]);
});

test("a template some model already has (nomic-embed-text's) is a layer that exists", async (t) => {
  const f = await fake(t);
  const { digest } = await uploadGguf(f);
  const reused = statuses(
    await progressOf(f, '/api/create', { model: 'plain', files: { 'm.bin': digest }, template: '{{ .Prompt }}' }),
  );
  assert.match(reused[2] as string, /^using existing layer /);
});

test("an imported model is listed first, its size the GGUF's plus the template's", async (t) => {
  const f = await fake(t);
  const { gguf } = await createImported(f);
  const imported = (await (await fetch(f.url + '/api/tags')).json()) as { models: Json[] };
  assert.equal(imported.models[0]?.['name'], 'imported:latest');
  assert.equal(imported.models[0]?.['size'], gguf.length + TEMPLATE.length);
});

test('quantize converts an F16 model: a quantizing line, then a new weights layer', async (t) => {
  const f = await fake(t);
  await createImported(f);
  const quantized = statuses(
    await progressOf(f, '/api/create', { model: 'imported:q8', from: 'imported', quantize: 'q8_0' }),
  ) as string[];
  assert.equal(quantized[0], 'quantizing F16 model to Q8_0');
  assert.match(quantized[1] ?? '', /^creating new layer /);
});

test('create with stream:false answers the last progress object as a bare application/json', async (t) => {
  const f = await fake(t);
  await createImported(f);
  const single = await post(f, '/api/create', { model: 'imported:again', from: 'imported', stream: false });
  assert.equal(single.headers.get('content-type'), 'application/json');
  assert.equal(await single.text(), '{"status":"success"}');
});

test('a base that is not installed is pulled first, its own success included, and both are installed', async (t) => {
  const f = await fake(t);
  const pulledBase = statuses(
    await progressOf(f, '/api/create', { model: 'chatty', from: 'tinyllama', system: 'Hi.' }, { progressUpdates: 2 }),
  );
  assert.deepEqual(pulledBase.slice(0, 6), [
    'pulling manifest',
    pulledBase[1],
    pulledBase[2],
    'verifying sha256 digest',
    'writing manifest',
    'success',
  ]);
  assert.ok(f.models().includes('tinyllama:latest') && f.models().includes('chatty:latest'));
});

test("a create Ollama would refuse gets Ollama's status, error text and content type", async (t) => {
  const f = await fake(t);
  const { digest } = await createImported(f);
  const before = f.models();
  // Checked before the stream starts: the handler's own JSON error.
  const early: Array<[Json, number, string]> = [
    [{ from: 'llama3.2' }, 400, 'invalid model name'],
    [{ model: 'bad name!', from: 'llama3.2' }, 400, 'invalid model name'],
    [{ model: 'm', files: { 'model.gguf': '' } }, 400, 'invalid digest format'],
    [{ model: 'm', files: { 'model.gguf': 'sha256:xyz' } }, 400, 'invalid digest format'],
    [
      { model: 'm', files: { 'model.gguf': 7 } },
      400,
      'json: cannot unmarshal number into Go struct field CreateRequest.files of type string',
    ],
  ];
  for (const [body, status, error] of early) await errorOf(await post(f, '/api/create', body), status, error);
  // Found once the stream has started, before any line went out: a bare application/json.
  const late: Array<[Json, number, string]> = [
    [{ model: 'm' }, 400, "neither 'from' or 'files' was specified"],
    [{ model: 'm', from: 'bad name!' }, 400, 'invalid model name'],
    [{ model: 'm', files: { 'notes.txt': digest } }, 400, 'unknown type'],
    [
      { model: 'm', from: 'llama3.2', quantize: 'q4_k_m' },
      500,
      'quantization is only supported for F16 and F32 models',
    ],
    [
      { model: 'm', from: 'imported', quantize: 'q2_k' },
      500,
      'unsupported quantization type Q2_K - supported types are F32, F16, Q4_K_S, Q4_K_M, Q8_0',
    ],
  ];
  for (const [body, status, error] of late)
    await errorOf(await post(f, '/api/create', body), status, error, 'application/json');
  assert.deepEqual(f.models(), before);
});

test('a GGUF that was never uploaded: the error in-band, naming the blob file', async (t) => {
  const f = await fake(t);
  const absent = '0'.repeat(64);
  assert.deepEqual(await progressOf(f, '/api/create', { model: 'm', files: { 'model.gguf': `sha256:${absent}` } }), [
    { status: 'parsing GGUF' },
    { error: `open /usr/share/ollama/.ollama/models/blobs/sha256-${absent}: no such file or directory` },
  ]);
});

/** Uploads a blob that is not a GGUF file; its digest. */
async function uploadText(f: FakeOllama): Promise<string> {
  const text = Buffer.from('not a gguf file');
  const textDigest = sha256(text);
  assert.equal((await send(f, 'POST', `/api/blobs/${textDigest}`, text)).status, 201);
  return textDigest;
}

test('an uploaded file that is not GGUF is refused in-band', async (t) => {
  const f = await fake(t);
  const textDigest = await uploadText(f);
  assert.deepEqual(await progressOf(f, '/api/create', { model: 'm', files: { 'model.gguf': textDigest } }), [
    { status: 'parsing GGUF' },
    { error: 'supplied file was not in GGUF format' },
  ]);
});

test('an uploaded file that is not GGUF, with stream:false, is a 400', async (t) => {
  const f = await fake(t);
  const textDigest = await uploadText(f);
  await errorOf(
    await post(f, '/api/create', { model: 'm', files: { 'model.gguf': textDigest }, stream: false }),
    400,
    'supplied file was not in GGUF format',
    'application/json',
  );
});

test('a base the registry lacks: pulling manifest, then the error in-band, and nothing installed', async (t) => {
  const f = await fake(t);
  assert.deepEqual(await progressOf(f, '/api/create', { model: 'm', from: 'ghost' }), [
    { status: 'pulling manifest' },
    { error: 'pull model manifest: file does not exist' },
  ]);
  assert.ok(!f.models().includes('m:latest'));
});

test('a create broken by a reset installs nothing', async (t) => {
  const f = await fake(t);
  const cut = await post(f, '/api/create', { model: 'late', from: 'llama3.2' }, { resetAfter: 1 });
  await assert.rejects(cut.text());
  await f.waitFor((r) => r.every((x) => x.closedAt !== undefined), 3000);
  assert.ok(!f.models().includes('late:latest'));
});

test('omitDone ends a create after writing manifest', async (t) => {
  const f = await fake(t);
  const noDone = await progressOf(
    f,
    '/api/create',
    { model: 'quiet', from: 'llama3.2' },
    { omitDone: true, chunkDelayMs: 5 },
  );
  assert.equal(noDone.at(-1)?.['status'], 'writing manifest');
});
