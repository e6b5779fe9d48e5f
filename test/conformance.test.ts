// The conformance suite on the Node that runs `npm test`, in process, against the library's
// sources: a scenario that is wrong fails here first, with coverage, before the runtime matrix
// (`npm run test:runtimes`) runs it everywhere else.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as compat from '../lib/compat/index.ts';
import * as lib from '../lib/index.ts';
import * as openai from '../lib/openai/index.ts';
import { compatScenarios } from './conformance/compat-suite.ts';
import { runSuite, scenarios, type SuiteContext } from './conformance/suite.ts';
import { startDeadHost, type DeadHost } from './support/dead-host.ts';
import { startFakeOllama, type FakeOllama } from './support/fake-ollama.ts';

let fake: FakeOllama;
let dead: DeadHost;
let ctx: SuiteContext;
before(async () => {
  fake = await startFakeOllama();
  dead = await startDeadHost();
  const closed = await startFakeOllama();
  await closed.close();
  ctx = { lib, openai, runtime: 'node', url: fake.url, refusedUrl: closed.url, deadUrl: dead.url };
});
after(async () => {
  await fake.close();
  await dead.close();
});

for (const scenario of scenarios) {
  test(`conformance: ${scenario.name}`, async () => {
    const [outcome] = await runSuite(ctx, undefined, (s) => s === scenario);
    assert.ok(outcome, 'the scenario did not run');
    assert.equal(outcome.error, undefined);
    assert.equal(outcome.ok, true);
  });
}

for (const scenario of compatScenarios) {
  test(`conformance: ${scenario.name}`, async () => {
    const [outcome] = await runSuite({ ...ctx, compat }, undefined, (s) => s === scenario, compatScenarios);
    assert.ok(outcome, 'the scenario did not run');
    assert.equal(outcome.error, undefined);
    assert.equal(outcome.ok, true);
  });
}

test('conformance: the compat rows fail without a compat module, and against one that ignores abort()', async () => {
  const [missing] = await runSuite(ctx, undefined, (s) => s.name.startsWith('compat: HTTP 404'), compatScenarios);
  assert.equal(missing?.ok, false);
  assert.match(missing?.error ?? '', /no ollama-fetch\/compat module/);
  class Deaf extends compat.Ollama {
    override abort(): void {}
  }
  const [deaf] = await runSuite(
    { ...ctx, compat: { ...compat, Ollama: Deaf } },
    undefined,
    (s) => s.name.startsWith('compat: abort()'),
    compatScenarios,
  );
  assert.equal(deaf?.ok, false);
});

test('conformance: a scenario whose demand is not met is reported failed, with the reason', async () => {
  // The suite's own verdicts must be able to fail: the same 404 scenario, against a library whose
  // chat resolves, has to come out red.
  const liar = { ...lib, chat: async () => ({}) } as unknown as typeof lib;
  const [outcome] = await runSuite({ ...ctx, lib: liar }, undefined, (s) => s.name.startsWith('HTTP 404'));
  assert.equal(outcome?.ok, false);
  assert.match(outcome?.error ?? '', /resolved, but it should have failed/);
});

test('conformance: a /v1 scenario fails, not skips, when the /v1 module is missing', async () => {
  const [outcome] = await runSuite({ ...ctx, openai: undefined }, undefined, (s) =>
    s.name.startsWith('v1 stream: split'),
  );
  assert.equal(outcome?.ok, false);
  assert.match(outcome?.error ?? '', /no ollama-fetch\/openai module/);
});
