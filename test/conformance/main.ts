// Runs the conformance suite in whatever runtime executes this file, and prints one JSON line
// per scenario on stdout for the runtime matrix (test/runtimes/matrix.ts) to read:
//
//   <runtime> main.ts <runtime kind> <library module URL> <stand-in URL> <refused URL> [<dead URL>]
//     [<ollama-fetch/compat module URL>]
//
// With a compat module, the rows of compat-suite.ts run after the suite's own.
// The library is imported by URL so that each runtime can be handed what it should load: the
// TypeScript sources under Node 22+, Deno and Bun, the published bundle under Node 18 and 20.
// The process must then end by itself: a timer or socket left behind would keep it alive, and
// the matrix counts that as a failure.

import { compatScenarios } from './compat-suite.ts';
import { type CompatModule, type LibraryModule, type OpenAIModule, type RuntimeKind, runSuite } from './suite.ts';

const scope = globalThis as { Deno?: { args: string[] }; process?: { argv: string[] } };
const args = scope.Deno?.args ?? scope.process?.argv.slice(2) ?? [];
const [runtime, libraryUrl, url, refusedUrl, deadUrl, compatUrl] = args;
if (runtime === undefined || libraryUrl === undefined || url === undefined || refusedUrl === undefined) {
  throw new Error('usage: main.ts <node|deno|bun> <library module URL> <stand-in URL> <refused URL> [<dead URL>]');
}
const lib = (await import(libraryUrl)) as LibraryModule;
// The /v1 client sits beside the library in the same form: lib/openai/index.ts next to
// lib/index.ts, ollama-fetch-openai.js next to ollama-fetch.js.
const openaiUrl = libraryUrl
  .replace(/\/lib\/index\.ts$/, '/lib/openai/index.ts')
  .replace(/ollama-fetch\.js$/, 'ollama-fetch-openai.js');
const openai = openaiUrl === libraryUrl ? undefined : ((await import(openaiUrl)) as OpenAIModule);
const report = (outcome: unknown): void => console.log(JSON.stringify(outcome));
const ctx = { lib, openai, runtime: runtime as RuntimeKind, url, refusedUrl, deadUrl };
await runSuite(ctx, report);
if (compatUrl !== undefined) {
  const compat = (await import(compatUrl)) as CompatModule;
  await runSuite({ ...ctx, compat }, report, undefined, compatScenarios);
}
