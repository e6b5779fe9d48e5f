// A stand-in for the Ollama server, for tests. It speaks the native REST protocol closely enough
// that a client cannot tell the difference for the endpoints it implements, and every reply is
// deterministic so tests can compare bytes. On top of that it can misbehave on demand (delays,
// split writes, garbage, resets...) through a Behaviour, given per request or queued in advance.
//
// This file is the stand-in's public surface; the code lives in ./fake-ollama/, one file per
// concern (server.ts is the place to start reading).

export {
  BEHAVIOUR_HEADER,
  BUSY_TEXT,
  behaviourHeader,
  statusReply,
  type Behaviour,
} from './fake-ollama/behaviour.ts';
export { FAKE_OLLAMA_VERSION, startFakeOllama } from './fake-ollama/server.ts';
export type { FakeOllama, FakeOllamaOptions, RecordedRequest, StaticFile } from './fake-ollama/types.ts';
