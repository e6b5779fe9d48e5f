// Model names as Ollama parses, fills in, compares and shortens them.

export interface ModelName {
  host: string;
  namespace: string;
  model: string;
  tag: string;
}

type NamePart = 'host' | 'namespace' | 'model' | 'tag';

// model.ParseName's rules: each part 1-80 bytes (the host up to 350), starting with a letter, digit
// or underscore, then also '-' and '.' (not in the namespace) and ':' (host only, for a port).
function validPart(kind: NamePart, s: string): boolean {
  if (s.length < 1 || s.length > (kind === 'host' ? 350 : 80)) return false;
  const rest =
    kind === 'host'
      ? /^[A-Za-z0-9_][A-Za-z0-9_.:-]*$/
      : kind === 'namespace'
        ? /^[A-Za-z0-9_][A-Za-z0-9_-]*$/
        : /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
  return rest.test(s);
}

// `[scheme://][host/][namespace/]model[:tag]` with registry.ollama.ai, library and latest filled
// in; undefined when any part is invalid (which is what "invalid model name" means).
export function parseModelName(s: string): ModelName | undefined {
  let rest = s.replace(/^https?:\/\//i, '');
  let tag = 'latest';
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const parts = rest.split('/');
  if (parts.length > 3) return undefined;
  const model = parts.pop() ?? '';
  const namespace = parts.pop() ?? 'library';
  const host = parts.pop() ?? 'registry.ollama.ai';
  const name = { host, namespace, model, tag };
  const valid =
    validPart('host', host) && validPart('namespace', namespace) && validPart('model', model) && validPart('tag', tag);
  return valid ? name : undefined;
}

export const fullNameOf = (n: ModelName): string => `${n.host}/${n.namespace}/${n.model}:${n.tag}`;
// Ollama matches names case-insensitively (getExistingName).
export const nameKey = (n: ModelName): string => fullNameOf(n).toLowerCase();

// Name.DisplayShortest: the default host and namespace are left out, the tag never is.
export function shortName(n: ModelName): string {
  const defaultHost = n.host.toLowerCase() === 'registry.ollama.ai';
  if (defaultHost && n.namespace.toLowerCase() === 'library') return `${n.model}:${n.tag}`;
  return defaultHost ? `${n.namespace}/${n.model}:${n.tag}` : fullNameOf(n);
}
