// The README's "Embeddings" example: `OLLAMA_HOST=… node dist/examples/embeddings.js`.
import { embed } from '../lib/index.ts';

const documents = Array.from(
  { length: 1200 },
  (_, i) => `Note ${i}: llamas ${i % 2 === 0 ? 'hum' : 'spit'} when ${i % 3 === 0 ? 'calm' : 'annoyed'}.`,
);

// 1,200 texts go out as 3 requests of at most 500, two at a time; the vectors come back in order.
const { embeddings } = await embed({ model: 'nomic-embed-text', input: documents }, { batchSize: 500, concurrency: 2 });

const [query] = (await embed({ model: 'nomic-embed-text', input: 'Which llamas spit when annoyed?' })).embeddings;
// The vectors are L2-normalised, so the dot product is the cosine similarity.
const score = (vector: number[]): number => vector.reduce((sum, x, i) => sum + x * (query?.[i] ?? 0), 0);
const best = embeddings
  .map((vector, i) => ({ i, score: score(vector) }))
  .sort((a, b) => b.score - a.score)
  .slice(0, 3);

console.log(`${embeddings.length} vectors of ${embeddings[0]?.length} dimensions`);
for (const { i, score: similarity } of best) console.log(`${similarity.toFixed(3)}  ${documents[i]}`);
