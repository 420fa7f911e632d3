import { relative } from 'node:path';
import type { Diagnostic } from './diagnostic.ts';
import { applyOverrides } from './overrides.ts';
import type { Pipeline } from './pipeline.ts';
import { projectRoot } from './project-root.ts';
import { fail, ok, type Result } from './result.ts';
import { runnerGrammarSchema } from './spec-grammar.ts';
import { loadSpecLayers, locate, mergeLayers } from './spec-layers.ts';
import { composeSpecSchema, type JsonSchema } from './spec-schema.ts';
import { SpecValidator } from './spec-validation.ts';
import { buildStageGraph, type GraphOptions, type StageGraph } from './stage-graph.ts';
import { expandSweep, selectVariants } from './sweep.ts';

/** A validated sweep: its variants with their resolved specs, and the one shared stage graph. */
export interface SweepPlan {
  specName: string;
  specPath: string;
  sweepId: string;
  /** The variants this run covers (all of them unless `--only` narrowed it). */
  variants: ResolvedVariant[];
  /** Every variant the sweep defines, selected or not. */
  allVariantNames: string[];
  graph: StageGraph;
  /**
   * The graph of every variant of the sweep; the same object as `graph` unless `--only`
   * narrowed it. It says which stages are shared and what each node is called in the whole
   * sweep, so `--force` means the same with and without `--only`.
   */
  sweepGraph: StageGraph;
}

export interface ResolvedVariant {
  name: string;
  description?: string;
  axes: Record<string, unknown>;
  /** Set on a replicate (`sweep.replicates`): the variant it repeats. */
  replicateOf?: string;
  replicate?: Record<string, unknown>;
  /** Defaults applied; `sweep` and `extends` removed. */
  spec: Record<string, unknown>;
}

export interface PlanRequest {
  specPath: string;
  sets?: readonly string[];
  only?: readonly string[];
  /** Refuse sweeps of more variants than this (default DEFAULT_MAX_VARIANTS). */
  maxVariants?: number;
  /**
   * false for the views (plan, status, why): kinds may key floating references (a hub branch)
   * by a recent resolution instead of asking again (FingerprintContext). Default true.
   */
  fresh?: boolean;
}

/** Spec schema for a pipeline, composed once per process. */
const schemas = new WeakMap<Pipeline, JsonSchema>();
const validators = new WeakMap<Pipeline, Promise<SpecValidator>>();

export function specSchemaFor(pipeline: Pipeline): JsonSchema {
  let schema = schemas.get(pipeline);
  if (!schema) {
    schema = composeSpecSchema(pipeline.baseSchema ?? {}, [
      { from: 'the runner grammar', schema: runnerGrammarSchema },
      ...pipeline.kinds.map((kind) => ({
        from: `stage kind ${kind.name}`,
        schema: kind.paramsSchema,
      })),
    ]);
    schemas.set(pipeline, schema);
  }
  return schema;
}

function specValidatorFor(pipeline: Pipeline): Promise<SpecValidator> {
  let validator = validators.get(pipeline);
  if (!validator) {
    validator = SpecValidator.create(specSchemaFor(pipeline));
    validators.set(pipeline, validator);
  }
  return validator;
}

/**
 * Spec file to stage graph: load the layers, apply overrides, expand the sweep, validate every
 * variant (reporting each problem once, at its origin), then key and collapse the stages.
 */
export function planSweep(
  pipeline: Pipeline,
  request: PlanRequest,
): Promise<Result<SweepPlan, Diagnostic[]>> {
  return planWith(pipeline, request, { fresh: request.fresh !== false });
}

/** What `validate` says of a valid sweep: how many variants and stages, and how many are shared. */
export interface SweepCheck {
  variants: number;
  stages: number;
  /** Stages used by more than one variant. */
  shared: number;
}

/**
 * The spec checked as `planSweep` checks it, and its graph's shape, without asking any kind for
 * fingerprints: no network, no hashing of models or worker code. Its keys would not be the
 * stages' keys, so it returns none.
 */
export async function checkSweep(
  pipeline: Pipeline,
  request: PlanRequest,
): Promise<Result<SweepCheck, Diagnostic[]>> {
  const planned = await planWith(pipeline, request, { fingerprints: false });
  if (!planned.ok) return planned;
  const { variants, graph } = planned.value;
  return ok({
    variants: variants.length,
    stages: graph.nodes.length,
    shared: graph.nodes.filter((n) => n.variants.length > 1).length,
  });
}

