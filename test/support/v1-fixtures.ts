// Both forms of one /v1 chat answer: the chunks a server streams and the object it answers
// for `stream: false`. The stand-in serves either form (behaviour `fixture`), and the fold
// test checks that `chatCompletions`, which streams and folds, returns exactly the second.
// The shapes follow the servers': Ollama's (openai/openai.go: `reasoning`, whole tool calls
// with `index`, a separate finish chunk with `delta: {}`, the usage chunk with `choices: []`),
// and OpenAI's / vLLM's (a role delta first, tool calls in fragments that interleave by
// `index`, `reasoning_content`, `logprobs: null` and vLLM's `stop_reason` on every choice).

export interface V1Fixture {
  name: string;
  chunks: Record<string, unknown>[];
  answer: Record<string, unknown>;
}

const ollamaHead = { id: 'chatcmpl-7', object: 'chat.completion.chunk', created: 1767225600, model: 'qwen3' };
const ollamaTop = { id: 'chatcmpl-7', object: 'chat.completion', created: 1767225600, model: 'qwen3' };
const fp = { system_fingerprint: 'fp_ollama' };

function ollama(deltas: Record<string, unknown>[], finish: string, usage: Record<string, number>) {
  const chunks: Record<string, unknown>[] = deltas.map((delta) => ({
    ...ollamaHead,
    ...fp,
    choices: [{ index: 0, delta, finish_reason: null }],
  }));
  chunks.push({ ...ollamaHead, ...fp, choices: [{ index: 0, delta: {}, finish_reason: finish }] });
  chunks.push({ ...ollamaHead, ...fp, choices: [], usage });
  return chunks;
}

function zeroCall(id: string, city: string) {
  return { id, index: 0, type: 'function', function: { name: 'get_weather', arguments: `{"city":"${city}"}` } };
}

function noIdCall(x: number) {
  return { index: 0, type: 'function', function: { name: 'set_x', arguments: `{"x":${x}}` } };
}

const usage = (p: number, c: number) => ({ prompt_tokens: p, completion_tokens: c, total_tokens: p + c });

const vllmHead = { id: 'chatcmpl-4f1c', object: 'chat.completion.chunk', created: 1767225601, model: 'Qwen/Qwen3-8B' };
const vllmTop = { id: 'chatcmpl-4f1c', object: 'chat.completion', created: 1767225601, model: 'Qwen/Qwen3-8B' };
const vllmChunk = (
  delta: Record<string, unknown>,
  finish: string | null = null,
  extra: Record<string, unknown> = {},
) => ({
  ...vllmHead,
  choices: [{ index: 0, delta, logprobs: null, finish_reason: finish, ...extra }],
});

const zeroAnswer = {
  ...ollamaTop,
  ...fp,
  choices: [
    {
      index: 0,
      message: {
        role: 'assistant',
        content: '',
        tool_calls: [zeroCall('call_a1', 'Lima'), zeroCall('call_b2', 'Quito')],
      },
      finish_reason: 'tool_calls',
    },
  ],
  usage: usage(40, 22),
};

