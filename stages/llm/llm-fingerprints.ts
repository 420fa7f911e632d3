import { resolveLlmSettings } from './llm-settings.ts';

/**
 * The model's identity for the stage key (for local models, the GGUF's digest). Apart from the
 * LLM checks, and loading the local model's module only for the local provider, so that keying
 * an LLM stage (plan) loads no client, check or Python set-up.
 */
export async function llmFingerprints(
  raw: Record<string, unknown> | undefined,
): Promise<Record<string, string>> {
  const settings = resolveLlmSettings(raw);
  if (settings.provider !== 'local') {
    return { llm_model: `${settings.provider}:${settings.model}` };
  }
  const { localModelFingerprint } = await import('./local-model.ts');
  return { llm_model: localModelFingerprint(settings.model) };
}
