// Requirements 2, 3 and 8 of the /v1 client: the folded answer equals the server's own
// `stream: false` answer; a stream never ends in silence; the stand-in speaks each dialect.
import assert from 'node:assert/strict';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import {
  type ChatCompletionChunk,
  type ChatCompletionRequest,
  chatCompletions,
  chatCompletionsStream,
  completions,
  completionsStream,
  isOllamaError,
} from '../lib/openai/index.ts';
import { failsWith } from './support/assertions.ts';
import { type FakeOllama, startFakeOllama } from './support/fake-ollama.ts';
import type { Dialect } from './support/fake-ollama/v1.ts';
import { drain, v1 } from './support/v1.ts';
import { V1_FIXTURES } from './support/v1-fixtures.ts';

let fake: FakeOllama;
before(async () => {
  fake = await startFakeOllama();
});
after(() => fake.close());

const hello: ChatCompletionRequest = { model: 'llama3.2', messages: [{ role: 'user', content: 'Hi' }] };
const weather = {
  type: 'function' as const,
  function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
};

/** The server's own non-stream answer, asked with plain fetch. */
async function serverAnswer(path: string, body: object, behaviour: object = {}): Promise<unknown> {
  const response = await fetch(`${fake.url}/v1${path}`, {
    method: 'POST',
    headers: { 'x-fake-behaviour': JSON.stringify(behaviour) },
    body: JSON.stringify({ ...body, stream: false }),
  });
  assert.equal(response.status, 200);
  return response.json();
}

for (const fixture of V1_FIXTURES) {
  test(`fold: ${fixture.name} — chatCompletions equals the server's stream:false answer`, async () => {
    const request: ChatCompletionRequest = { model: 'qwen3', messages: [{ role: 'user', content: 'x' }] };
    const folded = await chatCompletions(request, v1(fake, { fixture: fixture.name }));
    assert.deepEqual(folded, fixture.answer);
    assert.deepEqual(await serverAnswer('/chat/completions', request, { fixture: fixture.name }), fixture.answer);
    // And stream:false is sent as it is, returning the server's own object.
    const direct = await chatCompletions({ ...request, stream: false }, v1(fake, { fixture: fixture.name }));
    assert.deepEqual(direct, fixture.answer);
  });
}

// A server that refuses what the library adds to fold the answer (Azure's "Unrecognized request
// argument supplied: stream_options", a model that cannot stream), or that ignores `stream` and
// answers the whole object: openai-node's plain request works there, and so does this now. They
// were a 400 whose advice named a field the caller never sent, and a protocol error that threw the
// whole answer away.
const wholeAnswer = {
  id: 'c-1',
  object: 'chat.completion',
  created: 1,
  model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: 'whole answer' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
};
const asJson = (status: number, body: unknown) => ({
  respond: { status, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) },
});

