const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_PORT = 11434;

export interface ParsedHost {
  /** Scheme, host, port and any path prefix, without credentials or a trailing slash. */
  base: string;
  /** `Basic …` when the host carried `user:password@`; fetch refuses such URLs. */
  authorization: string | undefined;
  /** Loopback or unspecified address: a refused connection means Ollama is not started. */
  local: boolean;
  /** `https://ollama.com` itself, the one host `OLLAMA_API_KEY` is sent to unasked. */
  cloud: boolean;
}

/**
 * The base URL a call would use for `value`, or, without one, for the `OLLAMA_HOST`
 * environment variable (else `http://127.0.0.1:11434`), by the rules of the official
 * clients: `example.com` → `http://example.com:11434`, `:8080` → `http://127.0.0.1:8080`,
 * `https://example.com/ollama/` → `https://example.com:443/ollama`. Credentials in the value
 * are left out of the result. A value that cannot be read as written (no host name, a port
 * that is not 1-65535, a space, a query) is a `TypeError` naming where it came from.
 */
export function resolveHost(value?: string): string {
  return parseHost(value).base;
}

/**
 * Reads an `OLLAMA_HOST`-style value by the official clients' rules: no scheme means http
 * and port 11434; an explicit `http://` or `https://` defaults to 80 or 443; `:port` alone
 * means 127.0.0.1; a path prefix is kept (reverse proxies); one trailing slash goes; an IPv6
 * literal may come with or without brackets; surrounding spaces and quotes are trimmed as
 * the server itself trims them. Without a value, `OLLAMA_HOST` is read, at the call.
 *
 * What is omitted takes its default; what is written must be readable: a port that is not a
 * number from 1 to 65535, an empty host name after a scheme, a space or other character no URL
 * may hold, a query or fragment, an `@` in the path (a password with an unescaped `/`), or a
 * malformed `%` escape in the credentials is a `TypeError` naming the source (`options.host` or
 * `OLLAMA_HOST`), and never echoing the credentials: no request is made, rather than one to a
 * port or host the caller did not write.
 */
