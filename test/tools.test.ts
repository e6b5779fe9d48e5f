// The tool loop (lib/tools.ts) against the stand-in playing a model that asks for tools, scripted
// call by call with `toolCalls` (and `toolCallCount: 0` for the final answer).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isOllamaError, type Message } from '../lib/index.ts';
import { type RunnableTool, runTools, runToolsStream, type ToolLoopEvent } from '../lib/tools/index.ts';
import type { FakeOllama, RecordedRequest } from './support/fake-ollama.ts';
import { withFake } from './support/with-fake.ts';

const ask: Message[] = [{ role: 'user', content: 'What is 1 + 2, and hi in capitals?' }];
const answer = { toolCallCount: 0, tokens: ['It is 3', ', and HI.'] };

function add(): RunnableTool {
  return {
    type: 'function',
    function: {
      name: 'add',
      description: 'Adds two numbers',
      parameters: {
        type: 'object',
        required: ['a', 'b'],
        properties: { a: { type: 'number' }, b: { type: 'number' } },
      },
    },
    run: ({ a, b }) => Number(a) + Number(b),
  };
}

function upper(run?: RunnableTool['run']): RunnableTool {
  return {
    type: 'function',
    function: { name: 'upper', description: 'Capitals', parameters: { type: 'object', required: ['text'] } },
    run: run ?? (({ text }) => String(text).toUpperCase()),
  };
}

const chats = (fake: FakeOllama): RecordedRequest[] => fake.requests.filter((r) => r.path === '/api/chat');
const bodyOf = (request: RecordedRequest | undefined) => request?.body as { messages: Message[]; tools: unknown[] };

/** Resolves when `count` parties have arrived, or rejects after `ms`: proves they ran at the same time. */
function barrier(count: number, ms: number): () => Promise<void> {
  let arrived = 0;
  let open: () => void = () => {};
  const all = new Promise<void>((resolve) => {
    open = resolve;
  });
  return async () => {
    if (++arrived === count) open();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        all,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`only ${arrived} of ${count} tools were running at once`)), ms);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  };
}

test('tool loop: several calls in one round run at once, and their results go back in call order', async () => {
  await withFake(async (fake) => {
    fake.script(
      {
        tokens: [],
        toolCalls: [
          { name: 'add', arguments: { a: 1, b: 2 } },
          { name: 'upper', arguments: { text: 'hi' } },
        ],
      },
      answer,
    );
    const together = barrier(2, 5000);
    const slowAdd = add();
    const sum = slowAdd.run;
    slowAdd.run = async (args, context) => {
      await together();
      return sum(args, context);
    };
    const result = await runTools(
      {
        model: 'llama3.2',
        messages: ask,
        tools: [
          slowAdd,
          upper(async ({ text }) => {
            await together();
            return String(text).toUpperCase();
          }),
        ],
      },
      { host: fake.url },
    );
    assert.equal(result.rounds, 2);
    assert.equal(result.response.message.content, 'It is 3, and HI.');
    assert.equal(result.response.done, true);
    assert.deepEqual(
      result.messages.map((m) => [m.role, m.tool_name ?? '', m.content]),
      [
        ['user', '', ask[0]!.content],
        ['assistant', '', ''],
        ['tool', 'add', '3'],
        ['tool', 'upper', 'HI'],
        ['assistant', '', 'It is 3, and HI.'],
      ],
    );
    assert.deepEqual(
      result.messages[1]?.tool_calls?.map((call) => call.function.name),
      ['add', 'upper'],
    );
    // The second request carries the whole history; the tools went out without their run.
    const [first, second] = chats(fake);
    assert.equal(chats(fake).length, 2);
    assert.deepEqual(bodyOf(second).messages, JSON.parse(JSON.stringify(result.messages.slice(0, 4))));
    assert.equal(bodyOf(second).messages[2]?.tool_call_id, result.messages[1]?.tool_calls?.[0]?.id);
    for (const request of [first, second]) {
      assert.deepEqual(
        bodyOf(request).tools.map((tool) => Object.keys(tool as object).sort()),
        [
          ['function', 'type'],
          ['function', 'type'],
        ],
      );
    }
    // The caller's messages are not touched.
    assert.equal(ask.length, 1);
  });
});