for (const [what, refusal] of [
  [
    'stream_options',
    {
      error: {
        message: 'Unrecognized request argument supplied: stream_options',
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    },
  ],
  [
    'stream',
    {
      error: {
        message: "Unsupported value: 'stream' does not support true with this model.",
        param: 'stream',
        code: 'unsupported_value',
      },
    },
  ],
  ['streaming', { detail: 'This model does not support streaming' }],
] as const) {
  test(`fold: a 400 refusing ${what} is sent again as written, within the same call, and answers`, async () => {
    const tag = `refused-${what}-${Math.random()}`;
    const sequence = [asJson(400, refusal), asJson(200, wholeAnswer)];
    const answer = await chatCompletions(
      { ...hello, temperature: 0 },
      v1(fake, { tag, sequence }, { retry: { retries: 0 } }),
    );
    assert.deepEqual(answer, wholeAnswer);
    const sent = fake.requests.filter((r) => r.headers['x-fake-behaviour']?.includes(tag));
    assert.equal(sent.length, 2);
    assert.deepEqual(sent[0]!.body, {
      ...hello,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    assert.deepEqual(sent[1]!.body, { ...hello, temperature: 0 });
  });
}

test("fold: vLLM's pydantic refusal of stream_options is sent again; a validation error that only echoes the request is not", async () => {
  const vllm = {
    object: 'error',
    message:
      "[{'type': 'extra_forbidden', 'loc': ('body', 'stream_options'), 'msg': 'Extra inputs are not permitted', 'input': {'include_usage': True}}]",
    type: 'BadRequestError',
    param: null,
    code: 400,
  };
  const tag = `vllm-${Math.random()}`;
  const answer = await chatCompletions(
    hello,
    v1(fake, { tag, sequence: [asJson(400, vllm), asJson(200, wholeAnswer)] }),
  );
  assert.deepEqual(answer, wholeAnswer);
  assert.equal(fake.requests.filter((r) => r.headers['x-fake-behaviour']?.includes(tag)).length, 2);
  // The request quoted back, `"stream": true` and all, by an error about another field.
  for (const [name, body] of [
    [
      'FastAPI',
      {
        detail: [
          {
            type: 'missing',
            loc: ['body', 'model'],
            msg: 'Field required',
            input: { stream: true, stream_options: {} },
          },
        ],
      },
    ],
    [
      'pydantic text',
      {
        object: 'error',
        message:
          "[{'type': 'missing', 'loc': ('body', 'model'), 'msg': 'Field required', 'input': {'stream': True, 'stream_options': {}}}]",
      },
    ],
    ['words', { error: { message: 'invalid request: {"model":"","stream":true} has no model' } }],
  ] as const) {
    const echo = `echo-${name}-${Math.random()}`;
    await assert.rejects(
      chatCompletions(hello, v1(fake, { tag: echo, sequence: [asJson(422, body), asJson(200, wholeAnswer)] })),
      failsWith('http'),
      name,
    );
    assert.equal(fake.requests.filter((r) => r.headers['x-fake-behaviour']?.includes(echo)).length, 1, name);
  }
});

test('fold: the request sent again counts as an attempt: attempts is every request made', async () => {
  const tag = `count-${Math.random()}`;
  const refusal = { error: { message: 'Unrecognized request argument supplied: stream_options' } };
  const busy = asJson(503, { error: { message: 'busy' } });
  const error = await chatCompletions(
    hello,
    v1(fake, { tag, sequence: [asJson(400, refusal), busy, busy, busy] }, { retry: { retries: 2, baseDelay: 1 } }),
  ).then(
    () => assert.fail('expected a failure'),
    (e: unknown) => e as { attempts: number; message: string },
  );
  const sent = fake.requests.filter((r) => r.headers['x-fake-behaviour']?.includes(tag));
  assert.equal(sent.length, 4);
  assert.equal(error.attempts, 4);
  assert.match(error.message, /4 attempts/);
});

test('fold: a 400 that says nothing of streaming is the error, sent once', async () => {
  const tag = `bad-${Math.random()}`;
  const sequence = [asJson(400, { error: { message: 'messages: too long' } }), asJson(200, wholeAnswer)];
  await assert.rejects(
    chatCompletions(hello, v1(fake, { tag, sequence })),
    failsWith('http', (e) => assert.match(e.message, /messages: too long/)),
  );
  assert.equal(fake.requests.filter((r) => r.headers['x-fake-behaviour']?.includes(tag)).length, 1);
});

test('fold: a server that answers the streaming request with the whole object gives that object', async () => {
  assert.deepEqual(await chatCompletions(hello, v1(fake, asJson(200, wholeAnswer))), wholeAnswer);
  // A stream call has no use for it: there it is still a protocol error.
  const { error } = await drain(chatCompletionsStream(hello, v1(fake, asJson(200, wholeAnswer))));
  assert.ok(
    failsWith('protocol', (e) =>
      assert.match(e.message, /whole answer as one JSON object.*does not stream.*chatCompletions/),
    )(error),
  );
});

test('completions fold: the whole object answered instead of events, and a refused stream_options', async () => {
  const text = {
    id: 'c-2',
    object: 'text_completion',
    created: 1,
    model: 'm',
    choices: [{ text: 'whole', index: 0, finish_reason: 'stop' }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  };
  assert.deepEqual(await completions({ model: 'm', prompt: 'p' }, v1(fake, asJson(200, text))), text);
  const tag = `refused-c-${Math.random()}`;
  const sequence = [asJson(400, { error: { message: 'unknown field stream_options' } }), asJson(200, text)];
  assert.deepEqual(await completions({ model: 'm', prompt: 'p' }, v1(fake, { tag, sequence })), text);
});

// A /v1 answer complete before the connection failed: every choice had its finish_reason (the
// usage and `[DONE]` still to come), or `data: [DONE]` had arrived without the blank line that
// ends its event. chatCompletions threw a connection error after three attempts (three
// generations paid for on a hosted endpoint); the stream lost its clean end.
async function sseServer(
  body: string,
  after: 'reset' | 'fin' | 'hang' | 'clean',
  type = 'text/event-stream',
): Promise<{ baseURL: string; requests: () => number; close: () => Promise<void> }> {
  let requests = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.once('data', () => {
      requests++;
      const chunk = (text: string) => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
      socket.write(`HTTP/1.1 200 OK\r\nContent-Type: ${type}\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(body)}`);
      if (after === 'hang') return;
      if (after === 'clean') {
        socket.write('0\r\n\r\n');
        return;
      }
      setTimeout(() => (after === 'reset' ? socket.resetAndDestroy() : socket.end()), 30);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests: () => requests,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

const sseChunk = (delta: object, finish: string | null, index = 0) =>
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index, delta, finish_reason: finish }] })}\n\n`;
const sseUsage = `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [], usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } })}\n\n`;
const answered = sseChunk({ role: 'assistant', content: 'Hel' }, null) + sseChunk({ content: 'lo' }, null);

for (const after of ['reset', 'fin', 'hang'] as const) {
  for (const [what, body] of [
    ['every choice finished, the usage in, no [DONE]', `${answered}${sseChunk({}, 'stop')}${sseUsage}`],
    ['every choice finished, no usage, no [DONE]', `${answered}${sseChunk({}, 'stop')}`],
    ['[DONE] without its blank line', `${answered}${sseChunk({}, 'stop')}${sseUsage}data: [DONE]\n`],
  ] as const) {
    test(`/v1 complete, then ${after}: ${what} — the answer, one request`, async () => {
      const server = await sseServer(body, after);
      try {
        const options = { baseURL: server.baseURL, readTimeout: 300, retry: { baseDelay: 10 } };
        const answer = await chatCompletions(hello, options);
        assert.equal(answer.choices[0]?.message.content, 'Hello');
        assert.equal(answer.choices[0]?.finish_reason, 'stop');
        const { items, error } = await drain(chatCompletionsStream(hello, options));
        assert.equal(error, undefined);
        assert.equal(items.map((c) => c.choices[0]?.delta.content ?? '').join(''), 'Hello');
        assert.equal(server.requests(), 2, 'nothing was sent again');
      } finally {
        await server.close();
      }
    });
  }
}

// Tool calls as servers other than Ollama stream them: no index, no id, an id on every piece, the
// name on every piece, calls without parameters. Each once folded into too few calls, a duplicate
// or two halves of one call's JSON.
const call = (name: string, args: string, id?: string) =>
  id === undefined
    ? { type: 'function', function: { name, arguments: args } }
    : { id, type: 'function', function: { name, arguments: args } };
const toolShapes: Array<[string, object[][], object[]]> = [
  [
    'two calls without parameters, no index, no id',
    [[{ function: { name: 'get_time', arguments: '' } }], [{ function: { name: 'get_date', arguments: '' } }]],
    [call('get_time', ''), call('get_date', '')],
  ],
  [
    'two calls without parameters, both index 0, no id',
    [
      [{ index: 0, function: { name: 'get_time', arguments: '' } }],
      [{ index: 0, function: { name: 'get_date', arguments: '' } }],
    ],
    [call('get_time', ''), call('get_date', '')],
  ],
  [
    'the name again with nothing more, after the whole arguments',
    [
      [{ index: 0, id: 'c1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
      [{ index: 0, function: { name: 'f', arguments: ' ' } }],
    ],
    [call('f', '{"a":1} ', 'c1')],
  ],
  [
    'a second call of the same function begun by its arguments, no id',
    [
      [{ id: 'c1', function: { name: 'f', arguments: '{"a":' } }],
      [{ function: { arguments: '1}' } }],
      [{ function: { name: 'f', arguments: '' } }],
      [{ function: { arguments: '{"a":2}' } }],
    ],
    [call('f', '{"a":1}', 'c1'), call('f', '{"a":2}')],
  ],
  [
    'a new id on every piece (a proxy): one call, under its first id',
    [
      [{ index: 0, id: 'a1', type: 'function', function: { name: 'f', arguments: '' } }],
      [{ index: 0, id: 'a2', function: { arguments: '{"a"' } }],
      [{ index: 0, id: 'a3', function: { name: 'f', arguments: ':1}' } }],
    ],
    [call('f', '{"a":1}', 'a1')],
  ],
  [
    'the same id and the name on every piece',
    [
      [{ index: 0, id: 'c1', type: 'function', function: { name: 'f', arguments: '{"a"' } }],
      [{ index: 0, id: 'c1', type: 'function', function: { name: 'f', arguments: ':1}' } }],
      [{ index: 0, id: 'c1', type: 'function', function: { name: 'f', arguments: '' } }],
    ],
    [call('f', '{"a":1}', 'c1')],
  ],
];
for (const [what, pieces, expected] of toolShapes) {
  test(`fold: tool calls, ${what}`, async () => {
    const body =
      sseChunk({ role: 'assistant', content: null }, null) +
      pieces.map((tool_calls) => sseChunk({ tool_calls }, null)).join('') +
      sseChunk({}, 'tool_calls') +
      'data: [DONE]\n\n';
    const respond = { status: 200, headers: { 'Content-Type': 'text/event-stream' }, body };
    const answer = await chatCompletions(hello, v1(fake, { respond }));
    assert.deepEqual(answer.choices[0]?.message.tool_calls, expected);
  });
}

// Chunks whose choices are not a list of objects: the fold threw a bare TypeError ("Cannot read
// properties of null"), which code that tells the library's errors apart takes for a crash.
test('fold: chunks with choices [null], {}, 5 or null add nothing, and the answer is the rest', async () => {
  const odd = (choices: unknown) =>
    `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices })}\n\n`;
  const body =
    sseChunk({ role: 'assistant', content: 'Hel' }, null) +
    odd([null]) +
    odd({}) +
    odd(5) +
    odd(null) +
    odd([7, { index: 0, delta: { content: 'lo' }, finish_reason: null }]) +
    sseChunk({}, 'stop') +
    'data: [DONE]\n\n';
  const respond = { status: 200, headers: { 'Content-Type': 'text/event-stream' }, body };
  const answer = await chatCompletions(hello, v1(fake, { respond }));
  assert.equal(answer.choices.length, 1);
  assert.equal(answer.choices[0]?.message.content, 'Hello');
  const text = `data: ${JSON.stringify({ id: 't', object: 'text_completion', created: 1, model: 'm', choices: [null] })}\n\n`;
  const completion = await completions(
    { model: 'm', prompt: 'p' },
    v1(fake, {
      respond: {
        ...respond,
        body: `${text}${text.replace('[null]', '[{"text":"ok","index":0,"finish_reason":"stop"}]')}data: [DONE]\n\n`,
      },
    }),
  );
  assert.equal(completion.choices[0]?.text, 'ok');
});

// With `n: 2`, the first choice may finish before the second has begun: that is no whole answer.
// Nor is a finish_reason of "" (sent on every chunk by some servers) a finish.
test('/v1 with n: 2, one choice finished before the second began, then a reset: not complete', async () => {
  const server = await sseServer(`${sseChunk({ content: 'a' }, null, 0)}${sseChunk({}, 'stop', 0)}`, 'reset');
  try {
    await assert.rejects(
      chatCompletions({ ...hello, n: 2 }, { baseURL: server.baseURL, retry: false }),
      failsWith('connection'),
    );
  } finally {
    await server.close();
  }
  const both = await sseServer(
    `${sseChunk({ content: 'a' }, null, 0)}${sseChunk({ content: 'b' }, null, 1)}${sseChunk({}, 'stop', 0)}${sseChunk({}, 'stop', 1)}`,
    'reset',
  );
  try {
    const answer = await chatCompletions({ ...hello, n: 2 }, { baseURL: both.baseURL, retry: false });
    assert.deepEqual(
      answer.choices.map((c) => c.message.content),
      ['a', 'b'],
    );
  } finally {
    await both.close();
  }
  // Ended cleanly there, without [DONE]: incomplete too (the clean end once took one finished choice
  // for the whole answer).
  const clean = await sseServer(`${sseChunk({ content: 'a' }, null, 0)}${sseChunk({}, 'stop', 0)}`, 'clean');
  try {
    await assert.rejects(
      chatCompletions({ ...hello, n: 2 }, { baseURL: clean.baseURL, retry: false }),
      failsWith('protocol', (e) => assert.match(e.message, /finish_reason for every choice/)),
    );
  } finally {
    await clean.close();
  }
  const empty = await sseServer(`${sseChunk({ content: 'a' }, '')}${sseChunk({ content: 'b' }, '')}`, 'reset');
  try {
    await assert.rejects(chatCompletions(hello, { baseURL: empty.baseURL, retry: false }), failsWith('connection'));
  } finally {
    await empty.close();
  }
});

// A whole JSON answer (a server that ignores `stream`, or `stream: false` asked for) whose body's end
// never came: a reset, a cut, a silence past readTimeout. The object was whole; it was thrown away.
test('/v1 a whole JSON answer, then the connection fails before the end of the body: the answer, one request', async () => {
  for (const after of ['reset', 'fin', 'hang'] as const) {
    for (const stream of [undefined, false] as const) {
      const server = await sseServer(JSON.stringify(wholeAnswer), after, 'application/json');
      try {
        const request = stream === undefined ? hello : { ...hello, stream };
        const answer = await chatCompletions(request, {
          baseURL: server.baseURL,
          readTimeout: 300,
          retry: { baseDelay: 10 },
        });
        assert.deepEqual(answer, wholeAnswer, `${after}, stream ${stream}`);
        assert.equal(server.requests(), 1);
      } finally {
        await server.close();
      }
    }
  }
  // Cut inside the object: lost, and said so.
  const cut = await sseServer(JSON.stringify(wholeAnswer).slice(0, 40), 'reset', 'application/json');
  try {
    await assert.rejects(
      chatCompletions({ ...hello, stream: false }, { baseURL: cut.baseURL, retry: false }),
      failsWith('connection'),
    );
  } finally {
    await cut.close();
  }
});

// The server's report of a failure whose event lost its blank line, before the body ended (or the
// connection failed): it is that failure, with its words, not a cut or an incomplete stream.
test('/v1 an error event without its blank line, then the end: a stream error with the server words', async () => {
  const event = 'data: {"error":{"message":"the model ran out of memory","type":"server_error"}}\n';
  for (const after of ['clean', 'reset', 'fin'] as const) {
    const server = await sseServer(`${sseChunk({ content: 'a' }, null)}${event}`, after);
    try {
      const { items, error } = await drain(chatCompletionsStream(hello, { baseURL: server.baseURL, retry: false }));
      assert.equal(items.length, 1, after);
      assert.ok(failsWith('stream', (e) => assert.match(e.message, /ran out of memory/))(error), after);
    } finally {
      await server.close();
    }
  }
  // A data line cut short is no event: the end itself is reported.
  const cut = await sseServer(`${sseChunk({ content: 'a' }, null)}data: {"error":{"mess`, 'reset');
  try {
    const { error } = await drain(chatCompletionsStream(hello, { baseURL: cut.baseURL, retry: false }));
    assert.ok(failsWith('connection')(error));
  } finally {
    await cut.close();
  }
});