export function parseHost(value: string | undefined): ParsedHost {
  const fromEnv = value === undefined;
  const source = fromEnv ? 'the OLLAMA_HOST environment variable' : 'options.host';
  const written = fromEnv ? (readEnv('OLLAMA_HOST') ?? '') : value;
  const refuse = (what: string): never => {
    throw new TypeError(`${source} ${shown(written)} ${what}`);
  };
  let rest = written.replace(/^["'\s]+|["'\s]+$/g, '');
  let scheme = 'http';
  let port = DEFAULT_PORT;
  const schemeMatch = /^([a-z][a-z0-9+.-]*):\/\//i.exec(rest);
  if (schemeMatch !== null) {
    scheme = schemeMatch[1]!.toLowerCase();
    if (scheme !== 'http' && scheme !== 'https') {
      throw new TypeError(`${source} must be an http:// or https:// address, got "${scheme}://…"`);
    }
    port = scheme === 'https' ? 443 : 80;
    rest = rest.slice(schemeMatch[0].length);
    if (rest === '') refuse('has a scheme but no host name, such as http://127.0.0.1:11434.');
  } else if (/^ollama\.com\/?$/i.test(rest)) {
    // As the server itself reads it: the bare name of the cloud means its https endpoint.
    scheme = 'https';
    port = 443;
  }
  if (/[?#]/.test(rest)) refuse('has a query or fragment (? or #); a host is scheme, name, port and path only.');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
  if (/[\s\u0000-\u001f\u007f\\]/.test(rest)) {
    refuse('contains a space, a control character or a backslash, which no URL may hold.');
  }
  const slash = rest.indexOf('/');
  let authority = slash === -1 ? rest : rest.slice(0, slash);
  let path = slash === -1 ? '' : rest.slice(slash);
  if (path.endsWith('/')) path = path.slice(0, -1);
  if (path.includes('@')) {
    refuse(
      'has an "@" after the first "/": write credentials before the host name, and a "/" or "@" in a ' +
        'password as %2F or %40.',
    );
  }
  if (!/^[\w\-.~!$&'()*+,;=:/%\u0080-\uffff]*$/.test(path) || /%(?![0-9a-f]{2})/i.test(path)) {
    refuse('has a path that is not a valid URL path; percent-encode its special characters.');
  }

  let authorization: string | undefined;
  const at = authority.lastIndexOf('@');
  if (at !== -1) {
    const userinfo = authority.slice(0, at);
    authority = authority.slice(at + 1);
    const colon = userinfo.indexOf(':');
    let user: string;
    let password: string;
    try {
      user = decodeURIComponent(colon === -1 ? userinfo : userinfo.slice(0, colon));
      password = colon === -1 ? '' : decodeURIComponent(userinfo.slice(colon + 1));
    } catch {
      return refuse('has a malformed %-escape in its user name or password: write a literal "%" as %25.');
    }
    authorization = `Basic ${basic(`${user}:${password}`)}`;
  }

  let hostname = authority;
  let portText: string | undefined;
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close === -1) refuse('opens an IPv6 address with "[" but never closes it with "]".');
    hostname = authority.slice(0, close + 1);
    const after = authority.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) refuse('has something other than ":port" after its IPv6 address.');
    if (after !== '') portText = after.slice(1);
    if (!/^\[[0-9a-f:.]+\]$/i.test(hostname)) refuse('has an IPv6 address that is not valid.');
  } else if (authority.indexOf(':') !== authority.lastIndexOf(':')) {
    // A bare IPv6 literal such as ::1 has no port.
    if (!/^[0-9a-f:.]+$/i.test(authority)) refuse('has a host name that is not valid.');
    hostname = `[${authority}]`;
  } else if (authority.includes(':')) {
    const colon = authority.indexOf(':');
    hostname = authority.slice(0, colon);
    portText = authority.slice(colon + 1);
  }
  if (portText !== undefined) {
    const number = /^\d{1,5}$/.test(portText) ? Number(portText) : Number.NaN;
    if (!(number >= 1 && number <= 65535)) {
      refuse(`has a port that is not a number from 1 to 65535${portText === '' ? ' (nothing after the ":")' : ''}.`);
    }
    port = number;
  }
  if (hostname === '') {
    if (schemeMatch !== null && portText === undefined) refuse('has a scheme but no host name.');
    hostname = DEFAULT_HOST;
  }
  if (!hostname.startsWith('[') && !/^[\w\-.~!$&'()*+,;=%\u0080-\uffff]+$/.test(hostname)) {
    refuse('has a host name that is not valid.');
  }
  const base = `${scheme}://${hostname}:${port}${path}`;
  if (!canParse(base)) refuse('is not a URL fetch can use.');
  return {
    base,
    authorization,
    local: isLocal(hostname),
    cloud: scheme === 'https' && hostname.toLowerCase() === 'ollama.com' && port === 443,
  };
}

/** The value as an error may show it: quoted, cut short, and with anything before an `@` (user
 * name and password) replaced, so that no credential ever reaches a message. */
function shown(value: string): string {
  const at = value.lastIndexOf('@');
  let safe = value;
  if (at !== -1) {
    const scheme = /^\s*["']?[a-z][a-z0-9+.-]*:\/\//i.exec(value)?.[0] ?? '';
    safe = `${scheme}…${value.slice(at)}`;
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is replaced
  const flat = safe.replace(/[\u0000-\u001f\u007f]/g, '?');
  return `("${flat.length > 80 ? `${flat.slice(0, 80)}…` : flat}")`;
}

function canParse(url: string): boolean {
  try {
    new URL(url);
    return true;
  } catch {
    return false;
  }
}

function isLocal(hostname: string): boolean {
  const name = hostname.toLowerCase();
  return (
    name === 'localhost' ||
    name.endsWith('.localhost') ||
    name.startsWith('127.') ||
    name === '[::1]' ||
    name === '0.0.0.0' ||
    name === '[::]'
  );
}

/** Base64 of the UTF-8 bytes of a short credential; `btoa` takes one byte per character. */
function basic(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * Which credential a request carries, the one rule about secrets: an explicit `apiKey` beats
 * credentials in the host, and `OLLAMA_API_KEY` is sent unasked only to `https://ollama.com`
 * itself, so a key meant for the cloud never reaches another server because a host was
 * misconfigured. Returns the `Authorization` value, or undefined for none.
 */
export function authorizationFor(host: ParsedHost, apiKey: string | undefined): string | undefined {
  if (apiKey !== undefined) return `Bearer ${apiKey.trim()}`;
  if (host.authorization !== undefined) return host.authorization;
  if (!host.cloud) return undefined;
  const key = readEnv('OLLAMA_API_KEY')?.trim();
  return key === undefined || key === '' ? undefined : `Bearer ${key}`;
}

interface DenoLike {
  env?: { get(name: string): string | undefined };
  permissions?: { querySync?(descriptor: { name: 'env'; variable: string }): { state: string } };
}
interface ProcessLike {
  env?: Record<string, string | undefined>;
}

/**
 * An environment variable, read when a call is made and never at import. Deno is asked
 * first, and only when env access is already granted, so a script run without
 * `--allow-env` neither throws nor stops at a permission prompt; browsers have no
 * environment and get `undefined`.
 */
export function readEnv(name: string): string | undefined {
  const scope = globalThis as { Deno?: DenoLike; process?: ProcessLike };
  const deno = scope.Deno;
  if (deno?.env !== undefined) {
    try {
      const state = deno.permissions?.querySync?.({ name: 'env', variable: name }).state ?? 'granted';
      return state === 'granted' ? deno.env.get(name) : undefined;
    } catch {
      return undefined;
    }
  }
  try {
    return scope.process?.env?.[name];
  } catch {
    return undefined;
  }
}
