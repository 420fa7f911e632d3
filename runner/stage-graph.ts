import { canonicalJson } from './canonical-json.ts';
import type { Pipeline, PipelineStage } from './pipeline.ts';
import { fail, ok, type Result } from './result.ts';
import { keyParams, pickBySchema } from './spec-schema.ts';
import { type StageKey, type StageKeyRecord, stageKey } from './stage-key.ts';
import type { AnyStageKind, StageResources } from './stage-kind.ts';

/**
 * The sweep as one graph: every variant's chain instantiated, keyed, and collapsed so that a
 * stage with the same key (the shared data chain) is one node used by many variants.
 */
export interface StageGraph {
  /** Nodes in topological order (inputs before the nodes that read them). */
  nodes: StageNode[];
  variants: { name: string; nodeKeys: StageKey[] }[];
}

export interface StageNode {
  /** Readable and unique within the graph: the stage id, qualified when variants differ. */
  id: string;
  /** The stage id within a variant's chain (`train`), shared by all its instances. */
  stageId: string;
  key: StageKey;
  kind: AnyStageKind;
  record: StageKeyRecord;
  params: unknown;
  resources: StageResources;
  /** Input name to the key of the node that provides it. */
  inputs: Record<string, StageKey>;
  /** Names of the variants that need this node, in sweep order. */
  variants: string[];
}

export type GraphFailure =
  | { reason: 'cycle'; path: string[]; variant: string }
  | { reason: 'unknown-kind'; kind: string; stage: string }
  | { reason: 'unknown-input'; stage: string; input: string; target: string }
  | { reason: 'missing-input'; stage: string; kind: string; input: string };

export interface GraphOptions {
  /**
   * false: no kind's fingerprints are asked for (no hub, no hashing), so the keys are not the
   * stages' keys and must not leave the caller. The graph's shape is the same: fingerprints are
   * a function of a stage's params, so they never split or merge nodes. For `validate`.
   */
  fingerprints?: boolean;
  /** Passed to the kinds' fingerprints (runner/stage-kind.ts); default true. */
  fresh?: boolean;
}

export async function buildStageGraph(
  pipeline: Pipeline,
  variants: readonly {
    name: string;
    spec: Record<string, unknown>;
    axes?: Record<string, unknown>;
  }[],
  options: GraphOptions = {},
): Promise<Result<StageGraph, GraphFailure>> {
  const kinds = new Map(pipeline.kinds.map((k) => [k.name, k]));
  const nodes = new Map<StageKey, StageNode>();
  const fingerprintCache = new Map<string, Promise<Record<string, string>>>();
  const graphVariants: StageGraph['variants'] = [];

  for (const variant of variants) {
    const stages = pipeline.stagesFor(variant.spec);
    const ordered = topologicalStages(stages);
    if (!ordered.ok) return fail({ ...ordered.error, variant: variant.name });
    const keysById = new Map<string, StageKey>();
    const variantKeys: StageKey[] = [];
    for (const stage of ordered.value) {
      const kind = kinds.get(stage.kind);
      if (!kind) return fail({ reason: 'unknown-kind', kind: stage.kind, stage: stage.id });
      for (const input of kind.inputs) {
        if (!(input in stage.inputs)) {
          return fail({ reason: 'missing-input', stage: stage.id, kind: kind.name, input });
        }
      }
      const inputs: Record<string, StageKey> = {};
      for (const [name, target] of Object.entries(stage.inputs)) {
        const key = keysById.get(target);
        if (!key) return fail({ reason: 'unknown-input', stage: stage.id, input: name, target });
        inputs[name] = key;
      }
      const params = pickBySchema(variant.spec, kind.paramsSchema);
      let fingerprints: Record<string, string> = {};
      if (kind.fingerprints && options.fingerprints !== false) {
        // Fingerprints may hash files; compute them once per distinct params.
        const cacheKey = `${kind.name}\0${canonicalJson(params)}`;
        let pending = fingerprintCache.get(cacheKey);
        if (!pending) {
          pending = Promise.resolve(kind.fingerprints(params, { fresh: options.fresh !== false }));
          fingerprintCache.set(cacheKey, pending);
        }
        fingerprints = await pending;
      }
      const record: StageKeyRecord = {
        kind: kind.name,
        version: kind.version,
        params: keyParams(params, kind.paramsSchema),
        inputs,
        fingerprints,
      };
      const key = stageKey(record);
      keysById.set(stage.id, key);
      variantKeys.push(key);
      const existing = nodes.get(key);
      if (existing) {
        if (!existing.variants.includes(variant.name)) existing.variants.push(variant.name);
        continue;
      }
      nodes.set(key, {
        id: stage.id,
        stageId: stage.id,
        key,
        kind,
        record,
        params,
        resources: typeof kind.resources === 'function' ? kind.resources(params) : kind.resources,
        inputs,
        variants: [variant.name],
      });
    }
    graphVariants.push({ name: variant.name, nodeKeys: variantKeys });
  }
  const ordered = [...nodes.values()];
  nameNodes(ordered, new Map(variants.map((v) => [v.name, v.axes ?? {}])));
  return ok({ nodes: ordered, variants: graphVariants });
}

