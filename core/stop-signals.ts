/*
 * The one place that listens to process signals: SIGTERM (a container's stop) and SIGINT
 * (Ctrl-C), for `StreamingContext.stopOnSignals()`.
 */

const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * Calls `first` at the first SIGTERM or SIGINT the process receives. At a second one, calls
 * `second`, removes the handlers and raises the signal again, so that its default action ends the
 * process at once (unless the program listens to it too).
 *
 * @returns a function that removes the handlers.
 */
export function handleStopSignals(first: (signal: NodeJS.Signals) => void, second: (signal: NodeJS.Signals) => void): () => void {
  let received = 0;
  const remove = (): void => {
    for (const signal of STOP_SIGNALS) process.off(signal, handler);
  };
  function handler(signal: NodeJS.Signals): void {
    received++;
    if (received === 1) {
      first(signal);
      return;
    }
    second(signal);
    remove();
    process.kill(process.pid, signal);
  }
  for (const signal of STOP_SIGNALS) process.on(signal, handler);
  return remove;
}
