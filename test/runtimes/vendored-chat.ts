// The script of the vendoring check: it is copied beside a bare copy of lib/ (as
// ./ollama-fetch/) into a folder with no package.json and no node_modules, and run there by
// each runtime, or compiled there by tsc for Node 18 and 20. The import below is rewritten to
// './ollama-fetch/index.ts' by the copy; here it points at the sources so that it type-checks.
//
//   chat.ts <stand-in URL>   prints {"text": "...", "chunks": N} on stdout

import { chatStream } from '../../lib/index.ts';

const scope = globalThis as { Deno?: { args: string[] }; process?: { argv: string[] } };
const [host] = scope.Deno?.args ?? scope.process?.argv.slice(2) ?? [];
if (host === undefined) throw new Error('usage: chat.ts <stand-in URL>');

// Every character beyond ASCII reaches the client cut in two, as the stand-in is asked to.
const headers = { 'x-fake-behaviour': '{"splitCharacters":true,"pieceDelayMs":2}' };
let text = '';
let chunks = 0;
for await (const chunk of chatStream(
  { model: 'llama3.2', messages: [{ role: 'user', content: 'Grüße aus dem Ordner 🦙' }] },
  { host, headers },
)) {
  chunks++;
  if (!chunk.done) text += chunk.message.content;
}
console.log(JSON.stringify({ text, chunks }));