test('tool loop: a tool that throws has its message sent back to the model, and the loop goes on', async () => {
  await withFake(async (fake) => {
    fake.script({ toolCalls: [{ name: 'upper', arguments: { text: 'x' } }] }, answer);
    const result = await runTools(
      {
        model: 'llama3.2',
        messages: ask,
        tools: [
          upper(() => {
            throw new Error('the upper service is down');
          }),
        ],
      },
      { host: fake.url },
    );
    assert.equal(result.rounds, 2);
    assert.deepEqual(result.messages[2], {
      role: 'tool',
      content: 'Error: the upper service is down',
      tool_name: 'upper',
      tool_call_id: result.messages[1]?.tool_calls?.[0]?.id,
    });
    assert.equal(bodyOf(chats(fake)[1]).messages[2]?.content, 'Error: the upper service is down');
  });
});

test("tool loop: with onToolError 'stop' a throwing tool ends the loop with its own error and aborts the others", async () => {
  await withFake(async (fake) => {
    fake.script({
      toolCalls: [
        { name: 'add', arguments: { a: 1, b: 1 } },
        { name: 'upper', arguments: { text: 'x' } },
      ],
    });
    const boom = new Error('boom');
    let sibling: AbortSignal | undefined;
    const waiting = add();
    waiting.run = (_args, { signal }) => {
      sibling = signal;
      return new Promise(() => {}); // never settles: only the abort can end it
    };
    await assert.rejects(
      runTools(
        {
          model: 'llama3.2',
          messages: ask,
          tools: [
            waiting,
            upper(async () => {
              await new Promise((resolve) => setTimeout(resolve, 20));
              throw boom;
            }),
          ],
        },
        { host: fake.url, onToolError: 'stop' },
      ),
      (error) => error === boom,
    );
    // The tool's own error is left as it threw it.
    assert.equal(Object.hasOwn(boom, 'messages'), false);
    assert.equal(sibling?.aborted, true, 'the tool still running saw the abort');
    assert.equal(chats(fake).length, 1, 'no second round');
  });
});

test('tool loop: an unknown tool name is reported to the model, or with onToolError stop is a kind-tool error', async () => {
  await withFake(async (fake) => {
    fake.script({ toolCalls: [{ name: 'delete_everything' }] }, answer, { toolCalls: [{ name: 'delete_everything' }] });
    const result = await runTools({ model: 'llama3.2', messages: ask, tools: [add(), upper()] }, { host: fake.url });
    assert.equal(result.messages[2]?.role, 'tool');
    assert.equal(result.messages[2]?.tool_name, 'delete_everything');
    assert.equal(result.messages[2]?.content, 'Error: There is no tool "delete_everything"; the tools are add,upper.');

    await assert.rejects(
      runTools({ model: 'llama3.2', messages: ask, tools: [add(), upper()] }, { host: fake.url, onToolError: 'stop' }),
      (error) => {
        assert.ok(isOllamaError(error));
        assert.equal(error.kind, 'tool');
        assert.equal(error.message, 'There is no tool "delete_everything"; the tools are add,upper.');
        // The loop's own error: the conversation up to the assistant message whose call failed.
        assert.deepEqual(
          error.messages?.map((m) => m.role),
          ['user', 'assistant'],
        );
        assert.equal(error.messages?.[1]?.tool_calls?.[0]?.function.name, 'delete_everything');
        assert.equal(error.rounds, 1);
        return true;
      },
    );
  });
});

test('tool loop: a call without a function, and tools that throw what cannot be read, are reported to the model', async () => {
  await withFake(async (fake) => {
    const line = {
      model: 'llama3.2',
      created_at: 't',
      message: { role: 'assistant', content: '', tool_calls: [{ id: 'call_1' }] },
      done: true,
    };
    const body = `${JSON.stringify(line)}\n`;
    fake.script({ respond: { status: 200, headers: { 'content-type': 'application/x-ndjson' }, body } }, answer);
    const result = await runTools({ model: 'llama3.2', messages: ask, tools: [add()] }, { host: fake.url });
    assert.deepEqual(result.messages[2], {
      role: 'tool',
      content: 'Error: The call names no tool; the tools are add.',
      tool_name: '',
      tool_call_id: 'call_1',
    });
    const thrown: unknown[] = [
      Object.create(null),
      {
        get message(): string {
          throw new Error('no');
        },
      },
    ];
    for (const value of thrown) {
      fake.script({ toolCalls: [{ name: 'upper', arguments: { text: 'x' } }] }, answer);
      const reported = await runTools(
        {
          model: 'llama3.2',
          messages: ask,
          tools: [
            upper(() => {
              throw value;
            }),
          ],
        },
        { host: fake.url },
      );
      assert.equal(reported.messages[2]?.content, 'Error: the tool threw a value that cannot be shown');
    }
  });
});

