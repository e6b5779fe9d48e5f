/**
 * The body of a response that a `fetch` option made, as the web stream the readers take. Such a
 * fetch need not be a web one: node-fetch 2 answers with a Node stream as `body` (async iterable,
 * no `getReader`), and a runtime without streamed bodies (React Native's) with no `body` at all,
 * while its `arrayBuffer()` works. The runtime's own fetch needs none of this, and is not asked.
 * A body of another kind is a `TypeError` that says what the option returned.
 */
export function webBody(response: Response): ReadableStream<Uint8Array> | null {
  const body = response.body as unknown;
  if (body === null || body === undefined) {
    // A real Response without a body (a 204, a HEAD) has an empty `arrayBuffer()`: the same nothing.
    const { arrayBuffer, text } = response as Partial<Response>;
    const whole: ((this: Response) => Promise<unknown>) | undefined =
      typeof arrayBuffer === 'function' ? arrayBuffer : text;
    return typeof whole === 'function' ? piecesOf(once(() => whole.call(response))) : null;
  }
  if (typeof (body as Partial<ReadableStream>).getReader === 'function') return body as ReadableStream<Uint8Array>;
  const iterate = (body as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator];
  if (typeof iterate === 'function') return piecesOf(iterate.call(body));
  throw new TypeError(
    `The fetch option returned a Response whose body (${kindOf(body)}) is neither a ReadableStream nor ` +
      'async iterable: pass a fetch that returns a standard Response.',
  );
}

async function* once(read: () => Promise<unknown>): AsyncGenerator<unknown> {
  yield await read();
}

/** The pieces (bytes, or strings from a Node stream with an encoding) as a web stream, read only
 * as fast as it is read itself; cancelling it ends the iteration, which destroys a Node stream. */
function piecesOf(iterator: AsyncIterator<unknown>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { done, value } = await iterator.next();
        if (done === true) controller.close();
        else if (value instanceof Uint8Array) controller.enqueue(value);
        else if (value instanceof ArrayBuffer) controller.enqueue(new Uint8Array(value));
        else if (typeof value === 'string') controller.enqueue(encoder.encode(value));
        else throw new TypeError(`The fetch option's response body gave ${kindOf(value)}, not bytes.`);
      },
      async cancel() {
        await iterator.return?.();
      },
    },
    { highWaterMark: 0 },
  );
}

function kindOf(value: unknown): string {
  const name = (value as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof value === 'object' && typeof name === 'string' && name !== 'Object' ? `a ${name}` : typeof value;
}
