import type { EvaluateParams } from '../contract.ts';
import { resolveEncoder } from './encoder-catalog.ts';
import { type EnsureEncoderOptions, hubEncoderCommit } from './ensure-encoder-model.ts';

/**
 * What enters the evaluate stage's key besides its params: the commit of each hub encoder, so a
 * branch that moves on the hub makes the scores run again rather than mix two models. Packaged
 * models and folders add nothing (their keys stay as they were). When the commit cannot be
 * told (offline, never set up), the key says so in one stable form; preflight says why.
 */
export async function encoderFingerprints(
  params: EvaluateParams,
  options: Pick<EnsureEncoderOptions, 'env' | 'modelsDir' | 'recent' | 'answers'> = {},
): Promise<Record<string, string>> {
  const prints: Record<string, string> = {};
  const wanted = [
    ['eval.bertscore.model', params.eval.bertscore],
    ['eval.encoder.model', params.eval.encoder],
  ] as const;
  for (const [setting, { model, revision }] of wanted) {
    const resolved = resolveEncoder(model, revision);
    if (!resolved.ok || resolved.value.source.kind !== 'hub') continue;
    const { repo } = resolved.value.source;
    const commit = await hubEncoderCommit(model, { ...options, revision });
    prints[setting] = commit
      ? `${repo}@${commit}`
      : `${repo}@${resolved.value.source.revision} (unresolved)`;
  }
  return prints;
}
