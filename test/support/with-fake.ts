import { startFakeOllama, type FakeOllama } from './fake-ollama.ts';

/** Runs `body` against a stand-in of its own, closed afterwards whatever happens; a test per
 * stand-in keeps scripted queues apart when tests run concurrently. */
export async function withFake(body: (fake: FakeOllama) => Promise<void>): Promise<void> {
  const fake = await startFakeOllama();
  try {
    await body(fake);
  } finally {
    await fake.close();
  }
}
