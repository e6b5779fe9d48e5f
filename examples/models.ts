// The README's "Models" example: `OLLAMA_HOST=… node dist/examples/models.js`.
// It pulls all-minilm (46 MB) if it is missing, then copies it and deletes the copy.
import { copyModel, deleteModel, isRunning, listModels, listRunning, pullModel, showModel } from '../lib/index.ts';

if (!(await isRunning())) {
  console.error('No Ollama answers at OLLAMA_HOST: start it with `ollama serve`.');
  process.exit(1);
}

const { models } = await listModels();
console.log(`installed: ${models.map((m) => m.name).join(', ') || 'nothing'}`);

// Progress: one line per step, and the overall fraction in steps of a quarter.
let shown = -1;
const done = await pullModel(
  { model: 'all-minilm' },
  {
    onProgress({ status, digest, fraction }) {
      const quarter = fraction === undefined ? -1 : Math.floor(fraction * 4);
      if (digest !== undefined && quarter === shown) return;
      shown = quarter;
      console.log(fraction === undefined ? status : `${status} ${Math.floor(fraction * 100)}%`);
    },
  },
);
console.log(`pull: ${done.status}`);

const info = await showModel({ model: 'all-minilm' });
console.log(
  `all-minilm: ${info.details?.family} ${info.details?.parameter_size}, can ${info.capabilities?.join(', ')}`,
);

await copyModel({ source: 'all-minilm', destination: 'all-minilm-copy' });
await deleteModel({ model: 'all-minilm-copy' });
console.log('copied and deleted all-minilm-copy');

const running = await listRunning();
console.log(`loaded now: ${running.models.map((m) => m.name).join(', ') || 'nothing'}`);
