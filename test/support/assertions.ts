import assert from 'node:assert/strict';
import { OllamaError, type OllamaErrorKind } from '../../lib/index.ts';

/** For `assert.rejects`: the failure is an OllamaError of this kind, and passes `check`. */
export function failsWith(kind: OllamaErrorKind, check: (error: OllamaError) => void = () => {}) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof OllamaError, `expected an OllamaError, got ${String(error)}`);
    assert.equal(error.kind, kind, error.message);
    check(error);
    return true;
  };
}

/** How late a timer may fire on Node 20+, where undici rounds its timers up by up to a second. */
export const TIMER_SLACK = 1500;