async function planWith(
  pipeline: Pipeline,
  request: PlanRequest,
  graphOptions: GraphOptions,
): Promise<Result<SweepPlan, Diagnostic[]>> {
  const schema = specSchemaFor(pipeline);
  const validator = await specValidatorFor(pipeline);
  const loaded = await loadSpecLayers(request.specPath);
  if (!loaded.ok) return loaded;
  const overridden = applyOverrides(loaded.value, request.sets ?? [], schema);
  if (!overridden.ok) return overridden;
  const merged = mergeLayers(overridden.value.layers);
  const expanded = expandSweep(overridden.value, merged, schema, request.maxVariants);
  if (!expanded.ok) return expanded;
  const problems: Diagnostic[] = [...expanded.value.problems];
  // The same bad axis value breaks every variant that has it: report it once, naming them all.
  const byVariantOrigin = new Map<string, { diagnostic: Diagnostic; variants: string[] }>();
  const selected = selectVariants(expanded.value.variants, request.only ?? []);
  if (!selected.ok) return fail([...problems, ...selected.error]);

  const seen = new Set<string>();
  let variants: ResolvedVariant[] = [];
  const everyVariant: ResolvedVariant[] = [];
  for (const variant of expanded.value.variants) {
    const validated = validator.validate(variant.spec);
    const found: Diagnostic[] = validated.ok ? [] : validated.error;
    if (validated.ok && pipeline.checkSpec) {
      for (const issue of pipeline.checkSpec(validated.value)) {
        found.push({ message: issue.message, ...locate(variant.spec, issue.path.split('.')) });
      }
    }
    for (const diagnostic of found) {
      const origin = diagnostic.origin;
      if (
        origin?.kind === 'variants' &&
        origin.names.length === 1 &&
        origin.names[0] === variant.name
      ) {
        const id = diagnosticIdentity({ ...diagnostic, origin: undefined });
        const entry = byVariantOrigin.get(id);
        if (entry) entry.variants.push(variant.name);
        else byVariantOrigin.set(id, { diagnostic, variants: [variant.name] });
        continue;
      }
      // A problem in the base file shows up in every variant; report it once.
      const identity = diagnosticIdentity(diagnostic);
      if (seen.has(identity)) continue;
      seen.add(identity);
      problems.push(diagnostic);
    }
    if (validated.ok) {
      const { sweep: _sweep, extends: _extends, ...spec } = validated.value;
      const resolved = {
        name: variant.name,
        description: variant.description ?? describe(spec),
        axes: variant.axes,
        ...(variant.replicateOf !== undefined && {
          replicateOf: variant.replicateOf,
          replicate: variant.replicate,
        }),
        spec,
      };
      everyVariant.push(resolved);
      if (selected.value.some((v) => v.name === variant.name)) variants.push(resolved);
    }
  }
  for (const { diagnostic, variants: names } of byVariantOrigin.values()) {
    problems.push({ ...diagnostic, origin: { kind: 'variants', names } });
  }
  if (problems.length > 0) return fail(problems);

  let graph = await buildStageGraph(pipeline, variants, graphOptions);
  const collapsed = new Set<string>();
  if (graph.ok) {
    const distinct = withoutSharedReplicates(variants, graph.value);
    if (distinct.length < variants.length) {
      for (const v of variants)
        if (v.replicateOf && !distinct.includes(v)) collapsed.add(v.replicateOf);
      variants = distinct;
      graph = await buildStageGraph(pipeline, variants, graphOptions);
    }
  }
  // --force names are resolved against the whole sweep, not only the --only selection.
  const sweepGraph =
    graph.ok && everyVariant.length > variants.length
      ? await buildStageGraph(pipeline, everyVariant, graphOptions)
      : graph;
  if (graph.ok && !sweepGraph.ok) return fail([{ message: 'the sweep graph cannot be built' }]);
  if (!graph.ok) {
    const error = graph.error;
    switch (error.reason) {
      case 'cycle':
        return fail([
          { message: `stage cycle in variant ${error.variant}: ${error.path.join(' -> ')}` },
        ]);
      case 'unknown-kind':
        return fail([{ message: `stage ${error.stage} uses unknown stage kind "${error.kind}"` }]);
      case 'unknown-input':
        return fail([
          {
            message: `stage ${error.stage} reads input ${error.input} from unknown stage "${error.target}"`,
          },
        ]);
      case 'missing-input':
        return fail([
          {
            message: `stage ${error.stage} (${error.kind}) is not given its input "${error.input}"`,
          },
        ]);
    }
  }
  const specName = String(variants[0]?.spec.name ?? 'default');
  const specPath = loaded.value.file;
  return ok({
    specName,
    specPath,
    sweepId: `${relative(projectRoot(), specPath)}#${specName}`,
    variants,
    allVariantNames: [
      ...new Set(
        expanded.value.variants.map((v) =>
          v.replicateOf && collapsed.has(v.replicateOf) ? v.replicateOf : v.name,
        ),
      ),
    ],
    graph: graph.value,
    sweepGraph: sweepGraph.ok ? sweepGraph.value : graph.value,
  });
}

/**
 * A variant whose replicates all have the same stages (the untuned baseline under a
 * `train.seed` replicate: nothing it runs reads the seed) is one run, not n copies of it:
 * it keeps its own name and no replicate marks.
 */
function withoutSharedReplicates(
  variants: readonly ResolvedVariant[],
  graph: StageGraph,
): ResolvedVariant[] {
  const keysOf = new Map(graph.variants.map((v) => [v.name, v.nodeKeys.join(',')]));
  const groups = new Map<string, ResolvedVariant[]>();
  for (const v of variants) {
    if (v.replicateOf) groups.set(v.replicateOf, [...(groups.get(v.replicateOf) ?? []), v]);
  }
  const shared = new Set(
    [...groups]
      .filter(([, members]) => new Set(members.map((m) => keysOf.get(m.name))).size === 1)
      .map(([group]) => group),
  );
  const out: ResolvedVariant[] = [];
  for (const v of variants) {
    if (!v.replicateOf || !shared.has(v.replicateOf)) out.push(v);
    else if (groups.get(v.replicateOf)?.[0] === v) {
      const { replicateOf, replicate, ...rest } = v;
      const axes = Object.fromEntries(
        Object.entries(rest.axes).filter(([key]) => !(replicate && key in replicate)),
      );
      out.push({ ...rest, name: replicateOf, axes });
    }
  }
  return out;
}

function describe(spec: Record<string, unknown>): string | undefined {
  return typeof spec.description === 'string' ? spec.description : undefined;
}

/** Two diagnostics are one problem when they say the same of the same text from the same origin. */
function diagnosticIdentity({ message, span, origin }: Diagnostic): string {
  return JSON.stringify([message, span?.file, span?.start, span?.end, origin]);
}