test('tool loop: a model that never stops asking fails with kind tool after maxRounds requests', async () => {
  await withFake(async (fake) => {
    let runs = 0;
    const counted = add();
    counted.run = () => ++runs;
    // Without a script, the stand-in calls one of the request's tools in every answer.
    await assert.rejects(
      runTools({ model: 'llama3.2', messages: ask, tools: [counted] }, { host: fake.url, maxRounds: 3 }),
      (error) => {
        assert.ok(isOllamaError(error));
        assert.equal(error.kind, 'tool');
        assert.match(
          error.message,
          /^The model "llama3\.2" still called add in round 3 of http:.*\/api\/chat, the last of maxRounds/,
        );
        // Nothing the two rounds' tools did is lost: the loop can go on from here.
        assert.deepEqual(
          error.messages?.map((m) => m.role),
          ['user', 'assistant', 'tool', 'assistant', 'tool', 'assistant'],
        );
        assert.deepEqual(
          error.messages?.filter((m) => m.role === 'tool').map((m) => m.content),
          ['1', '2'],
        );
        assert.equal(error.rounds, 3);
        assert.equal(Object.keys(error).includes('messages'), false, 'not printed with the error');
        return true;
      },
    );
    assert.equal(chats(fake).length, 3);
    assert.equal(runs, 2, 'the calls of the last round are not run');
  });
});

test('tool loop: maxRounds defaults to 8', async () => {
  await withFake(async (fake) => {
    await assert.rejects(
      runTools({ model: 'llama3.2', messages: ask, tools: [add()] }, { host: fake.url }),
      (error) => isOllamaError(error) && error.kind === 'tool',
    );
    assert.equal(chats(fake).length, 8);
  });
});

test('tool loop: an abort while a tool runs rejects with the reason at once, and the tool sees the signal', async () => {
  await withFake(async (fake) => {
    fake.script({ toolCalls: [{ name: 'upper', arguments: { text: 'x' } }] }, answer);
    const controller = new AbortController();
    const stop = new Error('user pressed stop');
    let seen: unknown;
    const started = performance.now();
    await assert.rejects(
      runTools(
        {
          model: 'llama3.2',
          messages: ask,
          tools: [
            upper(
              (_args, { signal }) =>
                new Promise((_, reject) => {
                  setTimeout(() => controller.abort(stop), 50);
                  signal.addEventListener('abort', () => {
                    seen = signal.reason;
                    reject(new Error('tool cancelled'));
                  });
                }),
            ),
          ],
        },
        { host: fake.url, signal: controller.signal },
      ),
      (error) => error === stop,
    );
    assert.equal(Object.hasOwn(stop, 'messages'), false, 'the abort reason is left as it was');
    assert.equal(seen, stop, 'the running tool was told, with the same reason');
    assert.ok(performance.now() - started < 3000);
    assert.equal(chats(fake).length, 1);
  });
});

test('tool loop: totalTimeout covers the tools too, and a tool that ignores its signal does not hold the loop', async () => {
  await withFake(async (fake) => {
    fake.script({ toolCalls: [{ name: 'upper', arguments: { text: 'x' } }] }, answer);
    let signal: AbortSignal | undefined;
    const started = performance.now();
    await assert.rejects(
      runTools(
        {
          model: 'llama3.2',
          messages: ask,
          tools: [
            upper((_args, context) => {
              signal = context.signal;
              return new Promise(() => {}); // ignores its signal, never settles
            }),
          ],
        },
        { host: fake.url, totalTimeout: 400 },
      ),
      (error) => {
        assert.ok(isOllamaError(error));
        assert.equal(error.kind, 'total-timeout');
        assert.match(error.message, /totalTimeout \(400 ms\)/);
        // The loop's one request, as a call's own total timeout counts its requests.
        assert.equal(error.attempts, 1);
        assert.deepEqual(
          error.messages?.map((m) => m.role),
          ['user', 'assistant'],
        );
        assert.equal(error.rounds, 1);
        return true;
      },
    );
    const took = performance.now() - started;
    assert.ok(took >= 350 && took < 3000, `took ${took} ms`);
    assert.equal(signal?.aborted, true);
  });
});

