// Header names and values the caller gives (options.headers, apiKey, OLLAMA_API_KEY) are checked
// here, before `new Headers()` or fetch sees them: their own errors quote the value, and a value
// may be a secret. Every message names the option and what is wrong, never the value.

let none: Headers | undefined;
const NO_SECRETS: readonly string[] = Object.freeze([]);

/** The caller gave no headers: `headers` is the shared empty set `checkedHeaders` returns then. */
export function isNoHeaders(headers: Headers): boolean {
  return headers === none;
}

/** The characters of a header name (RFC 9110 `token`). */
const TOKEN = /^[\w!#$%&'*+.^`|~-]+$/;

/** `name` can name a header (RFC 9110 `token`). */
export function isHeaderName(name: string): boolean {
  return TOKEN.test(name);
}

/**
 * What is wrong with a header value, or undefined when it can be sent as it is. Leading and
 * trailing spaces, tabs and line breaks are allowed (fetch strips them); inside, a control
 * character other than a tab (NUL, CR and LF among them: they would split the header) and a
 * character beyond U+00FF (a header is bytes) are refused, as RFC 9110 refuses them.
 */
export function headerValueProblem(value: string): string | undefined {
  const bad = /[^\t\x20-\x7e\x80-\xff]/.exec(value.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, ''));
  const code = bad?.[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
  return bad === null
    ? undefined
    : `contains U+${code} at position ${bad.index + 1}, which a header cannot carry (not shown)`;
}

/** The caller's `headers` option (a record, a list of pairs, a Map, a Headers) as a `Headers`,
 * every name and value checked first. */
export function checkedHeaders(init: unknown): Headers {
  if (typeof init !== 'object' && init !== undefined) {
    throw new TypeError('options.headers must be an object');
  }
  // No headers: one empty set, made at the first call and shared (nothing adds to a resolved set).
  if (init == null) {
    none ??= new Headers();
    return none;
  }
  const headers = new Headers();
  const listed = Symbol.iterator in init;
  const pairs: unknown[] = listed ? [...(init as Iterable<unknown>)] : Object.entries(init);
  for (const [index, pair] of pairs.entries()) {
    // A list must hold [name, value] pairs: a string in it would be taken apart letter by letter.
    if (!Array.isArray(pair) || pair.length !== 2) {
      throw new TypeError(`options.headers: entry ${index + 1} is not a [name, value] pair (not shown)`);
    }
    const [name, value] = pair as [unknown, unknown];
    // A name that is not a token is not shown either: a whole "Authorization: Bearer …" line
    // pasted as a name would carry the key.
    if (typeof name !== 'string' || !TOKEN.test(name)) {
      throw new TypeError(`options.headers: header ${index + 1} has no valid name (not shown)`);
    }
    // In an object, a header set to undefined is one left out (`{ 'x-id': maybe }`), not the word
    // "undefined" sent; any other value that is not text would be sent as "[object Object]".
    if (value === undefined && !listed) continue;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new TypeError(
        `options.headers["${name.toLowerCase()}"] must be a string, got ${value === null ? 'null' : typeof value}`,
      );
    }
    const problem = headerValueProblem(String(value));
    if (problem !== undefined) throw new TypeError(`options.headers["${name.toLowerCase()}"] ${problem}`);
    headers.append(name, String(value));
  }
  return headers;
}

/**
 * The credentials a request carries, as a server might quote them back (a proxy's 401 page that
 * names the key it got): the token of the Authorization value sent and of the caller's own (a
 * Bearer key, the base64 of Basic credentials, and for Basic the decoded `user:password` and the
 * password alone). What the server says passes through `redact`.
 */
export function secretsOf(authorization: string | undefined, headers: Headers): readonly string[] {
  // The common call (no key, no headers of the caller's) has none, and asks the shared empty set
  // nothing: a lookup in a Headers costs more than the rest of this.
  if (authorization === undefined && headers === none) return NO_SECRETS;
  const found: string[] = [];
  for (const value of [authorization, headers.get('authorization')]) {
    const words = value?.trim().split(/\s+/) ?? [];
    const token = words.at(-1) ?? '';
    found.push(token);
    if (words.length === 2 && words[0]?.toLowerCase() === 'basic') {
      const pair = decodedBasic(token);
      if (pair !== undefined) found.push(pair, pair.slice(pair.indexOf(':') + 1));
    }
  }
  for (const secret of [...found]) found.push(...quotedForms(secret));
  // Shorter ones cannot be told from ordinary words. Longer first, so that the password inside a
  // quoted `user:password` does not leave the user name behind.
  return [...new Set(found)].filter((secret) => secret.length > 5).sort((a, b) => b.length - a.length);
}

