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
