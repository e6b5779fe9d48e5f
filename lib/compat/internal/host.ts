// The host rules of ollama-js 0.6.4 (its `formatHost`), so that `new Ollama({ host })` reaches the
// same server it did: no value means http://127.0.0.1:11434 (OLLAMA_HOST is not read, as there);
// `:PORT` alone means 127.0.0.1; a value without a scheme is http on port 11434; an explicit
// `http://` or `https://` without a port means 80 or 443; credentials and a path prefix stay, one
// trailing slash goes. One difference: a port written out is always kept, where ollama-js drops
// `:80` from `example.com:80` and then uses 11434.

import { shown } from '../../host.ts';

const DEFAULT = 'http://127.0.0.1:11434';

export function formatHost(value: string | undefined): string {
  if (value === undefined || value === '') return DEFAULT;
  if (typeof value !== 'string') {
    throw new TypeError(`Ollama: config.host must be a string such as 'http://127.0.0.1:11434', got ${typeof value}`);
  }
  const bare = value.startsWith(':') ? `127.0.0.1${value}` : value;
  const schemed = value.startsWith(':') || bare.includes('://');
  const text = schemed && !value.startsWith(':') ? bare : `http://${bare}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // Neither the value nor URL's own error (which quotes it) is shown whole: it may hold a password.
    throw new TypeError(
      `Ollama: config.host ${shown(value)} is not a valid address; use one such as 'http://127.0.0.1:11434'`,
    );
  }
  const written = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(?:\[[^\]]*\]|[^:/?#]*):(\d+)/i.exec(text)?.[1];
  const port = url.port || written || (!schemed ? '11434' : url.protocol === 'https:' ? '443' : '80');
  const user = url.username === '' ? '' : `${url.username}${url.password === '' ? '' : `:${url.password}`}@`;
  const joined = `${url.protocol}//${user}${url.hostname}:${Number(port)}${url.pathname}`;
  return joined.endsWith('/') ? joined.slice(0, -1) : joined;
}