test("tool loop: a round's retry wait that would end after totalTimeout fails at once, naming the failure", async () => {
  await withFake(async (fake) => {
    const busy = { respond: { status: 503, headers: { 'retry-after': '5' }, body: '{"error":"busy"}' } };
    fake.script({ toolCalls: [{ name: 'upper', arguments: { text: 'x' } }] }, busy);
    const started = performance.now();
    await assert.rejects(
      runTools({ model: 'llama3.2', messages: ask, tools: [upper()] }, { host: fake.url, totalTimeout: 2000 }),
      (error) => {
        assert.ok(isOllamaError(error));
        assert.equal(error.kind, 'total-timeout');
        assert.match(error.message, /totalTimeout \(2000 ms\)/);
        assert.match(error.message, /http 503/);
        // Round 1 done, round 2's request failed: the conversation holds round 1 whole.
        assert.deepEqual(
          error.messages?.map((m) => m.role),
          ['user', 'assistant', 'tool'],
        );
        assert.equal(error.messages?.[2]?.content, 'X');
        assert.equal(error.rounds, 2);
        return true;
      },
    );
    const took = performance.now() - started;
    assert.ok(took < 1000, `sat ${took} ms in a wait it could not finish`);
    assert.equal(chats(fake).length, 2);
  });
});

test('tool loop, streaming: thinking, content, tool calls and results arrive in order, then done', async () => {
  await withFake(async (fake) => {
    fake.script(
      {
        thinkingTokens: ['Need', ' tools.'],
        tokens: ['Let me check.'],
        toolCalls: [{ name: 'add', arguments: { a: 2, b: 2 } }],
      },
      { thinkingTokens: ['Got it.'], tokens: ['Four', '.'], toolCallCount: 0 },
    );
    const events: ToolLoopEvent[] = [];
    const stream = runToolsStream({ model: 'qwen3', messages: ask, tools: [add()] }, { host: fake.url });
    for await (const event of stream) events.push(event);
    const brief = events.map((e) => {
      switch (e.type) {
        case 'thinking':
          return `${e.round} thinking ${e.thinking}`;
        case 'content':
          return `${e.round} content ${e.content}`;
        case 'tool_call':
          return `${e.round} call ${e.call.function.name}`;
        case 'tool_result':
          return `${e.round} result ${e.call.function.name}=${e.content}`;
        default:
          return `${e.round} done ${e.result.response.message.content}`;
      }
    });
    assert.deepEqual(brief, [
      '1 thinking Need',
      '1 thinking  tools.',
      '1 content Let me check.',
      '1 call add',
      '1 result add=4',
      '2 thinking Got it.',
      '2 content Four',
      '2 content .',
      '2 done Four.',
    ]);
    const done = events.at(-1);
    assert.ok(done?.type === 'done');
    assert.equal(done.result.messages[1]?.thinking, 'Need tools.');
    assert.equal(done.result.messages[1]?.content, 'Let me check.');
  });
});

test('tool loop, streaming: break stops everything: the connection closes and no tool or round follows', async () => {
  await withFake(async (fake) => {
    fake.script({ tokens: ['a', 'b', 'c', 'd', 'e', 'f'], chunkDelayMs: 100, toolCalls: [{ name: 'add' }] });
    let ran = false;
    const spy = add();
    spy.run = () => {
      ran = true;
      return 0;
    };
    for await (const event of runToolsStream({ model: 'llama3.2', messages: ask, tools: [spy] }, { host: fake.url })) {
      if (event.type === 'content') break;
    }
    await fake.waitFor((r) => r[0]?.closedAt !== undefined, 3000);
    assert.equal(fake.requests[0]?.clientDisconnected, true);
    assert.ok((fake.requests[0]?.pendingChunks ?? 0) > 0, 'the answer was cut short');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(ran, false);
    assert.equal(chats(fake).length, 1);
  });
});

