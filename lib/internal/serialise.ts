// A request body becomes JSON once per call, when its Exchange is built: every attempt sends the
// same string, and a request JSON cannot carry is refused before anything is sent, by the path of
// the field at fault rather than in the runtime's own words at the first attempt.

/**
 * `value` as JSON. What `JSON.stringify` refuses (a BigInt, a cycle) is a `TypeError` such as
 * `chat: request.options.seed is a BigInt, …`, naming the call and the field, never its value.
 */
export function requestJson(call: string, value: unknown): string {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    checkParameters(call, value as Record<string, unknown>);
  }
  try {
    return JSON.stringify(value);
  } catch (error) {
    let fault: string | undefined;
    try {
      fault = find(value, 'request', []);
    } catch {
      // Nested too deep to walk: the call alone is named.
    }
    throw new TypeError(`${call}: ${fault ?? 'the request'} cannot be sent as JSON. Nothing was sent.`, {
      cause: error,
    });
  }
}

/** Where in `value` the first BigInt or cycle is, as the caller would write the field. */
function find(value: unknown, path: string, above: Array<[object, string]>): string | undefined {
  if (typeof value === 'bigint') return `${path} is a BigInt, which`;
  if (typeof value !== 'object' || value === null) return undefined;
  const cycle = above.find(([object]) => object === value);
  if (cycle !== undefined) return `${path} refers back to ${cycle[1]} (a cycle), so it`;
  const json = (value as { toJSON?: unknown }).toJSON;
  if (typeof json === 'function') return find(json.call(value), path, above);
  for (const [key, item] of Object.entries(value)) {
    const step = Array.isArray(value)
      ? `[${key}]`
      : /^[A-Za-z_$][\w$]*$/.test(key)
        ? `.${key}`
        : `[${JSON.stringify(key)}]`;
    const found = find(item, path + step, [...above, [value, path]]);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** A Go duration (`5m`, `1h30m`, `-1s`, `0`), which is what Ollama reads a string `keep_alive` as. */
const GO_DURATION = /^[-+]?(?:0|(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/;

/**
 * What JSON would change or Ollama would refuse without naming the field: a number that is not
 * finite (`NaN` is sent as `null`, so `temperature: NaN` would silently be the model's default),
 * at the top of the request or in its `options`, and a `keep_alive` that is neither a number of
 * seconds nor a duration (nor `null`, which Ollama reads as its default, as ollama-js sends it).
 */
function checkParameters(call: string, request: Record<string, unknown>): void {
  const { options, keep_alive: keepAlive } = request;
  for (const [path, fields] of [
    ['request', request],
    ['request.options', options],
  ] as const) {
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) continue;
    for (const [key, field] of Object.entries(fields)) {
      if (typeof field === 'number' && !Number.isFinite(field)) {
        throw new TypeError(
          `${call}: ${path}.${key} is ${field}, which JSON cannot carry (it would be sent as null). Nothing was sent.`,
        );
      }
    }
  }
  if (
    keepAlive !== undefined &&
    keepAlive !== null &&
    !(typeof keepAlive === 'number' || (typeof keepAlive === 'string' && GO_DURATION.test(keepAlive)))
  ) {
    const got =
      typeof keepAlive === 'string' ? `the string ${JSON.stringify(keepAlive.slice(0, 40))}` : typeof keepAlive;
    throw new TypeError(
      `${call}: request.keep_alive must be a number of seconds or a duration such as "5m" or "1h30m" (negative keeps the model loaded, 0 unloads it), got ${got}. Nothing was sent.`,
    );
  }
}
