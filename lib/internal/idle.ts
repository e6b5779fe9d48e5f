/**
 * The same body, read under an idle timer: a read that waits longer than `ms` for the next bytes
 * rejects with what `onIdle` returns (which should also abort the request). The timer runs only
 * while a read is waiting, so a slow consumer is never mistaken for a silent server, and it is
 * cleared when the read completes or the stream is cancelled.
 */
export function watchIdle(
  body: ReadableStream<Uint8Array>,
  ms: number,
  onIdle: () => unknown,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** Cancelled by the consumer: a read still under way must not touch the closed stream. */
  let cancelled = false;
  const stop = (): void => {
    clearTimeout(timer);
    timer = undefined;
  };
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        return new Promise<void>((resolve) => {
          let idle = false;
          timer = setTimeout(() => {
            idle = true;
            timer = undefined;
            controller.error(onIdle());
            resolve();
          }, ms);
          reader.read().then(
            ({ done, value }) => {
              if (idle || cancelled) return resolve();
              stop();
              if (done) controller.close();
              else controller.enqueue(value);
              resolve();
            },
            (error: unknown) => {
              if (idle || cancelled) return resolve();
              stop();
              controller.error(error);
              resolve();
            },
          );
        });
      },
      cancel(reason) {
        cancelled = true;
        stop();
        return reader.cancel(reason);
      },
    },
    // Pull only when the consumer asks, so the timer measures the server, not the consumer.
    { highWaterMark: 0 },
  );
}
