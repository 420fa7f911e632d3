import type { StagePreflightIssue } from '../../runner/stage-kind.ts';
import { apiKeyFrom, resolveLlmSettings } from './llm-settings.ts';
import { isKnownLocalModel, localModelFingerprint } from './local-model.ts';

/**
 * What an LLM stage checks before anything runs: the key is there (by variable name; the value
 * is never looked at beyond presence), the local model is one we know how to install.
 */
export function llmPreflight(
  raw: Record<string, unknown> | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
): StagePreflightIssue[] {
  const settings = resolveLlmSettings(raw);
  const issues: StagePreflightIssue[] = [];
  if (settings.provider === 'gemini' && !apiKeyFrom(settings, env).key) {
    issues.push({
      path: settings.api_key_env ? 'llm.api_key_env' : 'llm.provider',
      message: `the gemini provider needs an API key in ${apiKeyFrom(settings, env).name}; export it before running`,
    });
  }
  if (settings.provider === 'openai' && settings.api_key_env && !env[settings.api_key_env]) {
    issues.push({
      path: 'llm.api_key_env',
      message: `llm.api_key_env names ${settings.api_key_env}, which is not set`,
    });
  }
  if (settings.provider === 'local' && !isKnownLocalModel(settings.model)) {
    issues.push({
      path: 'llm.model',
      message: `the local provider knows ${settings.model} neither by name nor as a .gguf path`,
    });
  }
  if (settings.provider === 'local' && settings.send_images) {
    issues.push({
      path: 'llm.send_images',
      message: 'the local provider runs a text-only model; it cannot take images',
    });
  }
  return issues;
}

/** The model's identity for the stage key (for local models, the GGUF's digest). */
export function llmFingerprints(raw: Record<string, unknown> | undefined): Record<string, string> {
  const settings = resolveLlmSettings(raw);
  return {
    llm_model:
      settings.provider === 'local'
        ? localModelFingerprint(settings.model)
        : `${settings.provider}:${settings.model}`,
  };
}
