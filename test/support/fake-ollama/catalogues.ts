// Other sets of installed models for the stand-in, chosen with `startFakeOllama({ catalogue })`
// (catalogue.ts holds the default one).
// Real servers are not always the default's (a chat model first): the demo's tests need one
// whose most recent model only embeds, and one where nothing can chat.
import { type InstalledModel, PULLABLE_EXTRA } from './catalogue.ts';

export type Catalogue = 'embedding-first' | 'embeddings-only';

// An embedding model pulled after the chat models: /api/tags lists it first (the newest). It is
// the registry's all-minilm, with the date of its pull.
const ALL_MINILM: InstalledModel = {
  ...(PULLABLE_EXTRA.find((m) => m.name === 'all-minilm:latest') as InstalledModel),
  modifiedAt: '2025-12-03T11:20:05.771203+01:00',
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
