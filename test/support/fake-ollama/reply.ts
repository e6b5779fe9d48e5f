// A Reply: what an endpoint decided to answer, before any I/O. The wire code plays it back.

import { goJson } from './go-json.ts';

export const JSON_UTF8 = 'application/json; charset=utf-8';

export interface Failure {
  status: number;
  message: string;
}

export type Reply =
  | {
      kind: 'single';
      status: number;
      /** '' for an empty answer without a Content-Type, as Go sends for c.Status(). */
      contentType: string;
      body: string;
      /** How many chunks the model works through before this answer (0: none, so no model knob applies). */
      work: number;
      /** Content-Type of an error scripted by errorAfter; default application/json; charset=utf-8. */
      errorType?: string;
      /** The request's effect on the server's models, applied just before the answer is written. */
      commit?: () => void;
    }
  | {
      kind: 'stream';
      lines: string[];
      /** An error the handler itself sends after the lines: in-band, or in place of the stream if no line went out. */
      failure?: Failure;
      /** Applied just before the last line is written, if the script gets that far. */
      commit?: () => void;
    };

export const single = (status: number, body: object, work: number): Reply => ({
  kind: 'single',
  status,
  contentType: JSON_UTF8,
  body: goJson(body),
  work,
});
export const failure = (status: number, message: string): Reply => single(status, { error: message }, 0);

// c.Status(code) in Go: no body, no Content-Type, Content-Length 0.
export function emptyAnswer(status: number, commit?: () => void): Reply {
  return { kind: 'single', status, contentType: '', body: '', work: 1, ...(commit === undefined ? {} : { commit }) };
}