test('/v1 not complete (one of two choices finished), then a reset: the chunks, then the connection error', async () => {
  const body = `${sseChunk({ content: 'a' }, null, 0)}${sseChunk({ content: 'b' }, null, 1)}${sseChunk({}, 'stop', 0)}`;
  const server = await sseServer(body, 'reset');
  try {
    const { items, error } = await drain(chatCompletionsStream(hello, { baseURL: server.baseURL, retry: false }));
    assert.equal(items.length, 3);
    assert.ok(failsWith('connection')(error));
  } finally {
    await server.close();
  }
});

test('fold: what was added to the request (stream, include_usage) goes on the wire only; the request is untouched', async () => {
  const request: ChatCompletionRequest = { ...hello, stream_options: { include_usage: false }, temperature: 0 };
  const copy = structuredClone(request);
  await chatCompletions(request, v1(fake, {}));
  assert.deepEqual(request, copy);
  const sent = fake.requests.at(-1)!;
  assert.deepEqual(sent.body, { ...request, stream: true, stream_options: { include_usage: true } });
  assert.equal(sent.headers.accept, 'text/event-stream');
  await chatCompletions({ ...hello, stream: false }, v1(fake, {}));
  assert.deepEqual(fake.requests.at(-1)!.body, { ...hello, stream: false });
  await assert.rejects(chatCompletions({ ...hello, stream: true }, v1(fake)), /chatCompletionsStream/);
});

