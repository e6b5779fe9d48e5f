// The models the stand-in knows: the ones installed at start, the extra ones its registry offers to
// /api/pull, and what their GGUF headers would say. Plain data and the shapes built from it.

export interface InstalledModel {
  name: string;
  family: string;
  parameterSize: string;
  quantization: string;
  format: string;
  size: number;
  modifiedAt: string;
  capabilities: readonly string[];
}

export const MODELS: readonly InstalledModel[] = [
  {
    name: 'llama3.2:latest',
    family: 'llama',
    parameterSize: '3.2B',
    quantization: 'Q4_K_M',
    format: 'gguf',
    size: 2019393189,
    modifiedAt: '2025-12-01T09:15:42.318274913+01:00',
    capabilities: ['completion', 'tools'],
  },
  {
    name: 'qwen3:latest',
    family: 'qwen3',
    parameterSize: '8.2B',
    quantization: 'Q4_K_M',
    format: 'gguf',
    size: 5225388164,
    modifiedAt: '2025-11-20T18:02:07.5521+01:00',
    capabilities: ['completion', 'tools', 'thinking'],
  },
  {
    name: 'nomic-embed-text:latest',
    family: 'nomic-bert',
    parameterSize: '137M',
    quantization: 'F16',
    format: 'gguf',
    size: 274302450,
    modifiedAt: '2025-10-02T07:44:19.06+02:00',
    capabilities: ['embedding'],
  },
];

// Models the stand-in's registry offers to /api/pull besides the installed ones.
export const PULLABLE_EXTRA: readonly InstalledModel[] = [
  {
    name: 'tinyllama:latest',
    family: 'llama',
    parameterSize: '1B',
    quantization: 'Q4_0',
    format: 'gguf',
    size: 637700138,
    modifiedAt: '',
    capabilities: ['completion'],
  },
  {
    name: 'all-minilm:latest',
    family: 'bert',
    parameterSize: '23M',
    quantization: 'F16',
    format: 'gguf',
    size: 45960996,
    modifiedAt: '',
    capabilities: ['embedding'],
  },
];

// What the GGUF header of each model would say, for /api/show's model_info and tensors.
interface ModelFacts {
  architecture: string;
  contextLength: number;
  embeddingLength: number;
  blockCount: number;
  headCount: number;
  parameterCount: number;
  /** general.file_type: 1 F16, 2 Q4_0, 15 Q4_K_M... */
  fileType: number;
  vocabularySize: number;
  tokenizer: 'gpt2' | 'bert';
  template: string;
  license: string;
  parameters: Record<string, unknown>;
}

const LLAMA_TEMPLATE =
  '{{- if .System }}<|start_header_id|>system<|end_header_id|>\n\n{{ .System }}<|eot_id|>{{ end }}' +
  '{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n{{ .Content }}<|eot_id|>{{ end }}' +
  '{{- if .Tools }}{{ .Tools }}{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n';
const QWEN_TEMPLATE =
  '{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}' +
  '{{- if .Tools }}<tools>{{ .Tools }}</tools>{{ end }}<|im_start|>assistant\n<think>\n';
const ZEPHYR_TEMPLATE = '<|system|>\n{{ .System }}</s>\n<|user|>\n{{ .Prompt }}</s>\n<|assistant|>\n';
const APACHE = 'Apache License\nVersion 2.0, January 2004\nhttp://www.apache.org/licenses/';

export const FACTS: Record<string, ModelFacts> = {
  'llama3.2:latest': {
    architecture: 'llama',
    contextLength: 131072,
    embeddingLength: 3072,
    blockCount: 28,
    headCount: 24,
    parameterCount: 3212749888,
    fileType: 15,
    vocabularySize: 128256,
    tokenizer: 'gpt2',
    template: LLAMA_TEMPLATE,
    license: 'LLAMA 3.2 COMMUNITY LICENSE AGREEMENT\nLlama 3.2 Version Release Date: September 25, 2024',
    parameters: { stop: ['<|start_header_id|>', '<|end_header_id|>', '<|eot_id|>'] },
  },
  'qwen3:latest': {
    architecture: 'qwen3',
    contextLength: 40960,
    embeddingLength: 4096,
    blockCount: 36,
    headCount: 32,
    parameterCount: 8190735360,
    fileType: 15,
    vocabularySize: 151936,
    tokenizer: 'gpt2',
    template: QWEN_TEMPLATE,
    license: APACHE,
    parameters: { repeat_penalty: 1, stop: ['<|im_start|>', '<|im_end|>'], temperature: 0.6, top_k: 20, top_p: 0.95 },
  },
  'nomic-embed-text:latest': {
    architecture: 'nomic-bert',
    contextLength: 2048,
    embeddingLength: 768,
    blockCount: 12,
    headCount: 12,
    parameterCount: 136727040,
    fileType: 1,
    vocabularySize: 30522,
    tokenizer: 'bert',
    template: '{{ .Prompt }}',
    license: APACHE,
    parameters: { num_ctx: 8192 },
  },
  'tinyllama:latest': {
    architecture: 'llama',
    contextLength: 2048,
    embeddingLength: 2048,
    blockCount: 22,
    headCount: 32,
    parameterCount: 1100048384,
    fileType: 2,
    vocabularySize: 32000,
    tokenizer: 'gpt2',
    template: ZEPHYR_TEMPLATE,
    license: APACHE,
    parameters: { stop: ['<|system|>', '<|user|>', '<|assistant|>', '</s>'] },
  },
  'all-minilm:latest': {
    architecture: 'bert',
    contextLength: 512,
    embeddingLength: 384,
    blockCount: 6,
    headCount: 12,
    parameterCount: 22565376,
    fileType: 1,
    vocabularySize: 30522,
    tokenizer: 'bert',
    template: '{{ .Prompt }}',
    license: APACHE,
    parameters: { num_ctx: 256 },
  },
};

// An imported GGUF is not really read; a created model gets these plausible facts instead.
export const IMPORTED_FACTS: ModelFacts = {
  architecture: 'llama',
  contextLength: 4096,
  embeddingLength: 2048,
  blockCount: 16,
  headCount: 32,
  parameterCount: 1235814400,
  fileType: 1,
  vocabularySize: 32000,
  tokenizer: 'gpt2',
  template: '{{ .Prompt }}',
  license: '',
  parameters: {},
};

export const MEDIA_PREFIX = 'application/vnd.ollama.image.';
// Where a Linux install keeps its models; only used to word errors that name a file.
export const MODELS_DIR = '/usr/share/ollama/.ollama/models';

export interface Layer {
  mediaType: string;
  /** sha256:<64 hex> */
  digest: string;
  size: number;
}

export interface RegisteredModel extends InstalledModel {
  /** Every part filled in, case as given: registry.ollama.ai/library/llama3.2:latest. */
  full: string;
  /** The manifest's digest (64 hex), as /api/tags and /api/ps show it. */
  digest: string;
  /** The manifest's layers, the weights first as in real manifests. */
  layers: Layer[];
  /** Higher is more recent: /api/tags lists the most recently written manifest first. */
  order: number;
  parentModel: string;
  facts: ModelFacts;
  template: string;
  system: string;
  licenses: string[];
  parameters: Record<string, unknown>;
  messages: Array<{ role: string; content: string }>;
}

export type Registry = Map<string, RegisteredModel>;

export const can = (m: InstalledModel, capability: string): boolean => m.capabilities.includes(capability);
