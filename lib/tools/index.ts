/*! ollama-fetch/tools — MIT License */
// `ollama-fetch/tools`: the tool loop (chat, run the tools the model asks for, chat again), with
// ollama.com's web search and web fetch beside it, the tools most often handed to it (the root
// package exports those two as well). A subpath of its own, so that code that never runs a tool
// loop does not load it; it is built on the same calls.

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
} from '../web.ts';