test('_debug_render_only: sent as it is (Ollama renders the prompt and answers one object at once), and that object returned', async () => {
  const render = { rendered_template: '<|user|>Hi<|assistant|>', image_count: 0 };
  const rendered = {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1761498924,
    model: 'llama3.2',
    system_fingerprint: 'fp_ollama',
    choices: [{ index: 0, message: { role: '', content: '' }, finish_reason: null }],
    usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    _debug_info: render,
  };
  const respond = {
    respond: { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(rendered) },
  };
  const request = { ...hello, _debug_render_only: true } as ChatCompletionRequest;
  assert.deepEqual(await chatCompletions(request, v1(fake, respond)), rendered);
  assert.deepEqual(fake.requests.at(-1)!.body, request);
  const prompt = { model: 'llama3.2', prompt: 'Hi', _debug_render_only: true };
  const text = { ...rendered, object: 'text_completion', choices: [{ index: 0, text: '', finish_reason: null }] };
  const textReply = { respond: { ...respond.respond, body: JSON.stringify(text) } };
  assert.deepEqual(await completions(prompt, v1(fake, textReply)), text);
  assert.deepEqual(fake.requests.at(-1)!.body, prompt);
});

const dialects: Dialect[] = ['ollama', 'vllm', 'openrouter', 'llamacpp', 'openai'];
for (const dialect of dialects) {
  test(`fold: the stand-in as ${dialect}, content + reasoning and two tool calls, equals its stream:false answer`, async () => {
    for (const request of [
      { ...hello, reasoning_effort: 'low' },
      { ...hello, tools: [weather, { ...weather, function: { ...weather.function, name: 'get_time' } }] },
    ] as ChatCompletionRequest[]) {
      for (const behaviour of [
        { dialect, toolCallCount: 2 },
        { dialect, doneReason: 'length' },
      ]) {
        const folded = await chatCompletions(request, v1(fake, behaviour));
        const own = await serverAnswer('/chat/completions', request, behaviour);
        assert.deepEqual(folded, own, `${JSON.stringify(behaviour)} ${JSON.stringify(request).slice(0, 80)}`);
      }
    }
  });
}

