// POST /api/create: from an installed (or pulled) model or from uploaded files, with quantization
// and the template, system, license, parameters and messages layers.

import { bindRequest, CREATE_RULE, modelOrName, str } from './binding.ts';
import { IMPORTED_FACTS, MEDIA_PREFIX, type Layer, type RegisteredModel } from './catalogue.ts';
import { goJson, isRecord } from './go-json.ts';
import { fullNameOf, nameKey, parseModelName, shortName } from './model-names.ts';
import { finalLines, progressJson, progressReply, pullLines } from './progress.ts';
import { contentLayer, findPullable, paramsBlob, register, sha256Hex } from './registry.ts';
import { failure, type Failure, type Reply } from './reply.ts';
import {
  blobPath,
  canonicalDigest,
  DIGEST_RE,
  install,
  INVALID_NAME,
  layerSize,
  type Call,
  type Store,
} from './store.ts';

interface NewLayer extends Layer {
  /** The progress line createModel sends for it. */
  note: string;
}

const QUANTIZE_TO: Record<string, string> = {
  F32: 'F32',
  F16: 'F16',
  Q8_0: 'Q8_0',
  Q4_K_S: 'Q4_K_S',
  Q4_K_M: 'Q4_K_M',
  Q4_K: 'Q4_K_M',
  BF16: 'BF16',
};
const FILE_TYPE: Record<string, number> = { F32: 0, F16: 1, Q8_0: 7, Q4_K_S: 14, Q4_K_M: 15, BF16: 32 };
const BITS: Record<string, number> = { F32: 32, F16: 16, BF16: 16, Q8_0: 8.5, Q4_K_S: 4.6, Q4_K_M: 4.9, Q4_0: 4.5 };

const stringsOf = (v: unknown): Record<string, string> | undefined =>
  isRecord(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, typeof x === 'string' ? x : ''])) : undefined;

const noted = (store: Store, layer: Layer): NewLayer => ({
  ...layer,
  note: `${layerSize(store, layer.digest) === undefined ? 'creating new' : 'using existing'} layer ${layer.digest}`,
});

// convertModelFromFiles: the type comes from the file names; each GGUF is opened and checked.
function importFiles(
  store: Store,
  files: Record<string, string>,
  adapter: boolean,
  lines: string[],
): NewLayer[] | Failure {
  const names = Object.keys(files);
  const type =
    names
      .map((n) => (n.endsWith('.safetensors') ? 'safetensors' : /\.(gguf|bin)$/.test(n) ? 'gguf' : ''))
      .find((t) => t !== '') ?? '';
  if (type === '') return { status: 400, message: 'unknown type' };
  if (adapter && names.length > 1) return { status: 400, message: 'only one adapter is currently supported' };
  const mediaType = MEDIA_PREFIX + (adapter ? 'adapter' : 'model');
  const missing = Object.values(files).find((d) => layerSize(store, canonicalDigest(d)) === undefined);
  if (type === 'safetensors') {
    lines.push(progressJson(adapter ? 'converting adapter' : 'converting model'));
    if (missing !== undefined) return { status: 500, message: `open ${blobPath(missing)}: no such file or directory` };
    const size = Object.values(files).reduce((sum, d) => sum + (layerSize(store, canonicalDigest(d)) ?? 0), 0);
    return [noted(store, { mediaType, digest: `sha256:${sha256Hex(Object.values(files).join('\n'))}`, size })];
  }
  const layers: NewLayer[] = [];
  for (const d of Object.values(files)) {
    lines.push(progressJson('parsing GGUF'));
    const digest = canonicalDigest(d);
    const size = layerSize(store, digest);
    if (size === undefined) return { status: 500, message: `open ${blobPath(d)}: no such file or directory` };
    // detectContentType looks for the GGUF magic; only uploaded bytes can be looked at.
    const bytes = store.blobs.get(digest);
    if (bytes !== undefined && bytes.subarray(0, 4).toString('latin1') !== 'GGUF') {
      return { status: 400, message: 'supplied file was not in GGUF format' };
    }
    layers.push({ mediaType, digest, size, note: `using existing layer ${digest}` });
  }
  return layers;
}

// What a model imported from a GGUF looks like, before the request's own settings.
function importedBase(): RegisteredModel {
  return {
    name: '',
    family: 'llama',
    parameterSize: '1.2B',
    quantization: 'F16',
    format: 'gguf',
    size: 0,
    modifiedAt: '',
    capabilities: ['completion'],
    full: '',
    digest: '',
    layers: [],
    order: 0,
    parentModel: '',
    facts: IMPORTED_FACTS,
    template: IMPORTED_FACTS.template,
    system: '',
    licenses: [],
    parameters: {},
    messages: [],
  };
}

