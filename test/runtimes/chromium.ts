// Drives Debian's headless Chromium over the Chrome DevTools Protocol, with nothing but Node 22+'s
// global WebSocket: launch, open a page on a loopback URL, evaluate one expression, return its value.
// Used by the CI to prove the built library works in a real browser. Test tooling only, never imported
// by lib/. Runs unbuilt: `node22 test/runtimes/chromium.ts <url> <expression> [timeoutMs]` prints one
// line of JSON, {"ok":true,"value":...} (undefined becomes null) or {"ok":false,"error":"..."}, and
// exits 0 or 1. Environment: CHROMIUM = the browser to use (default /usr/bin/chromium);
// CHROMIUM_DRIVER_TIMINGS=1 prints launch/load/evaluate/cleanup times to stderr.

import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface EvaluateOptions {
  /** The page to load: http://127.0.0.1:PORT/... (nothing but loopback is ever contacted). */
  url: string;
  /** Evaluated in the page after its load event; a promise is awaited; the value must be JSON-serialisable. */
  expression: string;
  /** Bounds everything from launch to the evaluated value; cleanup afterwards adds at most a few seconds. */
  timeoutMs: number;
  /** Defaults to chromiumPath(). */
  executable?: string;
}

/** The Chromium to use: $CHROMIUM if set, else /usr/bin/chromium; undefined when that file does not exist. */
export function chromiumPath(): string | undefined {
  const candidate = process.env['CHROMIUM'] || '/usr/bin/chromium';
  return existsSync(candidate) ? candidate : undefined;
}