test('fold: completions equals the server stream:false answer, despite a zero usage on every chunk', async () => {
  const request = { model: 'llama3.2', prompt: 'Once upon' };
  for (const behaviour of [{}, { doneReason: 'length', tokens: ['a', 'b'] }]) {
    const folded = await completions(request, v1(fake, behaviour));
    assert.deepEqual(folded, await serverAnswer('/completions', request, behaviour));
    assert.equal(folded.object, 'text_completion');
  }
  const { items, error } = await drain(completionsStream(request, v1(fake, {})));
  assert.equal(error, undefined);
  assert.equal(items.map((c) => c.choices[0]?.text).join(''), 'Hello from the stand-in.');
});

test('stream: Ollama §9 shapes — role in the first delta only, a finish chunk with delta {}, the usage chunk, every chunk as sent', async () => {
  const { items, error } = await drain(
    chatCompletionsStream({ ...hello, stream_options: { include_usage: true } }, v1(fake, { tokens: ['A', 'B'] })),
  );
  assert.equal(error, undefined);
  assert.equal(items.length, 4);
  assert.deepEqual(items[0]?.choices[0]?.delta, { role: 'assistant', content: 'A' });
  assert.deepEqual(items[1]?.choices[0]?.delta, { content: 'B' });
  assert.deepEqual(items[2]?.choices[0], { index: 0, delta: {}, finish_reason: 'stop' });
  assert.deepEqual(items[3]?.choices, []);
  assert.deepEqual(items[3]?.usage, {
    prompt_tokens: items[3]?.usage?.prompt_tokens,
    completion_tokens: 2,
    total_tokens: items[3]?.usage?.total_tokens,
  });
  assert.ok(new Set(items.map((c) => c.id)).size === 1 && items[0]?.system_fingerprint === 'fp_ollama');
});

test('stream: SSE as servers send it — comments, CRLF, multi-line data, empty events, a BOM, split characters', async () => {
  const tokens = ['Grüße', ' 🦙', ' 日本語'];
  const behaviour = {
    tokens,
    comments: true,
    crlf: true,
    multiLineData: true,
    emptyEvents: true,
    bom: true,
    splitCharacters: true,
    pieceDelayMs: 1,
  };
  const { items, error } = await drain(chatCompletionsStream(hello, v1(fake, behaviour)));
  assert.equal(error, undefined);
  assert.deepEqual(
    items.map((c) => c.choices[0]?.delta.content).filter((t) => t !== undefined),
    tokens,
  );
  const folded = await chatCompletions(hello, v1(fake, behaviour));
  assert.equal(folded.choices[0]?.message.content, tokens.join(''));
});

test('truncation: a stream without [DONE] and without any finish_reason is a protocol error after the chunks delivered', async () => {
  const { items, error } = await drain(chatCompletionsStream(hello, v1(fake, { omitDone: true })));
  assert.equal(items.length, 5);
  assert.ok(
    failsWith('protocol', (e) => {
      assert.match(e.message, /ended after 5 chunk\(s\).*\[DONE\]/);
      assert.doesNotMatch(e.message, /failed midway/, 'its last chunk had words: a cut, not a failure');
    })(error),
  );
  await assert.rejects(chatCompletions(hello, v1(fake, { omitDone: true })), failsWith('protocol'));
  await assert.rejects(
    completions({ model: 'llama3.2', prompt: 'x' }, v1(fake, { omitDone: true })),
    failsWith('protocol'),
  );
  // A finish_reason without [DONE] is a complete answer.
  const ended = await drain(chatCompletionsStream(hello, v1(fake, { noDoneOnly: true })));
  assert.equal(ended.error, undefined);
  assert.equal(ended.items.at(-1)?.choices[0]?.finish_reason, 'stop');
});