test('tool loop, streaming: a return() from outside while a tool runs, ignoring its signal, settles at once', async () => {
  await withFake(async (fake) => {
    fake.script({ toolCalls: [{ name: 'upper', arguments: { text: 'hi' } }] }, answer);
    let signal: AbortSignal | undefined;
    const slow = upper((_, { signal: given }) => {
      signal = given;
      return new Promise((resolve) => setTimeout(resolve, 3000, 'late'));
    });
    const events = runToolsStream({ model: 'llama3.2', messages: ask, tools: [slow] }, { host: fake.url });
    let step = await events.next();
    while (step.done !== true && step.value.type !== 'tool_call') step = await events.next();
    const waiting = events.next(); // waits on the tool
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = performance.now();
    assert.deepEqual(await events.return(undefined as never), { value: undefined, done: true });
    assert.ok(performance.now() - started < 500, `return() took ${Math.round(performance.now() - started)} ms`);
    assert.deepEqual(await waiting, { value: undefined, done: true }, 'the step under way ends the stream, no error');
    assert.equal(signal?.aborted, true, 'the tool was told');
    assert.deepEqual(await events.next(), { value: undefined, done: true });
    assert.equal(chats(fake).length, 1, 'no round followed');
  });
});

test('tool loop, streaming: a return() from outside while the model is silent closes the connection at once', async () => {
  await withFake(async (fake) => {
    fake.script({ tokens: ['a', 'b', 'c'], stallAfter: 1, toolCalls: [{ name: 'add' }] });
    const events = runToolsStream({ model: 'llama3.2', messages: ask, tools: [add()] }, { host: fake.url });
    assert.equal(((await events.next()).value as ToolLoopEvent).type, 'content');
    const waiting = events.next(); // waits on a model that says nothing more
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = performance.now();
    await events.return(undefined as never);
    assert.ok(performance.now() - started < 500, `return() took ${Math.round(performance.now() - started)} ms`);
    assert.deepEqual(await waiting, { value: undefined, done: true });
    await fake.waitFor((r) => r[0]?.clientDisconnected === true, 2000);
  });
});

test('tool loop: arguments sent as JSON text are parsed for run; text that is not an object is reported', async () => {
  await withFake(async (fake) => {
    const text = '{"a":1,"b":2}' as unknown as Record<string, unknown>;
    const bad = 'not json' as unknown as Record<string, unknown>;
    fake.script(
      { toolCalls: [{ name: 'add', arguments: text }] },
      { toolCalls: [{ name: 'add', arguments: bad }] },
      answer,
    );
    const seen: unknown[] = [];
    const spy = add();
    spy.run = (args) => {
      seen.push(args);
      return Number(args.a) + Number(args.b);
    };
    const { messages } = await runTools({ model: 'llama3.2', messages: ask, tools: [spy] }, { host: fake.url });
    assert.deepEqual(seen, [{ a: 1, b: 2 }]);
    const results = messages.filter((m) => m.role === 'tool').map((m) => m.content);
    assert.equal(results[0], '3');
    assert.match(results[1] ?? '', /^Error: The arguments of the call are not a JSON object: "not json"/);
  });
});

test('tool loop: a tool result that is not a string goes back as JSON', async () => {
  await withFake(async (fake) => {
    fake.script({ toolCalls: [{ name: 'upper', arguments: { text: 'x' } }] }, answer);
    const result = await runTools(
      { model: 'llama3.2', messages: ask, tools: [upper(() => ({ temperature: 21, unit: 'C' }))] },
      { host: fake.url },
    );
    assert.equal(result.messages[2]?.content, '{"temperature":21,"unit":"C"}');
  });
});

test('tool loop: bad input is a TypeError before any request', async () => {
  await withFake(async (fake) => {
    const bad: Array<[unknown, unknown]> = [
      [{ model: 'llama3.2', messages: ask, tools: 'add' }, undefined],
      [{ model: 'llama3.2', messages: 'hi', tools: [add()] }, undefined],
      [{ model: 'llama3.2', messages: ask, tools: [{ ...add(), run: undefined }] }, undefined],
      [{ model: 'llama3.2', messages: ask, tools: [add(), add()] }, undefined],
      [{ model: '', messages: ask, tools: [add()] }, undefined],
      [{ model: 'llama3.2', messages: ask, tools: [add()] }, { onToolError: 'ignore' }],
    ];
    for (const [request, options] of bad) {
      assert.throws(
        () => runToolsStream(request as never, { host: fake.url, ...(options as object) }),
        TypeError,
        JSON.stringify(request),
      );
    }
    assert.throws(
      () => runToolsStream({ model: 'llama3.2', messages: ask, tools: [add()] }, { host: fake.url, maxRounds: 0 }),
      RangeError,
    );
    assert.equal(fake.requests.length, 0);
  });
});
