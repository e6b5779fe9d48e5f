// Type-level tests: compiled by `npm test` (through tsconfig.json), never run. Each
// `@ts-expect-error` line must stay an error: if a change makes it compile, tsc reports the
// directive as unused and the build fails. The other lines must keep compiling.
import {
  type CallOptions,
  type ChatRequest,
  type ChatResponse,
  type ClientOptions,
  chat,
  chatStream,
  createClient,
  embed,
  type GenerateResponse,
  generate,
  generateStream,
  type JsonSchema,
  type Message,
  type OllamaClient,
  OllamaError,
  type OllamaErrorKind,
  retry,
  type ShowResponse,
  showModel,
  type Tool,
  type ToolCall,
} from '../../lib/index.ts';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(): T | undefined {
  return undefined;
}

export async function contracts(signal: AbortSignal): Promise<void> {
  // A client's defaults refuse `signal`: it belongs to one call.
  // @ts-expect-error signal is not a client default
  createClient({ signal });
  const client: OllamaClient = createClient({ host: 'http://127.0.0.1:11434', readTimeout: 0 });
  const defaults: ClientOptions = { retry: { retries: 1 }, batchSize: 64 };
  createClient(defaults);

  // chatStream yields ChatResponse, generateStream GenerateResponse.
  for await (const part of chatStream({ model: 'm', messages: [] })) {
    expectType<Equal<typeof part, ChatResponse>>();
  }
  for await (const part of generateStream({ model: 'm', prompt: 'p' })) {
    expectType<Equal<typeof part, GenerateResponse>>();
  }
  expectType<Equal<Awaited<ReturnType<typeof chat>>, ChatResponse>>();
  expectType<Equal<Awaited<ReturnType<OllamaClient['chat']>>, ChatResponse>>();

  // A request needs its model.
  // @ts-expect-error model is required
  await chat({ messages: [{ role: 'user', content: 'hi' }] });
  // @ts-expect-error model is required
  await embed({ input: 'x' });
  // @ts-expect-error input is a string or an array of strings
  await embed({ model: 'm', input: 42 });

  // A message has a role the server knows; content is text.
  // @ts-expect-error content is a string
  await chat({ model: 'm', messages: [{ role: 'user', content: 1 }] });

  // Options are checked by name: a misspelt one does not compile.
  // @ts-expect-error readTimout is not an option
  const typo: CallOptions = { readTimout: 5 };
  void typo;
  // @ts-expect-error timeouts are milliseconds, not strings
  await chat({ model: 'm', messages: [] }, { readTimeout: '5s' });
  await chat({ model: 'm', messages: [] }, { signal, totalTimeout: 1000, retry: false });

  // An error is narrowed by its kind, and the kinds are exactly these.
  try {
    await client.chat({ model: 'm', messages: [] });
  } catch (error) {
    if (error instanceof OllamaError) {
      expectType<
        Equal<
          OllamaErrorKind,
          'http' | 'stream' | 'protocol' | 'connection' | 'connect-timeout' | 'read-timeout' | 'total-timeout'
        >
      >();
      const status: number | undefined = error.status;
      void status;
      // @ts-expect-error kind is read-only
      error.kind = 'http';
    }
  }

  // `stream: true` on chat/generate would be ignored (they answer with one object), so it does
  // not compile: code ported from a client where it returns an iterator fails here, not later.
  // @ts-expect-error chat answers with one object: call chatStream to iterate
  await chat({ model: 'm', messages: [], stream: true });
  // @ts-expect-error generate answers with one object: call generateStream to iterate
  await generate({ model: 'm', prompt: 'p', stream: true });
  // @ts-expect-error the client's chat refuses it too
  await client.chat({ model: 'm', stream: true });
  // @ts-expect-error and the client's generate
  await client.generate({ model: 'm', stream: true });
  // A request that does not insist on streaming still compiles everywhere.
  await chat({ model: 'm', messages: [], stream: false });
  await generate({ model: 'm', prompt: 'p', stream: false });
  // The streaming calls take their requests with or without `stream`, and one ChatRequest
  // serves both chat and chatStream.
  const shared: ChatRequest = { model: 'm', messages: [] };
  await chat(shared);
  for await (const part of chatStream(shared)) void part;
  for await (const part of chatStream({ model: 'm', stream: true })) void part;
  for await (const part of client.chatStream({ model: 'm', stream: true })) void part;
  for await (const part of generateStream({ model: 'm', prompt: 'p', stream: true })) void part;
  for await (const part of client.generateStream({ model: 'm', prompt: 'p' })) void part;

  // retry() knows nothing of HTTP: it hands the attempt its number and returns its value.
  const value: number = await retry(({ attemptNumber }) => attemptNumber, { retries: 1 });
  void value;

  // Issue 12 item 13: what real traffic contains compiles.
  // A hand-built history with tool calls as qwen3 sends them: no index.
  const call: ToolCall = { function: { name: 'get_weather', arguments: { city: 'Paris' } } };
  const history: Message[] = [
    { role: 'user', content: 'Weather in Paris?' },
    { role: 'assistant', content: '', tool_calls: [call, { function: { index: 1, name: 'f', arguments: {} } }] },
    { role: 'tool', content: '21 °C', tool_name: 'get_weather' },
  ];
  // @ts-expect-error index is a number when present
  const badIndex: ToolCall = { function: { index: '0', name: 'f', arguments: {} } };
  void badIndex;

  // A tool's parameters are any JSON Schema: the common keywords typed, the others open.
  const tool: Tool = {
    type: 'function',
    items: { type: 'string' },
    function: {
      name: 'search',
      parameters: {
        type: 'object',
        additionalProperties: false,
        required: ['query'],
        properties: {
          query: { type: 'string', minLength: 1, description: 'what to look for' },
          filters: {
            type: 'array',
            items: { anyOf: [{ type: 'string', enum: ['a', 'b'] }, { $ref: '#/$defs/range' }] },
          },
          mode: { oneOf: [{ const: 'fast' }, { const: 'full' }], default: 'fast' },
          extra: { type: ['string', 'null'], 'x-vendor-hint': true, patternProperties: { '^x-': {} } },
        },
        $defs: { range: { type: 'object', properties: { from: { type: 'number' }, to: { type: 'number' } } } },
      },
    },
  };
  const schema: JsonSchema = { type: 'object', additionalProperties: { type: 'number' } };
  void schema;
  // @ts-expect-error required is a list of names
  const badRequired: JsonSchema = { required: 'query' };
  void badRequired;
  // @ts-expect-error type is a name or a list of names
  const badType: JsonSchema = { type: 5 };
  void badType;
  // @ts-expect-error a property is a schema, not a string
  const badProperty: JsonSchema = { properties: { query: 'string' } };
  void badProperty;
  await chat({ model: 'm', messages: history, tools: [tool] });

  // The fields of ollama.com's answers are declared.
  const answer = await chat({ model: 'gpt-oss:120b-cloud', messages: history });
  const cached: number | undefined = answer.prompt_eval_cached_count;
  const remote: string | undefined = answer.remote_model ?? answer.remote_host;
  void cached;
  void remote;
  for await (const part of generateStream({ model: 'm', prompt: 'p' })) {
    const host: string | undefined = part.remote_host;
    void host;
  }
  // showModel's model_info may be absent (cloud models).
  const shown: ShowResponse = await showModel({ model: 'gpt-oss:120b-cloud' });
  // @ts-expect-error model_info may be undefined
  Object.keys(shown.model_info);
  Object.keys(shown.model_info ?? {});
}