test("truncation: Ollama's own mid-stream failure (an empty chunk, then the end) is a protocol error, not an answer", async () => {
  const { items, error } = await drain(chatCompletionsStream(hello, v1(fake, { errorAfter: 2 })));
  assert.equal(items.length, 3);
  assert.equal(items[2]?.choices[0]?.delta.content, '');
  // Ollama drops the error's words; the message says where to find them.
  const saysWhere = (e: { message: string }) => assert.match(e.message, /failed midway.*Ollama's log/);
  assert.ok(failsWith('protocol', saysWhere)(error));
  await assert.rejects(chatCompletions(hello, v1(fake, { errorAfter: 2 })), failsWith('protocol', saysWhere));
});

for (const dialect of ['openai', 'vllm', 'openrouter', 'llamacpp'] as const) {
  test(`in-band error: ${dialect}'s shape is a stream error with the server's message, after the 2 chunks delivered`, async () => {
    const errorText = `the ${dialect} worker died`;
    const { items, error } = await drain(
      chatCompletionsStream(hello, v1(fake, { dialect, errorAfter: 2, errorText, requestId: 'req_42' })),
    );
    assert.equal(items.length, 2);
    assert.ok(
      failsWith('stream', (e) => {
        assert.match(e.message, new RegExp(`after 2 chunk\\(s\\).*${errorText}`));
        assert.equal(e.requestId, 'req_42');
        assert.equal(e.status, 200);
      })(error),
    );
    await assert.rejects(chatCompletions(hello, v1(fake, { dialect, errorAfter: 2, errorText })), failsWith('stream'));
  });
}

test('stream: an event that is not JSON, or not an object, is a protocol error', async () => {
  const body = 'data: {"id":"x","object":"chat.completion.chunk","choices":[]}\n\ndata: not json\n\n';
  const respond = { status: 200, headers: { 'Content-Type': 'text/event-stream' }, body };
  const { items, error } = await drain(chatCompletionsStream(hello, v1(fake, { respond })));
  assert.equal(items.length, 1);
  assert.ok(failsWith('protocol', (e) => assert.match(e.message, /Event 2 .* is not JSON: "not json"/))(error));
  const array = { ...respond, body: 'data: [1,2]\n\n' };
  assert.ok(failsWith('protocol')((await drain(chatCompletionsStream(hello, v1(fake, { respond: array })))).error));
});

test('stream: [DONE] completes the answer; what follows it in the same read is not part of it', async () => {
  // As for the native calls' final chunk: nothing after the end is read as the answer or
  // reported as a failure.
  const first = 'data: {"id":"x","object":"chat.completion.chunk","choices":[]}';
  const body = `${first}\n\ndata: [DONE]\n\ndata: {"late":true}\n\ndata: not json\n\n`;
  const respond = { status: 200, headers: { 'Content-Type': 'text/event-stream' }, body };
  const { items, error } = await drain(chatCompletionsStream(hello, v1(fake, { respond })));
  assert.equal(error, undefined);
  assert.deepEqual(items, [{ id: 'x', object: 'chat.completion.chunk', choices: [] }]);
});

test('stream: a 200 JSON error object instead of events is a stream error with its message', async () => {
  const respond = {
    status: 200,
    headers: { 'Content-Type': 'application/json' },
    body: '{"object":"error","message":"out of KV cache","code":500}',
  };
  const { error } = await drain(chatCompletionsStream(hello, v1(fake, { respond })));
  assert.ok(failsWith('stream', (e) => assert.match(e.message, /out of KV cache/))(error));
});

test('stream: break closes the connection, so the server stops', async () => {
  const tag = `break-${Math.random()}`;
  let seen = 0;
  for await (const _chunk of chatCompletionsStream(
    hello,
    v1(fake, { tag, tokens: Array(50).fill('x'), chunkDelayMs: 20 }),
  )) {
    if (++seen === 2) break;
  }
  await fake.waitFor((r) => r.some((q) => q.headers['x-fake-behaviour']?.includes(tag) && q.clientDisconnected), 5000);
  const request = fake.requests.find((q) => q.headers['x-fake-behaviour']?.includes(tag))!;
  assert.ok(request.pendingChunks > 0, 'the script was cut short');
});

test('retries: nothing is retried once a chunk reached the caller; before the first, a reset is retried', async () => {
  const tag = `reset-${Math.random()}`;
  const { items, error } = await drain(
    chatCompletionsStream(hello, v1(fake, { tag, resetAfter: 2 }, { retry: { retries: 2, baseDelay: 1 } })),
  );
  assert.equal(items.length, 2);
  assert.ok(isOllamaError(error) && error.kind === 'connection', String(error));
  assert.equal(fake.requests.filter((q) => q.headers['x-fake-behaviour']?.includes(tag)).length, 1);
  const sequence = [{ resetAfter: 0 }, {}];
  const tag2 = `seq-${Math.random()}`;
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of chatCompletionsStream(
    hello,
    v1(fake, { tag: tag2, sequence }, { retry: { retries: 2, baseDelay: 1 } }),
  ))
    chunks.push(chunk);
  assert.equal(chunks.length, 6);
  assert.equal(fake.requests.filter((q) => q.headers['x-fake-behaviour']?.includes(tag2)).length, 2);
});

