/**
 * First Ctrl-C or SIGTERM: stop launching, let running stages stop cleanly, keep the store
 * consistent. A second Ctrl-C exits at once (the store stays consistent anyway: nothing is
 * committed half-written).
 */
export function processInterrupts(onFirst: (signal: string) => void): {
  signal: AbortSignal;
  dispose(): void;
} {
  const controller = new AbortController();
  const handler = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130);
    onFirst(name);
    controller.abort();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
