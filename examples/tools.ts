// The README's "Tool loop" example: `OLLAMA_API_KEY=… OLLAMA_HOST=… node dist/examples/tools.js`.
// WEB_HOST points the web search at another server (a test stand-in), as in web-search.ts.
import { type RunnableTool, runToolsStream, webSearch } from '../lib/tools/index.ts';

const web = process.env.WEB_HOST ? { host: process.env.WEB_HOST, apiKey: process.env.OLLAMA_API_KEY } : {};

const tools: RunnableTool[] = [
  {
    type: 'function',
    function: {
      name: 'web_search',
      description: 'Searches the web; returns the top pages with their text',
      parameters: { type: 'object', required: ['query'], properties: { query: { type: 'string' } } },
    },
    // The loop's signal: a Ctrl-C, a timeout or a `break` stops the search too.
    run: async ({ query }, { signal }) =>
      (await webSearch({ query: String(query), max_results: 3 }, { ...web, signal })).results,
  },
  {
    type: 'function',
    function: {
      name: 'word_count',
      description: 'Counts the words of a text',
      parameters: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } },
    },
    run: ({ text }) => String(text).split(/\s+/).filter(Boolean).length,
  },
];

const events = runToolsStream(
  { model: 'llama3.2', messages: [{ role: 'user', content: 'What is new in Ollama? Keep it short.' }], tools },
  { totalTimeout: 300_000, maxRounds: 5 },
);
for await (const event of events) {
  if (event.type === 'content') process.stdout.write(event.content);
  if (event.type === 'tool_call') console.log(`[calling ${event.call.function.name}]`);
  if (event.type === 'tool_result') console.log(`[${event.call.function.name}: ${event.content.slice(0, 60)}]`);
  if (event.type === 'done') console.log(`\n(${event.result.rounds} rounds, ${event.result.messages.length} messages)`);
}
