// What each runtime's fetch needs to be told so that the library's timeouts, and no hidden
// timer of the runtime, decide when a call fails. Found by feature detection at each call;
// nothing here is required, and a runtime that offers none of it gets the portable timers.

/** Members to add to one request's `RequestInit`, and what they take care of. */
export interface Transport {
  /** Non-standard `RequestInit` members (`dispatcher` on Node, `timeout` on Bun). */
  init: Record<string, unknown>;
  /**
   * The runtime itself enforces `connectTimeout` on the connection and `readTimeout` until the
   * response headers (Node, through its bundled undici). When false, the library can only set
   * one deadline for both phases together.
   */
  timesConnect: boolean;
}

type AgentClass = new (options: object) => object;

/** Agents by class, then by their two timeouts, so that connections stay pooled across calls;
 * each kept as the transport that carries it (made once, never changed). */
const agents = new WeakMap<AgentClass, Map<string, Transport>>();
/** The transport of the last call on Node, and what it was found from. */
let lastUsed: { global: unknown; connect: number; read: number; transport: Transport } | undefined;
/** A caller that varies its timeouts call by call must not grow the cache without end. */
const MAX_AGENTS = 16;

export function transportFor(connectTimeout: number, readTimeout: number, builtinFetch: boolean): Transport {
  // A `fetch` of the caller's own may be any implementation: give it nothing it might misread.
  if (!builtinFetch) return { init: {}, timesConnect: false };
  const holder = globalThis as unknown as Record<symbol, unknown>;
  const global = holder[DISPATCHER_2] ?? holder[DISPATCHER_1];
  // Calls mostly repeat the last call's timeouts: that transport is reused without a lookup, as
  // long as the global dispatcher it was found from is still the one installed.
  const last = lastUsed;
  if (
    last !== undefined &&
    last.global === global &&
    global !== undefined &&
    last.connect === connectTimeout &&
    last.read === readTimeout
  )
    return last.transport;
  const Agent = undiciAgent();
  if (Agent !== undefined) {
    const transport = agentFor(Agent, connectTimeout, readTimeout);
    // Read again: looking for the Agent may just have made Node load its undici, which sets it.
    lastUsed = {
      global: holder[DISPATCHER_2] ?? holder[DISPATCHER_1],
      connect: connectTimeout,
      read: readTimeout,
      transport,
    };
    return transport;
  }
  // Bun's socket idle timer (5 minutes by default) would cut a slow model load short; `false`
  // turns it off and leaves the library's timers in charge.
  if (typeof (globalThis as { Bun?: unknown }).Bun !== 'undefined')
    return { init: { timeout: false }, timesConnect: false };
  return { init: {}, timesConnect: false };
}

/**
 * The `Agent` class of the undici that Node bundles for its fetch: the constructor of the global
 * dispatcher, which Node keeps under a registered symbol (`.2` since Node 26, `.1` before; Node
 * 26 puts a wrapper at `.1`). Only a constructor named `Agent` is used, so that a proxy or mock
 * dispatcher the application installed is never copied without its settings.
 */
function undiciAgent(): AgentClass | undefined {
  const holder = globalThis as unknown as Record<symbol, unknown>;
  // Node loads its undici, and sets the symbol, the first time a fetch class is touched: only
  // then (once per process) is a class touched, since a Headers made per call costs more than the
  // lookup itself.
  if (holder[DISPATCHER_2] === undefined && holder[DISPATCHER_1] === undefined && typeof Headers === 'function') {
    new Headers();
  }
  for (const slot of [DISPATCHER_2, DISPATCHER_1]) {
    const dispatcher = holder[slot] as { constructor?: unknown } | undefined;
    const maker = dispatcher?.constructor;
    if (typeof maker === 'function' && maker.name === 'Agent') return maker as AgentClass;
  }
  return undefined;
}

const DISPATCHER_2 = Symbol.for('undici.globalDispatcher.2');
const DISPATCHER_1 = Symbol.for('undici.globalDispatcher.1');

function agentFor(Agent: AgentClass, connectTimeout: number, readTimeout: number): Transport {
  let byTimeouts = agents.get(Agent);
  if (byTimeouts === undefined) {
    byTimeouts = new Map();
    agents.set(Agent, byTimeouts);
  }
  const key = `${connectTimeout}/${readTimeout}`;
  let agent = byTimeouts.get(key);
  if (agent === undefined) {
    // undici's own connect timeout is exact about the connect phase; its headers timeout starts
    // when the request is on the wire, which is the read timeout's first phase. Its 300 s body
    // timer is lifted (0): the library's idle timer watches the body. 0 turns a timer off.
    const dispatcher = new Agent({ connect: { timeout: connectTimeout }, headersTimeout: readTimeout, bodyTimeout: 0 });
    agent = { init: Object.freeze({ dispatcher }), timesConnect: true };
    if (byTimeouts.size >= MAX_AGENTS) {
      const [oldestKey, oldest] = byTimeouts.entries().next().value as [string, Transport];
      byTimeouts.delete(oldestKey);
      // Graceful: requests still running on it finish first.
      // Destructured: a member named in `init`'s type would clash with @types/node's `RequestInit`.
      const { dispatcher: retired } = oldest.init;
      (retired as { close?: () => Promise<void> }).close?.().catch(() => {});
    }
    byTimeouts.set(key, agent);
  }
  return agent;
}
