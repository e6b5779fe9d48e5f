// Proves the Chromium driver before the conformance suite relies on it:
//   node22 test/runtimes/chromium-selfcheck.ts
// A loopback page streams NDJSON with fetch (a line every 200 ms, a 4-byte character split across two
// writes); the driver must return the lines with their arrival times. Then the failure paths: a rejected
// expression (with the page's console and uncaught errors in the message), a page that never resolves
// (timeout), a browser that cannot start, a browser killed mid-run, the CLI's one-line contract, and
// afterwards no Chromium process and no profile directory may be left. Prints one line per check.

import { strict as assert } from 'node:assert';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromiumPath, chromiumVersion, evaluateInChromium } from './chromium.ts';

const EARTH = Buffer.from('🌍'); // 4 bytes, sent as 2 + 2 in separate writes 100 ms apart
const LINES = ['zero', 'one', 'earth 🌍 two', 'three', 'four'];

const streamingPage = `<!doctype html><meta charset="utf-8"><script type="module">
window.result = (async () => {
  const t0 = performance.now();
  const response = await fetch('/stream');
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let carry = '';
  const arrivals = [];
  for (;;) {
    const { done, value } = await reader.read();
    carry += done ? decoder.decode() : decoder.decode(value, { stream: true });
    let nl;
    while ((nl = carry.indexOf('\\n')) >= 0) {
      arrivals.push({ at: Math.round(performance.now() - t0), line: JSON.parse(carry.slice(0, nl)).text });
      carry = carry.slice(nl + 1);
    }
    if (done) return { arrivals, carry };
  }
})();
</script>`;

const failingPage = `<!doctype html><meta charset="utf-8">
<script>console.error('about to fail', 42)</script>
<script>throw new Error('uncaught in page')</script>
<script type="module" src="/missing-module.js"></script>`;

const neverPage = `<!doctype html><script>window.result = new Promise(() => {})</script>`;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const server = createServer((request, response) => {
  if (request.url === '/stream') {
    response.writeHead(200, { 'content-type': 'application/x-ndjson' });
    void (async () => {
      for (const [i, text] of LINES.entries()) {
        const bytes = Buffer.from(`${JSON.stringify({ i, text })}\n`);
        const split = bytes.indexOf(EARTH);
        if (split >= 0) {
          response.write(bytes.subarray(0, split + 2));
          await sleep(100);
          response.write(bytes.subarray(split + 2));
        } else {
          response.write(bytes);
        }
        await sleep(200);
      }
      response.end();
    })();
    return;
  }
  const pages: Record<string, string> = { '/': streamingPage, '/fails': failingPage, '/never': neverPage };
  const page = pages[request.url ?? ''];
  response.writeHead(page === undefined ? 404 : 200, { 'content-type': 'text/html; charset=utf-8' });
  response.end(page ?? 'not found');
});
server.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