test('timeouts: readTimeout means silence for the folded call too (it streams on the wire)', async () => {
  // 6 × 300 ms of chunks under a 1000 ms read timeout: no silence is longer than the limit.
  const slow = await chatCompletions(
    hello,
    v1(fake, { tokens: ['a', 'b', 'c', 'd', 'e', 'f'], chunkDelayMs: 300 }, { readTimeout: 1000 }),
  );
  assert.equal(slow.choices[0]?.message.content, 'abcdef');
  await assert.rejects(
    chatCompletions(hello, v1(fake, { stallAfter: 2, stallMs: 3000 }, { readTimeout: 300 })),
    failsWith('read-timeout'),
  );
});

test('stream: [DONE] ends the answer even when the server keeps the connection open after it', async () => {
  const tag = `hold-${Math.random()}`;
  const started = performance.now();
  const { items, error } = await drain(
    chatCompletionsStream(hello, v1(fake, { tag, holdOpen: true }, { readTimeout: 2000 })),
  );
  assert.equal(error, undefined);
  assert.equal(items.length, 6);
  assert.ok(performance.now() - started < 1500, 'it did not wait for the read timeout');
  const folded = await chatCompletions(hello, v1(fake, { holdOpen: true }, { readTimeout: 2000 }));
  assert.equal(folded.choices[0]?.finish_reason, 'stop');
  await fake.waitFor(
    (r) => r.some((q) => q.headers['x-fake-behaviour']?.includes(tag) && q.closedAt !== undefined),
    3000,
  );
});

test('stream: an `event: error` is a stream error after the chunks before it, never a chunk; an empty error field is no error', async () => {
  const chunk = (content: string, finish: string | null = null) =>
    `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: finish }] })}\n\n`;
  const sse = (body: string) => ({
    respond: { status: 200, headers: { 'content-type': 'text/event-stream' }, body },
  });
  for (const data of ['{"message":"model overloaded","type":"server_error"}', 'model overloaded']) {
    const failing = sse(`${chunk('Hel')}event: error\ndata: ${data}\n\ndata: [DONE]\n\n`);
    const { items, error } = await drain(chatCompletionsStream(hello, v1(fake, failing)));
    assert.deepEqual(
      items.map((c) => c.choices[0]?.delta.content),
      ['Hel'],
    );
    assert.ok(isOllamaError(error) && error.kind === 'stream', String(error));
    assert.match(error.message, /model overloaded/);
    await assert.rejects(chatCompletions(hello, v1(fake, failing)), failsWith('stream'));
  }
  for (const empty of [false, '', null]) {
    const line = `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', error: empty, choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: 'stop' }] })}\n\n`;
    const { items, error } = await drain(chatCompletionsStream(hello, v1(fake, sse(`${line}data: [DONE]\n\n`))));
    assert.equal(error, undefined, `error: ${JSON.stringify(empty)}`);
    assert.equal(items.length, 1);
  }
});

