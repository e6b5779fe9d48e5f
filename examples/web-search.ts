// The README's "Web search" example: `OLLAMA_API_KEY=… node dist/examples/web-search.js ollama releases`.
// WEB_HOST points it at another server (a test stand-in); OLLAMA_API_KEY is only ever sent to
// https://ollama.com by itself, so the key is then passed explicitly.
import { webFetch, webSearch } from '../lib/index.ts';

const web = process.env.WEB_HOST ? { host: process.env.WEB_HOST, apiKey: process.env.OLLAMA_API_KEY } : {};
const query = process.argv.slice(2).join(' ') || 'What is Ollama?';

const { results } = await webSearch({ query, max_results: 3 }, web);
for (const result of results) console.log(`${result.title}\n  ${result.url}\n  ${result.content.slice(0, 80)}`);

const first = results[0];
if (first !== undefined) {
  const page = await webFetch({ url: first.url }, web);
  console.log(`\n${page.title}: ${page.content.length} characters, ${page.links?.length ?? 0} links`);
}
