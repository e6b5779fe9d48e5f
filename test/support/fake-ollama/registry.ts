// The installed models: a catalogue entry as it is once installed (its layers and digest), finding
// a model by name, and the listings of /api/tags and /api/ps.

import { createHash } from 'node:crypto';
import {
  FACTS,
  IMPORTED_FACTS,
  MEDIA_PREFIX,
  MODELS,
  PULLABLE_EXTRA,
  type InstalledModel,
  type Layer,
  type RegisteredModel,
  type Registry,
} from './catalogue.ts';
import { goJson, sortedKeys } from './go-json.ts';
import { fullNameOf, nameKey, parseModelName, type ModelName } from './model-names.ts';

export function findModel(registry: Registry, requested: string): RegisteredModel | undefined {
  const name = parseModelName(requested);
  return name === undefined ? undefined : registry.get(nameKey(name));
}

export const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

// Go's json.Encoder, as Ollama writes a params layer: map keys sorted, a newline at the end.
export const paramsBlob = (p: Record<string, unknown>): string => goJson(sortedKeys(p)) + '\n';

// Real manifests carry more layers (licenses, config...); the weights plus template and params,
// three of very different sizes, are enough for a client's progress handling. Those two are
// addressed by their content, so a create that writes the same text finds them already there.
function textLayers(template: string, params: Record<string, unknown>): Layer[] {
  const layers: Layer[] = [];
  if (template !== '') layers.push(contentLayer('template', template));
  if (Object.keys(params).length > 0) layers.push(contentLayer('params', paramsBlob(params)));
  return layers;
}

export const contentLayer = (kind: string, content: string): Layer => ({
  mediaType: MEDIA_PREFIX + kind,
  digest: `sha256:${sha256Hex(content)}`,
  size: Buffer.byteLength(content),
});

// A catalogue model as it is once installed. The sizes add up to what /api/tags reports.
export function register(m: InstalledModel, order: number, modifiedAt: string): RegisteredModel {
  const facts = FACTS[m.name] ?? IMPORTED_FACTS;
  const small = textLayers(facts.template, facts.parameters);
  const weights = m.size - small.reduce((sum, l) => sum + l.size, 0);
  const name = parseModelName(m.name) as ModelName;
  return {
    ...m,
    modifiedAt,
    full: fullNameOf(name),
    digest: sha256Hex(m.name),
    layers: [
      { mediaType: MEDIA_PREFIX + 'model', digest: `sha256:${sha256Hex(`${m.name} weights`)}`, size: weights },
      ...small,
    ],
    order,
    parentModel: '',
    facts,
    template: facts.template,
    system: '',
    licenses: facts.license === '' ? [] : [facts.license],
    parameters: facts.parameters,
    messages: [],
  };
}

export function findPullable(name: ModelName): InstalledModel | undefined {
  const key = nameKey(name);
  return [...MODELS, ...PULLABLE_EXTRA].find((m) => nameKey(parseModelName(m.name) as ModelName) === key);
}

// /api/tags sorts by modification time, the latest first.
export const listed = (registry: Registry): RegisteredModel[] =>
  [...registry.values()].sort((a, b) => b.order - a.order);

export function detailsOf(m: RegisteredModel, parentModel: string): Record<string, unknown> {
  return {
    parent_model: parentModel,
    format: m.format,
    family: m.family,
    families: [m.family],
    parameter_size: m.parameterSize,
    quantization_level: m.quantization,
  };
}

export function tagsBody(registry: Registry): string {
  return goJson({
    models: listed(registry).map((m) => ({
      name: m.name,
      model: m.name,
      modified_at: m.modifiedAt,
      size: m.size,
      digest: m.digest,
      // ListHandler never fills parent_model; only /api/show does.
      details: detailsOf(m, ''),
      capabilities: m.capabilities,
    })),
  });
}

export interface RunningModel {
  model: RegisteredModel;
  size: number;
  expiresAt: string;
  contextLength: number;
}

export function psBody(running: readonly RunningModel[]): string {
  return goJson({
    models: running.map((r) => ({
      name: r.model.name,
      model: r.model.name,
      size: r.size,
      digest: r.model.digest,
      details: detailsOf(r.model, ''),
      expires_at: r.expiresAt,
      // Entirely on the GPU.
      size_vram: r.size,
      context_length: r.contextLength,
    })),
  });
}