test('fold: every list of logprobs is collected, legacy completions ones and a refusal’s included', async () => {
  const sse = (chunks: object[]) => ({
    respond: {
      status: 200,
      headers: { 'content-type': 'text/event-stream' },
      body: `${chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join('')}data: [DONE]\n\n`,
    },
  });
  const top = { id: 'cmpl-1', object: 'text_completion', created: 1, model: 'm' };
  const piece = (text: string, offset: number, finish: string | null) => ({
    ...top,
    choices: [
      {
        index: 0,
        text,
        logprobs: { tokens: [text], token_logprobs: [-0.5], top_logprobs: [{ [text]: -0.5 }], text_offset: [offset] },
        finish_reason: finish,
      },
    ],
  });
  const folded = await completions(
    { model: 'm', prompt: 'x', logprobs: 1 } as never,
    v1(fake, sse([piece('Hel', 0, null), piece('lo', 3, 'stop')])),
  );
  assert.deepEqual(folded.choices[0]?.logprobs, {
    tokens: ['Hel', 'lo'],
    token_logprobs: [-0.5, -0.5],
    top_logprobs: [{ Hel: -0.5 }, { lo: -0.5 }],
    text_offset: [0, 3],
  });
  const chatTop = { id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm' };
  const refusal = (text: string, finish: string | null) => ({
    ...chatTop,
    choices: [
      {
        index: 0,
        delta: { refusal: text },
        logprobs: { content: null, refusal: [{ token: text, logprob: -1 }] },
        finish_reason: finish,
      },
    ],
  });
  const refused = await chatCompletions(hello, v1(fake, sse([refusal('I can', null), refusal("'t", 'stop')])));
  assert.equal(refused.choices[0]?.message.refusal, "I can't");
  assert.deepEqual(refused.choices[0]?.logprobs, {
    content: null,
    refusal: [
      { token: 'I can', logprob: -1 },
      { token: "'t", logprob: -1 },
    ],
  });
});

test('an event stream labelled application/json is read as events (all at once), streamed and folded', async () => {
  const chunk = (content: string, finish: string | null = null) =>
    `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: finish }] })}\n\n`;
  const labelled = {
    respond: {
      status: 200,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: `${chunk('Hel')}${chunk('lo')}${chunk('', 'stop')}data: [DONE]\n\n`,
    },
  };
  const { items, error } = await drain(chatCompletionsStream(hello, v1(fake, labelled)));
  assert.equal(error, undefined);
  assert.deepEqual(
    items.map((c) => c.choices[0]?.delta.content),
    ['Hel', 'lo', ''],
  );
  const answer = await chatCompletions(hello, v1(fake, labelled));
  assert.equal(answer.choices[0]?.message.content, 'Hello');
  // The same label on an error event: the server's words.
  const failing = { respond: { ...labelled.respond, body: 'event: error\ndata: {"error":"overloaded"}\n\n' } };
  const failed = await drain(chatCompletionsStream(hello, v1(fake, failing)));
  assert.ok(isOllamaError(failed.error) && failed.error.kind === 'stream', String(failed.error));
});

test('a 200 with no event in its body is not a stream cut short: a web page says so, a JSON error gives its words', async () => {
  const page = {
    respond: {
      status: 200,
      headers: { 'content-type': 'text/html' },
      body: '<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\n\n<body>Log in</body></html>',
    },
  };
  const html = await drain(chatCompletionsStream(hello, v1(fake, page)));
  assert.ok(isOllamaError(html.error) && html.error.kind === 'protocol', String(html.error));
  assert.match(html.error.message, /not an event stream\. It is a web page/);
  assert.doesNotMatch(html.error.message, /closed it early/);
  const said = {
    respond: { status: 200, body: '{"error":{"message":"model \\"m\\" not found","type":"not_found_error"}}' },
  };
  const error = await drain(chatCompletionsStream(hello, v1(fake, said)));
  assert.ok(isOllamaError(error.error) && error.error.kind === 'stream', String(error.error));
  assert.match(error.error.message, /model "m" not found/);
});

const chunkEvent = (delta: object, finish: string | null = null): string =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

// openai-node ends a stream at any data that begins with `[DONE]`: one space after it was a protocol
// error about "[DONE]" not being JSON, and the folded answer, whole by then, was thrown away.
test('stream: [DONE] with whitespace around it ends the stream; the fold keeps the answer', async () => {
  for (const done of ['data: [DONE] \n\n', 'data: [DONE]\t\n\n', 'data:  [DONE]\n\n', 'data: [DONE] ']) {
    for (const finish of [true, false]) {
      const body = chunkEvent({ role: 'assistant', content: 'Hello' }) + (finish ? chunkEvent({}, 'stop') : '') + done;
      const server = await sseServer(body, 'clean');
      try {
        const streamed = await drain(chatCompletionsStream(hello, { baseURL: server.baseURL, retry: false }));
        assert.equal(streamed.error, undefined, `${JSON.stringify(done)}: ${String(streamed.error)}`);
        assert.equal(streamed.items.length, finish ? 2 : 1);
        const folded = await chatCompletions(hello, { baseURL: server.baseURL, retry: false });
        assert.equal(folded.choices[0]?.message.content, 'Hello');
      } finally {
        await server.close();
      }
    }
  }
});

// A stream of comments only (a proxy's keep-alives), then the end, was "not an event stream", with
// advice to check the base URL: it is an event stream that ended before its first event.
test('stream: comments (or fields without data) only, then the end: a stream cut short, not "not an event stream"', async () => {
  for (const body of [': OPENROUTER PROCESSING\n\n: OPENROUTER PROCESSING\n\n', 'event: ping\n\nretry: 10\n\n']) {
    const server = await sseServer(body, 'clean');
    try {
      const { error } = await drain(chatCompletionsStream(hello, { baseURL: server.baseURL, retry: false }));
      assert.ok(isOllamaError(error) && error.kind === 'protocol', String(error));
      assert.match(error.message, /ended after 0 chunk\(s\) without its final chunk/);
      assert.doesNotMatch(error.message, /not an event stream/);
    } finally {
      await server.close();
    }
  }
});

// `function.arguments` as a JSON object (not JSON text), as some servers send whole calls: the fold
// threw a bare TypeError (`.trim` of an object); two such calls are two calls, as sent.
test('fold: tool calls whose arguments are objects are kept as sent, two calls as two, with or without index', async () => {
  const call = (id: string, city: string, index?: number) => ({
    ...(index === undefined ? {} : { index }),
    id,
    type: 'function',
    function: { name: 'get_weather', arguments: { city } },
  });
  for (const index of [0, undefined]) {
    const body =
      chunkEvent({ role: 'assistant', tool_calls: [call('call_a', 'Tokyo', index)] }) +
      chunkEvent({ tool_calls: [call('call_b', 'Paris', index)] }) +
      chunkEvent({}, 'tool_calls') +
      'data: [DONE]\n\n';
    const server = await sseServer(body, 'clean');
    try {
      const folded = await chatCompletions(hello, { baseURL: server.baseURL, retry: false });
      const calls = folded.choices[0]?.message.tool_calls ?? [];
      assert.deepEqual(
        calls.map((c) => [c.id, c.function.arguments as unknown]),
        [
          ['call_a', { city: 'Tokyo' }],
          ['call_b', { city: 'Paris' }],
        ],
        `index ${index}`,
      );
    } finally {
      await server.close();
    }
  }
});