// Every profile directory lives under this one, so pgrep can find our Chromium processes and no one else's.
const scratch = mkdtempSync(join(tmpdir(), 'crsc-')); // short: Chromium's socket paths inside must stay < 108 bytes
process.env['TMPDIR'] = scratch;
/** Our Chromium processes as "pid command line", oldest (the browser itself) first. */
const ours = (): string[] => {
  try {
    return execFileSync('pgrep', ['-af', '--', `--user-data-dir=${scratch}/`], { encoding: 'utf8' })
      .trim()
      .split('\n');
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
};
const pidOf = (line: string): number => Number(line.split(' ')[0]);

const check = async (name: string, body: () => Promise<string>): Promise<void> => {
  const started = Date.now();
  const detail = await body();
  console.log(`ok  ${name} (${Date.now() - started} ms) ${detail}`);
};
const failure = async (promise: Promise<unknown>): Promise<string> => {
  try {
    await promise;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  assert.fail('expected a rejection');
};

try {
  assert.ok(chromiumPath(), 'Chromium not found');
  console.log(`${chromiumVersion()} at ${chromiumPath()}, Node ${process.version}`);

  await check('streams NDJSON incrementally and decodes a split character', async () => {
    const value = (await evaluateInChromium({ url: `${origin}/`, expression: 'window.result', timeoutMs: 20_000 })) as {
      arrivals: { at: number; line: string }[];
      carry: string;
    };
    assert.deepEqual(
      value.arrivals.map((a) => a.line),
      LINES,
    );
    assert.equal(value.carry, '');
    const times = value.arrivals.map((a) => a.at);
    // The server spends 200 ms per line and 100 ms more on the split one: each line must arrive on its own.
    for (let i = 1; i < times.length; i++)
      assert.ok(times[i]! - times[i - 1]! >= 150, `lines ${i - 1} and ${i} arrived together: ${times}`);
    return `arrivals at ${times.join(', ')} ms`;
  });

  await check('a rejected expression rejects with its text, the console and uncaught errors', async () => {
    const message = await failure(
      evaluateInChromium({
        url: `${origin}/fails`,
        expression: `Promise.reject(new Error('rejected on purpose'))`,
        timeoutMs: 20_000,
      }),
    );
    for (const expected of ['rejected on purpose', 'about to fail 42', 'uncaught in page', 'missing-module.js']) {
      assert.ok(message.includes(expected), `"${expected}" missing from: ${message}`);
    }
    return JSON.stringify(message);
  });

  await check('a page that never resolves times out', async () => {
    const started = Date.now();
    const message = await failure(
      evaluateInChromium({ url: `${origin}/never`, expression: 'window.result', timeoutMs: 3_000 }),
    );
    assert.match(message, /timed out after 3000 ms while evaluating window\.result/);
    assert.ok(Date.now() - started < 3_000 + 4_000, 'the timeout plus cleanup took too long');
    return JSON.stringify(message);
  });

  await check('a browser that cannot start rejects', async () => {
    const message = await failure(
      evaluateInChromium({ url: `${origin}/`, expression: '1', timeoutMs: 10_000, executable: '/bin/false' }),
    );
    assert.match(message, /Chromium exited \(code 1, signal null\) while launching Chromium/);
    return JSON.stringify(message.split('\n')[0]);
  });

  await check('a page whose renderer dies mid-evaluation rejects', async () => {
    const pending = failure(
      evaluateInChromium({ url: `${origin}/never`, expression: 'window.result', timeoutMs: 20_000 }),
    );
    await sleep(2_000);
    const renderers = ours().filter((line) => line.includes('--type=renderer') && !line.includes('--top-chrome-webui'));
    assert.ok(renderers.length > 0, 'no renderer process found');
    for (const line of renderers) process.kill(pidOf(line), 'SIGKILL');
    const message = await pending;
    assert.match(message, /the page crashed while evaluating window\.result/);
    return JSON.stringify(message.split('\n')[0]);
  });

  await check('a browser killed mid-evaluation rejects', async () => {
    const pending = failure(
      evaluateInChromium({ url: `${origin}/never`, expression: 'window.result', timeoutMs: 20_000 }),
    );
    await sleep(2_000);
    const browser = ours()[0];
    assert.ok(browser, 'no Chromium process found');
    process.kill(pidOf(browser), 'SIGKILL');
    const message = await pending;
    assert.match(
      message,
      /(WebSocket closed \(Chromium crashed or was killed\?\)|Chromium exited \(code null, signal SIGKILL\)) while evaluating window\.result/,
    );
    return JSON.stringify(message.split('\n')[0]);
  });

  await check('the CLI prints one line of JSON and exits', async () => {
    const script = fileURLToPath(new URL('./chromium.ts', import.meta.url));
    const run = (args: string[]): Promise<{ code: number | null; stdout: string; ms: number }> =>
      new Promise((resolve) => {
        const started = Date.now();
        const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
        let stdout = '';
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
        child.once('close', (code) => resolve({ code, stdout, ms: Date.now() - started }));
      });
    const good = await run([`${origin}/`, 'window.result.then((r) => r.arrivals.length)', '20000']);
    assert.equal(good.code, 0);
    assert.equal(good.stdout, '{"ok":true,"value":5}\n');
    const bad = await run([`${origin}/never`, 'window.result', '2000']);
    assert.equal(bad.code, 1);
    assert.equal(bad.stdout.split('\n').length, 2, 'exactly one line');
    const parsed = JSON.parse(bad.stdout) as { ok: boolean; error: string };
    assert.equal(parsed.ok, false);
    assert.match(parsed.error, /timed out after 2000 ms/);
    return `ok run exited in ${good.ms} ms, timed-out run in ${bad.ms} ms`;
  });

  await check('nothing is left behind', async () => {
    assert.deepEqual(ours(), []);
    assert.deepEqual(readdirSync(scratch), []);
    return 'no Chromium process, no profile directory';
  });
} finally {
  server.close();
  server.closeAllConnections();
  rmSync(scratch, { recursive: true, force: true });
}
