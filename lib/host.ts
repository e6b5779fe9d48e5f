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
  if (value !== undefined && typeof value !== 'string') {
    throw new TypeError(`resolveHost: the host must be a string such as 'http://127.0.0.1:11434', got ${typeof value}`);
  }
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
 * number from 1 to 65535, no host name after a scheme, a space or other character no URL may
 * hold, a query or fragment, an unclosed `[`, or a malformed `%` escape or an unescaped `/` in
 * the credentials is a `TypeError` naming the source (`options.host` or `OLLAMA_HOST`) and never
 * showing the credentials: no request is made, rather than one to a port the caller did not write.
 */
export function parseHost(value: string | undefined): ParsedHost {
  const written = value ?? readEnv('OLLAMA_HOST') ?? '';
  // The same text reads the same way: the last one read is kept (a copy is returned, so no
  // caller can change what the next one gets). What was refused is never kept.
  if (last !== undefined && last.written === written) return { ...last.parsed };
  const parsed = readHost(written, value === undefined ? 'OLLAMA_HOST' : 'options.host');
  last = { written, parsed: { ...parsed } };
  return parsed;
}

/** The value `parseHost` read last, and what it read. */
let last: { written: string; parsed: ParsedHost } | undefined;

function readHost(written: string, source: string): ParsedHost {
  const refuse = (what: string): never => {
    throw new TypeError(`${source} ${shown(written)} ${what}`);
  };
  const unreadable = (): never => refuse('is not of the form [http[s]://][user:pass@]name[:port][/path]');
  let rest = written.replace(/^["'\s]+|["'\s]+$/g, '');
  let scheme = 'http';
  let port = DEFAULT_PORT;
  const schemeMatch = /^([a-z][a-z0-9+.-]*):\/\//i.exec(rest);
  if (schemeMatch !== null) {
    scheme = schemeMatch[1]!.toLowerCase();
    if (scheme !== 'http' && scheme !== 'https') refuse(`must be an http:// or https:// address, not ${scheme}://`);
    port = scheme === 'https' ? 443 : 80;
    rest = rest.slice(schemeMatch[0].length);
  } else if (/^ollama\.com\/?$/i.test(rest)) {
    // As the server itself reads it: the bare name of the cloud means its https endpoint.
    scheme = 'https';
    port = 443;
  } else {
    // What would otherwise be read as a host named "http", or as a path under 127.0.0.1:11434,
    // is a scheme or a host name lost to a typo: refused, with what was surely meant.
    const broken = /^(https?)(?:\/\/+|:\/?(?=[^/\d]))/i.exec(rest);
    if (broken !== null) {
      const name = broken[1]!.toLowerCase();
      const meant = `${name}://${rest.slice(broken[0].length)}`;
      refuse(
        `reads as a host named "${broken[1]}": its "${name}://" is missing its colon or a slash; write ${shown(meant)}`,
      );
    }
    if (rest.startsWith('/')) {
      const meant = rest.startsWith('//') ? `http:${rest}` : `${DEFAULT_HOST}:${DEFAULT_PORT}${rest}`;
      refuse(`has no host name before its path; write one, such as ${shown(meant)}`);
    }
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
  if (/[\s\u0000-\u001f\u007f\\?#<>"{}|^`]/.test(rest)) unreadable();
  const slash = rest.indexOf('/');
  let authority = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? '' : rest.slice(slash).replace(/\/$/, '');

  let authorization: string | undefined;
  const at = authority.lastIndexOf('@');
  // An "@" in the path after what cannot be a host (a colon followed by no port: `ada:pa/ss@h`) is
  // a password with an unescaped "/", that part of which would go out in the URL. After a host
  // it is part of the path (`https://gw.example/@team/ollama`), as URL reads it.
  const passwordCut = at === -1 && path.includes('@') && /:(?!\d*$)/.test(authority.replace(/^\[[^\]]*\]/, ''));
  if (at !== -1 || passwordCut) {
    const userinfo = authority.slice(0, at);
    authority = authority.slice(at + 1);
    const colon = userinfo.indexOf(':');
    try {
      if (passwordCut) throw new URIError();
      const user = decodeURIComponent(colon === -1 ? userinfo : userinfo.slice(0, colon));
      const password = colon === -1 ? '' : decodeURIComponent(userinfo.slice(colon + 1));
      authorization = `Basic ${basic(`${user}:${password}`)}`;
    } catch {
      refuse('has a malformed user name or password (write % / @ in them as %25 %2F %40)');
    }
  }

  // [v6]:port, a bare v6 literal such as ::1 (no port), or name:port.
  const parts =
    /^(\[[\da-f:.]*\]|[\da-f:.]*:[\da-f:.]*:[\da-f:.]*|[^:[\]]*)(?::(.*))?$/i.exec(authority) ?? unreadable();
  let hostname = parts[1]!;
  if (/^[^[].*:/.test(hostname)) hostname = `[${hostname}]`;
  if (parts[2] !== undefined) {
    port = /^\d{1,5}$/.test(parts[2]) ? Number(parts[2]) : 0;
    if (port < 1 || port > 65535) refuse('has a port that is not a number from 1 to 65535');
  }
  if (hostname === '' && schemeMatch !== null && parts[2] === undefined) refuse('has no host name');
  if (hostname === '') hostname = DEFAULT_HOST;
  const base = `${scheme}://${hostname}:${port}${path}`;
  try {
    new URL(base);
  } catch {
    unreadable();
  }
  return {
    base,
    authorization,
    local: isLocal(hostname),
    cloud: scheme === 'https' && hostname.toLowerCase() === 'ollama.com' && port === 443,
  };
}

/** The value as a message may show it: quoted, with everything before an `@` (user name and
 * password) left out. */
export function shown(value: string): string {
  return JSON.stringify(value.includes('@') ? `…${value.slice(value.lastIndexOf('@'))}` : value);
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