/**
 * Orders a variant's stages so inputs come first; a cycle is reported with its path. Nodes
 * are inserted in the order a variant's chain is walked, so per-variant topological order
 * also makes the collapsed node list topological.
 */
export function topologicalStages(
  stages: readonly PipelineStage[],
): Result<
  PipelineStage[],
  | { reason: 'cycle'; path: string[] }
  | { reason: 'unknown-input'; stage: string; input: string; target: string }
> {
  const byId = new Map(stages.map((s) => [s.id, s]));
  const state = new Map<string, 'visiting' | 'done'>();
  const order: PipelineStage[] = [];
  for (const stage of stages) {
    const result = visit(stage, []);
    if (result) return fail(result);
  }
  return ok(order);

  function visit(
    stage: PipelineStage,
    path: string[],
  ):
    | { reason: 'cycle'; path: string[] }
    | { reason: 'unknown-input'; stage: string; input: string; target: string }
    | undefined {
    const seen = state.get(stage.id);
    if (seen === 'done') return undefined;
    if (seen === 'visiting') {
      const start = path.indexOf(stage.id);
      return { reason: 'cycle', path: [...path.slice(start), stage.id] };
    }
    state.set(stage.id, 'visiting');
    for (const [input, target] of Object.entries(stage.inputs)) {
      const dependency = byId.get(target);
      if (!dependency) return { reason: 'unknown-input', stage: stage.id, input, target };
      const result = visit(dependency, [...path, stage.id]);
      if (result) return result;
    }
    state.set(stage.id, 'done');
    order.push(stage);
    return undefined;
  }
}

/**
 * Gives nodes readable unique ids: a stage id alone when one node carries it; otherwise the
 * stage id qualified by what its variants have in common (`subset[500]` for the subset that
 * the three supervision types of train size 500 share), or by its one variant (`train[qa-500]`).
 */
function nameNodes(nodes: StageNode[], axesOf: Map<string, Record<string, unknown>>): void {
  const byStage = new Map<string, StageNode[]>();
  for (const node of nodes) {
    const group = byStage.get(node.stageId);
    if (group) group.push(node);
    else byStage.set(node.stageId, [node]);
  }
  for (const [stageId, group] of byStage) {
    if (group.length === 1) continue;
    const labels = group.map((node) => label(node));
    const unique = new Set(labels).size === labels.length;
    group.forEach((node, i) => {
      node.id = `${stageId}[${unique ? labels[i] : node.variants[0]}]`;
    });
  }

  function label(node: StageNode): string {
    if (node.variants.length === 1) return node.variants[0] ?? '';
    const first = axesOf.get(node.variants[0] ?? '') ?? {};
    const shared = Object.entries(first).filter(([axis, value]) =>
      node.variants.every(
        (v) => canonicalJson(axesOf.get(v)?.[axis] ?? null) === canonicalJson(value ?? null),
      ),
    );
    return shared.length > 0
      ? shared.map(([, value]) => String(value)).join('-')
      : (node.variants[0] ?? '');
  }
}