/** `chromium --version`, e.g. "Chromium 156.0.8078.79 built on Debian GNU/Linux 12 (bookworm)"; undefined if it fails. */
export function chromiumVersion(executable: string | undefined = chromiumPath()): string | undefined {
  if (executable === undefined) return undefined;
  try {
    // Debian's wrapper script prints a harmless shell error on stderr, hence stderr is ignored.
    const out = execFileSync(executable, ['--version'], {
      encoding: 'utf8',
      timeout: 15_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return out.trim() || undefined;
  } catch {
    return undefined;
  }
}

// The flags our experiments needed on this machine (root, closed network): without the background
// networking ones Chromium keeps trying to reach Google and those connections are refused. The resolver
// rule makes sure no host name other than localhost is even looked up.
function chromiumArgs(profileDir: string): string[] {
  return [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-extensions',
    '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost',
    `--user-data-dir=${profileDir}`,
    '--remote-debugging-address=127.0.0.1',
    '--remote-debugging-port=0',
    'about:blank',
  ];
}

const LOOPBACK = '127.0.0.1';
const KEEP_LOG_ENTRIES = 50;
const KEEP_STDERR_LINES = 20;
const CLEANUP_BOUND_MS = 3_000;

interface CdpMessage {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { code?: number; message?: string };
  sessionId?: string;
}

interface RemoteObject {
  type?: string;
  value?: unknown;
  description?: string;
  unserializableValue?: string;
}

interface ExceptionDetails {
  text?: string;
  url?: string;
  lineNumber?: number;
  columnNumber?: number;
  exception?: RemoteObject;
}

function exceptionText(details: ExceptionDetails): string {
  const described =
    details.exception?.description ??
    (details.exception?.value !== undefined ? String(details.exception.value) : undefined);
  const where = details.url
    ? ` (${details.url}:${(details.lineNumber ?? 0) + 1}:${(details.columnNumber ?? 0) + 1})`
    : '';
  return `${described ?? details.text ?? 'unknown exception'}${where}`;
}

function remoteText(arg: RemoteObject): string {
  if (arg.type === 'string') return String(arg.value);
  if (arg.unserializableValue !== undefined) return arg.unserializableValue;
  if (arg.value !== undefined) return JSON.stringify(arg.value);
  return arg.description ?? arg.type ?? '?';
}

function clip(text: string, max = 500): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length - max} more chars)` : text;
}

/** Launches Chromium, loads `url`, evaluates `expression` there and returns its value; always cleans up. */
export async function evaluateInChromium(options: EvaluateOptions): Promise<unknown> {
  const { url, expression, timeoutMs } = options;
  const started = Date.now();
  if (typeof WebSocket === 'undefined') {
    throw new Error(`the Chromium driver needs a global WebSocket (Node 22+); this is Node ${process.version}`);
  }
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
    throw new Error(`timeoutMs must be a positive number, got ${timeoutMs}`);
  const page = new URL(url);
  if (page.protocol !== 'http:' || page.hostname !== LOOPBACK) {
    throw new Error(`refusing to load ${url}: only http://${LOOPBACK}:PORT/ pages are allowed`);
  }
  const executable = options.executable ?? chromiumPath();
  if (executable === undefined)
    throw new Error('Chromium not found: install it (apt-get install chromium) or set CHROMIUM');

  // What the page said, kept for the error message: debugging a headless browser is otherwise blind.
  const pageLog: string[] = [];
  const note = (line: string): void => {
    pageLog.push(clip(line));
    if (pageLog.length > KEEP_LOG_ENTRIES) pageLog.shift();
  };
  const stderrTail: string[] = [];
  let phase = 'launching Chromium';
  let timings = 'failed';

  // The first fatal event (timeout, browser exit, socket closed, target crashed) rejects `fatal`;
  // every wait below races against it, so nothing can hang past the deadline.
  let fail!: (error: Error) => void;
  const fatal = new Promise<never>((_, reject) => {
    fail = reject;
  });
  fatal.catch(() => {});
  const guard = <T>(promise: Promise<T>): Promise<T> => Promise.race([promise, fatal]);

  // One directory for everything Chromium writes: its profile, and (as its TMPDIR) the
  // org.chromium.Chromium.* directories it would otherwise leave in /tmp when killed. Kept shallow:
  // a SingletonSocket path in there longer than 107 bytes makes Chromium abort at start.
  const scratchDir = mkdtempSync(join(tmpdir(), 'ofetch-chromium-'));
  const profileDir = join(scratchDir, 'profile');
  const deadline = setTimeout(() => fail(new Error(`timed out after ${timeoutMs} ms while ${phase}`)), timeoutMs);
  let child: ChildProcess | undefined;
  let socket: WebSocket | undefined;
  let exited: Promise<void> = Promise.resolve();
  try {
    // detached: Chromium and its zygote, renderer and utility processes share one new process group,
    // which cleanup kills as a whole.
    mkdirSync(profileDir);
    const proc = spawn(executable, chromiumArgs(profileDir), {
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, TMPDIR: scratchDir },
    });
    child = proc;
    exited = new Promise<void>((resolve) => {
      proc.once('exit', (code, signal) => {
        fail(
          new Error(
            `Chromium exited (code ${code}, signal ${signal}) while ${phase}; its stderr ended with:\n${stderrTail.join('\n')}`,
          ),
        );
        resolve();
      });
      proc.once('error', (error) => {
        fail(new Error(`could not start Chromium (${executable}): ${error.message}`));
        resolve();
      });
    });

    const wsUrl = await guard(
      new Promise<string>((resolve) => {
        let buffered = '';
        proc.stderr?.setEncoding('utf8');
        proc.stderr?.on('data', (chunk: string) => {
          buffered += chunk;
          const lines = buffered.split('\n');
          buffered = lines.pop() ?? '';
          for (const line of lines) {
            stderrTail.push(clip(line, 300));
            if (stderrTail.length > KEEP_STDERR_LINES) stderrTail.shift();
            const match = /DevTools listening on (ws:\/\/\S+)/.exec(line);
            if (match?.[1] !== undefined) resolve(match[1]);
          }
        });
      }),
    );
    if (new URL(wsUrl).hostname !== LOOPBACK)
      throw new Error(`Chromium's DevTools endpoint is not on ${LOOPBACK}: ${wsUrl}`);
    const launchedMs = Date.now() - started;

    phase = 'connecting to the DevTools WebSocket';
    const ws = new WebSocket(wsUrl);
    socket = ws;
    let nextId = 0;
    const pending = new Map<
      number,
      { resolve: (result: Record<string, unknown>) => void; reject: (error: Error) => void; method: string }
    >();
    const listeners = new Set<(message: CdpMessage) => void>();
    ws.addEventListener('message', (event: MessageEvent) => {
      let message: CdpMessage;
      try {
        message = JSON.parse(String(event.data)) as CdpMessage;
      } catch {
        return;
      }
      if (message.id !== undefined) {
        const waiter = pending.get(message.id);
        if (waiter === undefined) return;
        pending.delete(message.id);
        if (message.error)
          waiter.reject(
            new Error(`${waiter.method} failed: ${message.error.message ?? JSON.stringify(message.error)}`),
          );
        else waiter.resolve(message.result ?? {});
      } else {
        for (const listener of listeners) listener(message);
      }
    });
    ws.addEventListener('close', () => {
      // Usually the browser died: its exit event tends to arrive just after this, so show its stderr here.
      fail(
        new Error(
          `the DevTools WebSocket closed (Chromium crashed or was killed?) while ${phase}; its stderr ended with:\n${stderrTail.join('\n')}`,
        ),
      );
    });
    await guard(
      new Promise<void>((resolve, reject) => {
        ws.addEventListener('open', () => resolve(), { once: true });
        ws.addEventListener('error', () => reject(new Error(`could not connect to ${wsUrl}`)), { once: true });
      }),
    );

    const send = (
      method: string,
      params: Record<string, unknown> = {},
      sessionId?: string,
    ): Promise<Record<string, unknown>> => {
      const id = ++nextId;
      const message: CdpMessage = sessionId === undefined ? { id, method, params } : { id, method, params, sessionId };
      return guard(
        new Promise<Record<string, unknown>>((resolve, reject) => {
          pending.set(id, { resolve, reject, method });
          ws.send(JSON.stringify(message));
        }),
      );
    };

    phase = 'opening a page';
    const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
    if (typeof sessionId !== 'string') throw new Error('Target.attachToTarget returned no sessionId');

    let loaded!: () => void;
    const loadFired = new Promise<void>((resolve) => {
      loaded = resolve;
    });
    listeners.add((message) => {
      const params = message.params ?? {};
      if (message.method === 'Target.detachedFromTarget' && params['sessionId'] === sessionId) {
        fail(new Error(`the page was closed or detached while ${phase}`));
      }
      if (message.method === 'Target.targetCrashed' && params['targetId'] === targetId) {
        fail(new Error(`the page crashed (${String(params['status'])}) while ${phase}`));
      }
      if (message.sessionId !== sessionId) return;
      switch (message.method) {
        case 'Page.loadEventFired':
          loaded();
          break;
        case 'Inspector.targetCrashed':
          fail(new Error(`the page crashed while ${phase}`));
          break;
        case 'Runtime.consoleAPICalled': {
          const args = (params['args'] as RemoteObject[] | undefined) ?? [];
          note(`console.${String(params['type'])}: ${args.map(remoteText).join(' ')}`);
          break;
        }
        case 'Runtime.exceptionThrown':
          note(`uncaught: ${exceptionText((params['exceptionDetails'] ?? {}) as ExceptionDetails)}`);
          break;
        case 'Log.entryAdded': {
          // Failed module loads, CORS and network errors are reported here, not on the console API.
          const entry = (params['entry'] ?? {}) as { level?: string; source?: string; text?: string; url?: string };
          if (entry.url?.endsWith('/favicon.ico')) break; // every page asks for one; a 404 there is noise
          note(
            `${entry.source ?? 'log'} ${entry.level ?? ''}: ${entry.text ?? ''}${entry.url ? ` (${entry.url})` : ''}`,
          );
          break;
        }
      }
    });
    await send('Target.setDiscoverTargets', { discover: true });
    await send('Page.enable', {}, sessionId);
    await send('Runtime.enable', {}, sessionId);
    await send('Log.enable', {}, sessionId);

    phase = `navigating to ${url}`;
    const navigation = await send('Page.navigate', { url }, sessionId);
    if (typeof navigation['errorText'] === 'string')
      throw new Error(`navigating to ${url} failed: ${navigation['errorText']}`);
    phase = `waiting for the load event of ${url}`;
    await guard(loadFired);
    const loadedMs = Date.now() - started;

    phase = `evaluating ${clip(expression, 200)}`;
    const evaluated = await send(
      'Runtime.evaluate',
      { expression, awaitPromise: true, returnByValue: true },
      sessionId,
    );
    const details = evaluated['exceptionDetails'] as ExceptionDetails | undefined;
    if (details !== undefined) throw new Error(`the expression threw: ${exceptionText(details)}`);
    const result = (evaluated['result'] ?? {}) as RemoteObject;
    timings = `DevTools ready ${launchedMs} ms, page loaded ${loadedMs} ms, evaluated ${Date.now() - started} ms`;
    if (result.unserializableValue !== undefined) return result.unserializableValue;
    return result.value;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const log =
      pageLog.length > 0
        ? `\npage console and errors (last ${pageLog.length}):\n${pageLog.map((line) => `  ${line}`).join('\n')}`
        : '\n(the page logged nothing)';
    throw new Error(`Chromium: ${message}${log}`, { cause: error });
  } finally {
    clearTimeout(deadline);
    await cleanup(child, socket, exited, scratchDir);
    if (process.env['CHROMIUM_DRIVER_TIMINGS']) {
      process.stderr.write(`chromium driver: ${timings}, cleaned up ${Date.now() - started} ms\n`);
    }
  }
}

