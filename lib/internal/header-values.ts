// Header names and values the caller gives (options.headers, apiKey, OLLAMA_API_KEY) are checked
// here, before `new Headers()` or fetch sees them: their own errors quote the value, and a value
// may be a secret. Every message names the option and what is wrong, never the value.

/** The characters of a header name (RFC 9110 `token`). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** What is wrong with a header value, or undefined when fetch can send it as it is. Leading and
 * trailing spaces and tabs are allowed (fetch strips them); inside, any control character but
 * a tab is refused (CR and LF would split the header), and so is any character beyond U+00FF,
 * which a header, a sequence of bytes, cannot hold. */
export function headerValueProblem(value: string): string | undefined {
  const inner = value.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');
  for (let index = 0; index < inner.length; index++) {
    const code = inner.charCodeAt(index);
    const at = `at position ${index + 1}`;
    if (code === 0) return `contains a NUL character (U+0000) ${at}`;
    if (code === 0x0d || code === 0x0a) return `contains a line break (CR or LF) ${at}`;
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) {
      return `contains a control character (U+${code.toString(16).toUpperCase().padStart(4, '0')}) ${at}`;
    }
    if (code > 0xff) return `contains a character beyond U+00FF ${at}, which an HTTP header cannot carry`;
  }
  return undefined;
}

/** The caller's `headers` option as a `Headers`, every name and value checked first. */
export function checkedHeaders(init: unknown): Headers {
  const headers = new Headers();
  let position = 0;
  for (const entry of entriesOf(init)) {
    position++;
    const [rawName, rawValue] = entry;
    if (typeof rawName !== 'string' || !TOKEN.test(rawName)) {
      // The name is not shown either: a whole "Authorization: Bearer …" line pasted as a name
      // would carry the key.
      throw new TypeError(
        `options.headers: the name of header ${position} is not a valid header name (letters, digits and ` +
          "!#$%&'*+-.^_`|~ only; no space or colon): pass { 'Name': 'value' } pairs",
      );
    }
    const name = rawName.toLowerCase();
    if (typeof rawValue === 'symbol' || typeof rawValue === 'function' || typeof rawValue === 'object') {
      throw new TypeError(`options.headers["${name}"] must be a string, got ${kindOf(rawValue)}`);
    }
    const value = String(rawValue);
    const problem = headerValueProblem(value);
    if (problem !== undefined) throw new TypeError(`options.headers["${name}"] ${problem}; its value is not shown`);
    headers.append(name, value);
  }
  return headers;
}

/** The pairs of a `HeadersInit`: a `Headers`, a list of pairs, or a record. */
function entriesOf(init: unknown): Iterable<readonly [unknown, unknown]> {
  if (init === undefined) return [];
  if (typeof init !== 'object' || init === null) {
    throw new TypeError(
      `options.headers must be an object, a list of [name, value] pairs or a Headers, got ${kindOf(init)}`,
    );
  }
  if (isHeaders(init)) {
    const pairs: Array<[string, string]> = [];
    init.forEach((value, name) => {
      pairs.push([name, value]);
    });
    return pairs;
  }
  if (Symbol.iterator in init) {
    const pairs: Array<readonly [unknown, unknown]> = [];
    let position = 0;
    for (const pair of init as Iterable<unknown>) {
      position++;
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw new TypeError(`options.headers: entry ${position} of the list must be a [name, value] pair`);
      }
      pairs.push([pair[0], pair[1]]);
    }
    return pairs;
  }
  return Object.entries(init);
}

function isHeaders(value: object): value is Headers {
  if (typeof Headers !== 'undefined' && value instanceof Headers) return true;
  const candidate = value as { forEach?: unknown; get?: unknown; has?: unknown };
  return (
    typeof candidate.forEach === 'function' &&
    typeof candidate.get === 'function' &&
    typeof candidate.has === 'function'
  );
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}

/** Header names whose values are credentials. */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'x-api-key', 'api-key', 'cookie']);

/**
 * The credentials a request carries, as text a server might echo back (a proxy's 401 page that
 * quotes the key it got): the token of each Authorization-like value, and for Basic also the
 * decoded `user:password` and the password. Error messages built from what the server said are
 * passed through `redact` with them.
 */
export function secretsOf(authorization: string | undefined, headers: Headers): readonly string[] {
  const values: string[] = [];
  if (authorization !== undefined) values.push(authorization);
  headers.forEach((value, name) => {
    if (SECRET_HEADERS.has(name)) values.push(value);
  });
  const secrets = new Set<string>();
  for (const value of values) {
    const token = /^\s*[A-Za-z]+\s+(\S+)\s*$/.exec(value)?.[1];
    secrets.add(value.trim());
    if (token !== undefined) secrets.add(token);
    if (token !== undefined && /^basic\s/i.test(value.trim())) {
      try {
        const pair = new TextDecoder().decode(Uint8Array.from(atob(token), (c) => c.charCodeAt(0)));
        secrets.add(pair);
        const colon = pair.indexOf(':');
        if (colon !== -1) secrets.add(pair.slice(colon + 1));
      } catch {
        // Not base64: the token itself is covered.
      }
    }
  }
  // Too short to be told from ordinary words; the longest first, so a part never hides a whole.
  return [...secrets].filter((secret) => secret.length >= 6).sort((a, b) => b.length - a.length);
}

/** `text` with every occurrence of each secret replaced. */
export function redact(text: string, secrets: readonly string[] | undefined): string {
  if (secrets === undefined || secrets.length === 0) return text;
  let out = text;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join('[redacted]');
  return out;
}
