// Other sets of installed models for the stand-in, chosen with `startFakeOllama({ catalogue })`
// (catalogue.ts holds the default one).
// Real servers are not always the default's (a chat model first): the demo's tests need one
// whose most recent model only embeds, and one where nothing can chat.
import type { InstalledModel } from './catalogue.ts';

export type Catalogue = 'embedding-first' | 'embeddings-only';

// An embedding model pulled after the chat models: /api/tags lists it first (the newest).
const ALL_MINILM: InstalledModel = {
  name: 'all-minilm:latest',
  family: 'bert',
  parameterSize: '23M',
  quantization: 'F16',
  format: 'gguf',
  size: 45960996,
  modifiedAt: '2025-12-03T11:20:05.771203+01:00',
  capabilities: ['embedding'],
};

/** The installed models of each catalogue, the most recent first (as /api/tags lists them),
 * `defaults` being the stand-in's usual ones. */
export function catalogueModels(catalogue: Catalogue, defaults: readonly InstalledModel[]): InstalledModel[] {
  switch (catalogue) {
    case 'embedding-first':
      return [ALL_MINILM, ...defaults];
    case 'embeddings-only':
      return [ALL_MINILM, ...defaults.filter((m) => !m.capabilities.includes('completion'))];
  }
}