/** The ways a server may write `secret` when it quotes it: inside JSON (escaped as
 * `JSON.stringify` does, with `\/` for `/` as PHP writes it, and with `&`, `<` and `>` as
 * `\u0026`, `\u003c`, `\u003e` as Go, and so Ollama, writes them), inside an HTML page
 * (`&amp;`…, or `&#34;` and `&#39;` as Go's html package and Jinja write quotes), and in a URL
 * (percent-encoded, in either case, or form-encoded with `+` for a space). */
function quotedForms(secret: string): string[] {
  const json = JSON.stringify(secret).slice(1, -1);
  const go = json.replace(/[&<>\u2028\u2029]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
  const html = secret.replace(/[&<>"']/g, (char) => `&${HTML_ENTITIES[char]};`);
  const numeric = secret.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
  const percent = encodeURIComponent(secret);
  const form = percent
    .replace(/[!'()*~]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)
    .replaceAll('%20', '+');
  const lower = (text: string): string => text.replace(/%[0-9A-F]{2}/g, (code) => code.toLowerCase());
  return [
    json,
    json.replaceAll('/', '\\/'),
    go,
    go.replaceAll('/', '\\/'),
    html,
    numeric,
    percent,
    lower(percent),
    form,
    lower(form),
  ];
}

const HTML_ENTITIES: Record<string, string> = { '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": '#39' };

/** The `user:password` of a Basic token, or undefined when it is not base64 of such a pair. */
function decodedBasic(token: string): string | undefined {
  try {
    const binary = atob(token);
    const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
    const pair = new TextDecoder().decode(bytes);
    return pair.includes(':') ? pair : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `text` with every occurrence of each secret replaced, and with the first part of one that was
 * cut short where the text was cut: before a `…` (as `preview` cuts a quote) or a `...` (as
 * JSON.parse's message cuts the input it quotes). A credential is never shown, whole or in part.
 */
export function redact(text: string, secrets: readonly string[] | undefined): string {
  if (secrets === undefined || secrets.length === 0) return text;
  for (const secret of secrets) text = text.split(secret).join('[redacted]');
  if (!text.includes('…') && !text.includes('...')) return text;
  // From the last cut to the first, so that each replacement leaves the earlier places in place.
  // Before a cut, a secret's first part may be left; after one (JSON.parse quotes the end of a long
  // input as `..."…"`), its last part.
  const cuts = [...text.matchAll(/"?(?:…|\.\.\.)"?/g)];
  for (const cut of cuts.reverse()) {
    const end = cut.index + cut[0].length;
    text = redactTail(text.slice(0, cut.index), secrets) + cut[0] + redactHead(text.slice(end), secrets);
  }
  return text;
}

/** `text` without a last part of a secret at its very start (text that begins where a cut was). */
function redactHead(text: string, secrets: readonly string[]): string {
  for (const secret of secrets) {
    for (let length = Math.min(secret.length - 1, text.length); length >= SHORTEST_PART; length--) {
      if (text.startsWith(secret.slice(-length))) return `[redacted]${text.slice(length)}`;
    }
  }
  return text;
}

/** The shortest part of a secret taken for one at a cut: shorter ones are ordinary text (`sk-`). */
const SHORTEST_PART = 4;

/** `text` without a first part of a secret at its very end: for text cut at a limit (a line or a
 * body kept up to so many characters), where a credential may have been cut in two. */
export function redactTail(text: string, secrets: readonly string[] | undefined): string {
  for (const secret of secrets ?? []) {
    for (let length = Math.min(secret.length - 1, text.length); length >= SHORTEST_PART; length--) {
      if (text.endsWith(secret.slice(0, length))) return `${text.slice(0, text.length - length)}[redacted]`;
    }
  }
  return text;
}
