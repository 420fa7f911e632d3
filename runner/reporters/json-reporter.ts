import type { RunObserver } from '../run-events.ts';

/** `--json`: one JSON object per line for every event, for scripts and dashboards. */
export function jsonReporter(write: (line: string) => void): RunObserver {
  const emit = (event: Record<string, unknown>) =>
    write(JSON.stringify({ time: new Date().toISOString(), ...event }));
  return {
    sweepStarted(sweep) {
      emit({
        event: 'sweep-started',
        spec: sweep.specName,
        variants: sweep.variants.map((v) => v.name),
        nodes: sweep.nodes.map((n) => ({ id: n.id, kind: n.kind, key: n.key })),
      });
    },
    nodeStarted(node) {
      emit({ event: 'node-started', node: node.id, kind: node.kind, key: node.key });
    },
    nodeReport(node, report) {
      emit({ event: `node-${report.type}`, node: node.id, ...report, type: undefined });
    },
    nodeFinished(node, outcome) {
      const { summary: _summary, ...rest } = outcome as typeof outcome & { summary?: unknown };
      emit({ event: 'node-finished', node: node.id, key: node.key, ...rest });
    },
    sweepFinished(sweep, status) {
      emit({ event: 'sweep-finished', spec: sweep.specName, status });
    },
  };
}
