// A request body becomes JSON once per call, when its Exchange is built: every attempt sends the
// same string, and a value JSON cannot carry is refused before anything is sent, by the path of
// the field that holds it rather than by the runtime's own words at the first attempt.

/** Deeper than this, a request is refused rather than risk the call stack (Ollama's own decoder
 * stops at 10,000; no real request comes near either). */
const MAX_DEPTH = 1000;

interface Place {
  parent: Place | undefined;
  key: string;
  value: object;
  depth: number;
}

/**
 * `value` as JSON, checked on the way: a BigInt, a cycle, a function, a symbol, a number that is
 * not finite (JSON has no NaN: `JSON.stringify` would send null), a Map or a Set (which would
 * silently become `{}`), or nesting deeper than 1000 levels is a `TypeError` such as
 * `chat: request.options.seed is a BigInt …`, naming the call and the field, never its value.
 * `toJSON` (a Date) is honoured as JSON.stringify honours it, and called once.
 */
export function requestJson(call: string, value: unknown): string {
  const places = new Map<object, Place>();
  const refuse = (place: string | (() => string), what: string, fix?: string): never => {
    const named = typeof place === 'string' ? place : place();
    throw new TypeError(
      `${call}: ${named} ${what}, which cannot be sent as JSON${fix === undefined ? '' : `; ${fix}`}. ` +
        'Nothing was sent.',
    );
  };
  let text: string | undefined;
  try {
    text = JSON.stringify(value, function check(this: unknown, key: string, item: unknown): unknown {
      const holder = places.get(this as object);
      const path = (): string => (holder === undefined ? 'request' : `${pathOf(holder)}${step(holder.value, key)}`);
      switch (typeof item) {
        case 'bigint':
          return refuse(path, 'is a BigInt', 'pass a Number instead (Number(x))');
        case 'function':
          return refuse(path, 'is a function');
        case 'symbol':
          return refuse(path, 'is a symbol');
        case 'number':
          return Number.isFinite(item) ? item : refuse(path, `is ${String(item)}`);
        case 'object': {
          if (item === null) return item;
          if (item instanceof Map || item instanceof Set) {
            return item instanceof Map
              ? refuse(path, 'is a Map', 'pass a plain object instead (Object.fromEntries(map))')
              : refuse(path, 'is a Set', 'pass an array instead ([...set])');
          }
          for (let up = holder; up !== undefined; up = up.parent) {
            if (up.value === item) return refuse(path, `refers back to ${pathOf(up)} (a cycle)`);
          }
          const depth = (holder?.depth ?? 0) + 1;
          if (depth > MAX_DEPTH) return refuse(path, `is nested more than ${MAX_DEPTH} levels deep`);
          places.set(item, { parent: holder, key, value: item, depth });
          return item;
        }
        default:
          return item;
      }
    });
  } catch (error) {
    if (error instanceof TypeError && error.message.startsWith(`${call}: `)) throw error;
    // Anything else the runtime itself refuses (a toJSON that throws, a stack overflow).
    throw new TypeError(
      `${call}: the request cannot be sent as JSON (${error instanceof Error ? error.name : 'an error'}). ` +
        'Nothing was sent.',
      { cause: error },
    );
  }
  if (text === undefined) refuse('request', 'is not an object');
  return text as string;
}

/** `request.messages[0].content`: how the caller wrote the field. */
function pathOf(place: Place): string {
  const steps: string[] = [];
  for (let at: Place | undefined = place; at?.parent !== undefined; at = at.parent) {
    steps.push(step(at.parent.value, at.key));
  }
  return `request${steps.reverse().join('')}`;
}

function step(container: object, key: string): string {
  if (Array.isArray(container)) return `[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}