async function cleanup(
  child: ChildProcess | undefined,
  socket: WebSocket | undefined,
  exited: Promise<void>,
  scratchDir: string,
): Promise<void> {
  try {
    socket?.close();
  } catch {
    // already closed
  }
  if (child?.pid !== undefined) {
    const group = -child.pid;
    const signalGroup = (signal: NodeJS.Signals): boolean => {
      try {
        process.kill(group, signal);
        return true;
      } catch {
        return false; // ESRCH: the group is gone
      }
    };
    // SIGKILL at once: the profile is thrown away, so a graceful shutdown buys nothing and costs time.
    if (signalGroup('SIGKILL')) {
      await bounded(exited, CLEANUP_BOUND_MS);
      await bounded(groupGone(group), CLEANUP_BOUND_MS);
    }
    child.stderr?.destroy();
  }
  rmSync(scratchDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
}

/** Resolves when no live process of the group is left, polling every 50 ms. */
async function groupGone(group: number): Promise<void> {
  while (groupAlive(-group)) await new Promise((resolve) => setTimeout(resolve, 50));
}

/**
 * Whether a process of group `pgid` is still running. Zombies do not count: killed renderers are
 * reparented to PID 1, which may reap them late (here ~1.3 s) or, in some containers, never.
 */
function groupAlive(pgid: number): boolean {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    // No /proc: signal 0 fails with ESRCH once the group is empty (zombies still count there).
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  }
  for (const pid of entries) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // "pid (comm) state ppid pgrp ...": comm may contain spaces and parentheses, so split after the last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') return true;
  }
  return false;
}

/** Waits for `promise` but no longer than `ms`; the timer never outlives the wait. */
async function bounded(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([promise, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

async function main(argv: string[]): Promise<void> {
  const [url, expression, timeoutText] = argv;
  let line: string;
  if (url === undefined || expression === undefined) {
    line = JSON.stringify({ ok: false, error: 'usage: node chromium.ts <url> <expression> [timeoutMs]' });
    process.exitCode = 1;
  } else {
    try {
      const value = await evaluateInChromium({
        url,
        expression,
        timeoutMs: timeoutText === undefined ? 30_000 : Number(timeoutText),
      });
      line = JSON.stringify({ ok: true, value: value ?? null });
      process.exitCode = 0;
    } catch (error) {
      line = JSON.stringify({ ok: false, error: error instanceof Error ? error.message : String(error) });
      process.exitCode = 1;
    }
  }
  process.stdout.write(`${line}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(process.argv.slice(2));
}
