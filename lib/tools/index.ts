/*! ollama-fetch/tools — MIT License */
// `ollama-fetch/tools`: the tool loop (chat, run the tools the model asks for, chat again) and
// ollama.com's web search and web fetch, the tools most often handed to it. A subpath of its own,
// so that the main bundle stays within its budget; it is built on the same calls.

export {
  type RunnableTool,
  runTools,
  runToolsStream,
  type ToolLoopEvent,
  type ToolLoopOptions,
  type ToolLoopRequest,
  type ToolLoopResult,
  type ToolRunContext,
} from './loop.ts';
export {
  type WebFetchRequest,
  type WebFetchResponse,
  type WebSearchRequest,
  type WebSearchResponse,
  type WebSearchResult,
  webFetch,
  webSearch,
} from './web.ts';
