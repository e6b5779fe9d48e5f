// JSON as the Go server reads and writes it: gin's decoder and Go's unmarshal errors for a request
// body, the bytes after the first value ignored, and Go's escaping in what it writes.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fake, type Json, JSON_UTF8, message, post, userSays } from './helpers.ts';

test("a body Go cannot decode or bind is a 400 with Go's wording", async (t) => {
  const f = await fake(t);
  const cases: Array<[string, string, string]> = [
    ['/api/chat', '', 'missing request body'],
    ['/api/generate', '  \n', 'missing request body'],
    ['/api/chat', 'xyz', "invalid character 'x' looking for beginning of value"],
    ['/api/chat', '{"model":', 'unexpected EOF'],
    ['/api/chat', '{"model" "x"}', "invalid character '\"' after object key"],
    ['/api/chat', '{"model":1}', 'json: cannot unmarshal number into Go struct field ChatRequest.model of type string'],
    ['/api/chat', '{"model":"qwen3","keep_alive":"300"}', 'time: missing unit in duration "300"'],
    [
      '/api/chat',
      '{"model":"qwen3","think":"hard"}',
      'invalid think value: "hard" (must be "high", "medium", "low", "max", true, or false)',
    ],
  ];
  for (const [path, body, error] of cases) {
    const res = await post(f, path, body);
    assert.equal(res.status, 400, `${path} ${body}`);
    assert.equal(res.headers.get('content-type'), JSON_UTF8);
    assert.deepEqual(await res.json(), { error }, `${path} ${body}`);
  }
});

test("bytes after the first JSON value are ignored, as gin's decoder stops there", async (t) => {
  const f = await fake(t);
  assert.equal((await post(f, '/api/chat', '{"model":"llama3.2"} trailing')).status, 200);
});

test('<, > and & are written \\u-escaped, the way Go escapes them', async (t) => {
  const f = await fake(t);
  const res = await post(f, '/api/chat', { model: 'llama3.2', stream: false, messages: userSays('<a> & <b>') });
  const text = await res.text();
  assert.ok(text.includes('\\u003ca\\u003e \\u0026 \\u003cb\\u003e'), text);
  assert.ok(!/[<>&]/.test(text));
  assert.equal(message(JSON.parse(text) as Json)['content'], 'You said: <a> & <b>. é 漢字 🦙 done');
});
