// A request body becomes JSON once per call, when its Exchange is built: every attempt sends the
// same string, and a request JSON cannot carry is refused before anything is sent, by the path of
// the field at fault rather than in the runtime's own words at the first attempt.

/**
 * `value` as JSON. What `JSON.stringify` refuses (a BigInt, a cycle) is a `TypeError` such as
 * `chat: request.options.seed is a BigInt, …`, naming the call and the field, never its value.
 */
export function requestJson(call: string, value: unknown): string {
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