export const V1_FIXTURES: readonly V1Fixture[] = [
  {
    name: 'ollama: content, stop',
    chunks: ollama(
      [{ role: 'assistant', content: 'Grüße' }, { content: ' aus' }, { content: ' 日本 🦙.' }],
      'stop',
      usage(11, 5),
    ),
    answer: {
      ...ollamaTop,
      ...fp,
      choices: [{ index: 0, message: { role: 'assistant', content: 'Grüße aus 日本 🦙.' }, finish_reason: 'stop' }],
      usage: usage(11, 5),
    },
  },
  {
    name: 'ollama: reasoning then content',
    chunks: ollama(
      [
        { role: 'assistant', content: '', reasoning: 'The user' },
        { content: '', reasoning: ' greets me.' },
        { content: 'Hello' },
        { content: '!' },
      ],
      'stop',
      usage(9, 8),
    ),
    answer: {
      ...ollamaTop,
      ...fp,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hello!', reasoning: 'The user greets me.' },
          finish_reason: 'stop',
        },
      ],
      usage: usage(9, 8),
    },
  },
  {
    name: 'ollama: whole tool calls',
    chunks: ollama(
      [
        {
          role: 'assistant',
          content: '',
          tool_calls: [
            {
              id: 'call_k3x9',
              index: 0,
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Lima"}' },
            },
          ],
        },
        {
          content: '',
          tool_calls: [
            {
              id: 'call_p2m1',
              index: 1,
              type: 'function',
              function: { name: 'get_time', arguments: '{"zone":"America/Lima"}' },
            },
          ],
        },
      ],
      'tool_calls',
      usage(40, 22),
    ),
    answer: {
      ...ollamaTop,
      ...fp,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: '',
            tool_calls: [
              {
                id: 'call_k3x9',
                index: 0,
                type: 'function',
                function: { name: 'get_weather', arguments: '{"city":"Lima"}' },
              },
              {
                id: 'call_p2m1',
                index: 1,
                type: 'function',
                function: { name: 'get_time', arguments: '{"zone":"America/Lima"}' },
              },
            ],
          },
          finish_reason: 'tool_calls',
        },
      ],
      usage: usage(40, 22),
    },
  },
  // Ollama's /v1 copies the native `function.index` onto each call, and real native answers often
  // leave it out: every call of such an answer says `index: 0`.
  {
    name: 'ollama: two whole tool calls that both say index 0, in separate chunks',
    chunks: ollama(
      [
        { role: 'assistant', content: '', tool_calls: [zeroCall('call_a1', 'Lima')] },
        { content: '', tool_calls: [zeroCall('call_b2', 'Quito')] },
      ],
      'tool_calls',
      usage(40, 22),
    ),
    answer: zeroAnswer,
  },
  {
    name: 'ollama: two whole tool calls that both say index 0, in one delta',
    chunks: ollama(
      [{ role: 'assistant', content: '', tool_calls: [zeroCall('call_a1', 'Lima'), zeroCall('call_b2', 'Quito')] }],
      'tool_calls',
      usage(40, 22),
    ),
    answer: zeroAnswer,
  },
  // A server that numbers nothing: the head of a call carries its id, the fragments after it only
  // arguments.
  {
    name: 'fragments of one tool call without index',
    chunks: [
      vllmChunk({ role: 'assistant', content: null }),
      vllmChunk({
        tool_calls: [{ id: 'call_n1', type: 'function', function: { name: 'get_weather', arguments: '' } }],
      }),
      vllmChunk({ tool_calls: [{ function: { arguments: '{"city":' } }] }),
      vllmChunk({ tool_calls: [{ function: { arguments: ' "Lima"}' } }] }),
      vllmChunk({}, 'tool_calls'),
    ],
    answer: {
      ...vllmTop,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'call_n1', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Lima"}' } },
            ],
          },
          logprobs: null,
          finish_reason: 'tool_calls',
        },
      ],
    },
  },
  // Two calls from a server that numbers nothing, the first of a function without parameters:
  // its arguments stay "" (not JSON), and the next call's head (a new id and a name) once
  // continued it, so one call of the two was lost.
  {
    name: 'two tool calls without index, the first with empty arguments',
    chunks: [
      vllmChunk({ role: 'assistant', content: null }),
      vllmChunk({
        tool_calls: [{ id: 'call_t1', type: 'function', function: { name: 'get_time', arguments: '' } }],
      }),
      vllmChunk({
        tool_calls: [{ id: 'call_w2', type: 'function', function: { name: 'get_weather', arguments: '' } }],
      }),
      vllmChunk({ tool_calls: [{ function: { arguments: '{"city": "Oslo"}' } }] }),
      vllmChunk({}, 'tool_calls'),
    ],
    answer: {
      ...vllmTop,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'call_t1', type: 'function', function: { name: 'get_time', arguments: '' } },
              { id: 'call_w2', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Oslo"}' } },
            ],
          },
          logprobs: null,
          finish_reason: 'tool_calls',
        },
      ],
    },
  },
  // Whole calls that carry no id and all say index 0: each is a call of its own, kept as sent;
  // they were once joined into one call whose arguments, `{"x":1}{"x":2}`, are not JSON.
  {
    name: 'two whole tool calls without id, both index 0',
    chunks: ollama(
      [
        { role: 'assistant', content: '', tool_calls: [noIdCall(1)] },
        { content: '', tool_calls: [noIdCall(2)] },
      ],
      'tool_calls',
      usage(30, 20),
    ),
    answer: {
      ...ollamaTop,
      ...fp,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: '', tool_calls: [noIdCall(1), noIdCall(2)] },
          finish_reason: 'tool_calls',
        },
      ],
      usage: usage(30, 20),
    },
  },
  {
    name: 'ollama: cut at max_tokens (length)',
    chunks: ollama([{ role: 'assistant', content: 'One, two' }, { content: ', three' }], 'length', usage(6, 4)),
    answer: {
      ...ollamaTop,
      ...fp,
      choices: [{ index: 0, message: { role: 'assistant', content: 'One, two, three' }, finish_reason: 'length' }],
      usage: usage(6, 4),
    },
  },
  {
    name: 'vllm: fragmented tool calls interleaved by index',
    chunks: [
      vllmChunk({ role: 'assistant', content: null }),
      vllmChunk({
        tool_calls: [
          { index: 0, id: 'chatcmpl-tool-a1', type: 'function', function: { name: 'get_weather', arguments: '' } },
        ],
      }),
      vllmChunk({ tool_calls: [{ index: 0, function: { arguments: '{"city": ' } }] }),
      vllmChunk({
        tool_calls: [
          { index: 1, id: 'chatcmpl-tool-b2', type: 'function', function: { name: 'get_time', arguments: '' } },
        ],
      }),
      vllmChunk({ tool_calls: [{ index: 1, function: { arguments: '{"zone": "UTC"}' } }] }),
      vllmChunk({ tool_calls: [{ index: 0, function: { arguments: '"Lima"}' } }] }),
      vllmChunk({}, 'tool_calls', { stop_reason: null }),
      { ...vllmHead, choices: [], usage: usage(52, 31) },
    ],
    answer: {
      ...vllmTop,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: 'chatcmpl-tool-a1',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"city": "Lima"}' },
              },
              {
                id: 'chatcmpl-tool-b2',
                type: 'function',
                function: { name: 'get_time', arguments: '{"zone": "UTC"}' },
              },
            ],
          },
          logprobs: null,
          finish_reason: 'tool_calls',
          stop_reason: null,
        },
      ],
      usage: usage(52, 31),
    },
  },
  {
    name: 'vllm: reasoning_content, stop on the last content delta',
    chunks: [
      vllmChunk({ role: 'assistant', content: '' }),
      vllmChunk({ reasoning_content: 'Two plus two' }),
      vllmChunk({ reasoning_content: ' is four.' }),
      vllmChunk({ content: '4' }),
      vllmChunk({ content: '.' }, 'stop', { stop_reason: null }),
      { ...vllmHead, choices: [], usage: usage(14, 9) },
    ],
    answer: {
      ...vllmTop,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: '4.', reasoning_content: 'Two plus two is four.' },
          logprobs: null,
          finish_reason: 'stop',
          stop_reason: null,
        },
      ],
      usage: usage(14, 9),
    },
  },
];
