// The stand-in's two knobs for issue 16: scripted tool calls (`toolCalls`), and ollama.com's web
// API on /api/web_search and /api/web_fetch (fake-ollama/web.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { behaviourHeader } from '../support/fake-ollama.ts';
import { withFake } from '../support/with-fake.ts';

const chat = { model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] };

test('toolCalls: exactly the scripted calls, with their arguments, streamed and not', async () => {
  await withFake(async (fake) => {
    const toolCalls = [{ name: 'lookup', arguments: { id: 7 } }, { name: 'nowhere' }];
    const whole = await fetch(`${fake.url}/api/chat`, {
      method: 'POST',
      headers: behaviourHeader({ toolCalls }),
      body: JSON.stringify({ ...chat, stream: false, tools: [{ type: 'function', function: { name: 'x' } }] }),
    });
    const answer = (await whole.json()) as { message: { tool_calls: Array<{ id: string; function: unknown }> } };
    assert.deepEqual(
      answer.message.tool_calls.map((call) => call.function),
      [
        { index: 0, name: 'lookup', arguments: { id: 7 } },
        { index: 1, name: 'nowhere', arguments: {} },
      ],
    );
    assert.match(answer.message.tool_calls[0]?.id ?? '', /^call_[a-z0-9]{8}$/);
    const streamed = await fetch(`${fake.url}/api/chat`, {
      method: 'POST',
      headers: behaviourHeader({ toolCalls: [{ name: 'lookup' }] }),
      body: JSON.stringify(chat),
    });
    const lines = (await streamed.text()).trim().split('\n');
    assert.equal(lines.filter((line) => line.includes('"tool_calls"')).length, 1);
  });
});

test('web API: POST only, a Bearer key, and the scripted faults apply', async () => {
  await withFake(async (fake) => {
    assert.equal((await fetch(`${fake.url}/api/web_search`)).status, 405);
    const headers = { authorization: 'Bearer k' };
    const fetched = await fetch(`${fake.url}/api/web_fetch`, {
      method: 'POST',
      headers,
      body: '{"url":"https://a.test"}',
    });
    assert.deepEqual(Object.keys((await fetched.json()) as object), ['title', 'content', 'links']);
    const missing = await fetch(`${fake.url}/api/web_search`, { method: 'POST', headers, body: '{}' });
    assert.equal(missing.status, 400);
    const busy = await fetch(`${fake.url}/api/web_search`, {
      method: 'POST',
      headers: { ...headers, ...behaviourHeader({ respond: { status: 503, body: '{"error":"busy"}' } }) },
      body: '{"query":"q"}',
    });
    assert.equal(busy.status, 503);
    assert.equal(fake.requests.length, 4);
  });
});