export function createReply(c: Call): Reply {
  const bound = bindRequest(c.raw, CREATE_RULE);
  if (!bound.ok) return failure(bound.status, bound.message);
  const req = bound.req;
  const name = parseModelName(modelOrName(req));
  if (name === undefined) return failure(400, INVALID_NAME);
  const files = stringsOf(req['files']);
  const adapters = stringsOf(req['adapters']);
  for (const digest of [...Object.values(files ?? {}), ...Object.values(adapters ?? {})]) {
    if (!DIGEST_RE.test(digest)) return failure(400, 'invalid digest format');
  }
  const stream = req['stream'] !== false;
  const store = c.store;
  const lines: string[] = [];
  const fail = (status: number, message: string): Reply => progressReply(lines, { status, message }, stream);

  const installs: RegisteredModel[] = [];
  let base: RegisteredModel;
  let layers: NewLayer[];
  const from = str(req['from']);
  if (from !== '') {
    const fromName = parseModelName(from);
    if (fromName === undefined) return fail(400, INVALID_NAME);
    let source = store.registry.get(nameKey(fromName));
    if (source === undefined) {
      // parseFromModel pulls a missing base first, with the whole pull progress, its `success` too.
      const pullable = findPullable(fromName);
      if (pullable === undefined) {
        lines.push(progressJson('pulling manifest'));
        return fail(500, 'pull model manifest: file does not exist');
      }
      source = register(pullable, 0, '');
      installs.push(source);
      lines.push(...pullLines(source.layers, c.b));
    }
    base = { ...source, parentModel: source.name };
    layers = source.layers.map((l) => ({ ...l, note: `using existing layer ${l.digest}` }));
  } else if (files !== undefined) {
    const imported = importFiles(store, files, false, lines);
    if (!Array.isArray(imported)) return fail(imported.status, imported.message);
    base = importedBase();
    layers = imported;
  } else {
    return fail(400, "neither 'from' or 'files' was specified");
  }
  if (adapters !== undefined) {
    const imported = importFiles(store, adapters, true, lines);
    // Every adapter problem is a 400 in CreateHandler.
    if (!Array.isArray(imported)) return fail(400, imported.message);
    layers.push(...imported);
  }

  const quantize = (str(req['quantize']) || str(req['quantization'])).toUpperCase();
  const weightsAt = layers.findIndex((l) => l.mediaType === MEDIA_PREFIX + 'model');
  const weights = layers[weightsAt];
  if (quantize !== '' && weights !== undefined) {
    const want = QUANTIZE_TO[quantize];
    if (want === undefined) {
      return fail(
        500,
        `unsupported quantization type ${quantize} - supported types are F32, F16, Q4_K_S, Q4_K_M, Q8_0`,
      );
    }
    if (base.quantization !== 'F16' && base.quantization !== 'F32') {
      return fail(500, 'quantization is only supported for F16 and F32 models');
    }
    if (want !== base.quantization) {
      lines.push(progressJson(`quantizing ${base.quantization} model to ${quantize}`));
      const size = Math.round((weights.size * (BITS[want] ?? 16)) / (BITS[base.quantization] ?? 16));
      layers[weightsAt] = noted(store, {
        ...weights,
        digest: `sha256:${sha256Hex(`${weights.digest} as ${want}`)}`,
        size,
      });
      base = {
        ...base,
        quantization: want,
        facts: { ...base.facts, fileType: FILE_TYPE[want] ?? base.facts.fileType },
      };
    }
  }

  // setTemplate, setSystem and setMessages replace their layer, setLicense adds one, setParameters
  // merges the request's values over the base's and writes a new layer.
  const replace = (kind: string, content: string): void => {
    layers = layers.filter((l) => l.mediaType !== MEDIA_PREFIX + kind);
    layers.push(noted(store, contentLayer(kind, content)));
  };
  let { template, system, licenses, parameters, messages, capabilities } = base;
  if (str(req['template']) !== '') {
    template = str(req['template']);
    replace('template', template);
    // Capabilities follow the template's variables.
    if (capabilities.includes('completion')) {
      capabilities = [
        ...capabilities.filter((cap) => cap !== 'tools' && cap !== 'insert'),
        ...(/\.Tools\b/.test(template) ? ['tools'] : []),
        ...(/\.Suffix\b/.test(template) ? ['insert'] : []),
      ];
    }
  }
  if (str(req['system']) !== '') {
    system = str(req['system']);
    replace('system', system);
  }
  const license = req['license'];
  for (const text of Array.isArray(license) ? license.map(String) : typeof license === 'string' ? [license] : []) {
    if (text === '') continue;
    licenses = [...licenses, text];
    layers.push(noted(store, contentLayer('license', text)));
  }
  if (isRecord(req['parameters']) && Object.keys(req['parameters']).length > 0) {
    parameters = { ...parameters, ...req['parameters'] };
    replace('params', paramsBlob(parameters));
  }
  if (Array.isArray(req['messages']) && req['messages'].length > 0) {
    messages = req['messages'].filter(isRecord).map((m) => ({ role: str(m['role']), content: str(m['content']) }));
    replace('messages', goJson(messages) + '\n');
  }

  for (const l of layers) lines.push(progressJson(l.note));
  lines.push(progressJson('writing manifest'), progressJson('success'));
  const manifestLayers: Layer[] = layers.map(({ mediaType, digest, size }) => ({ mediaType, digest, size }));
  const created: RegisteredModel = {
    ...base,
    name: shortName(name),
    full: fullNameOf(name),
    size: manifestLayers.reduce((sum, l) => sum + l.size, 0),
    digest: sha256Hex(manifestLayers.map((l) => l.digest).join('\n')),
    layers: manifestLayers,
    template,
    system,
    licenses,
    parameters,
    messages,
    capabilities,
  };
  return progressReply(finalLines(lines, c.b), undefined, stream, () => {
    for (const m of installs) install(store, m);
    install(store, created);
  });
}
