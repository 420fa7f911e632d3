import { DEFAULT_HUB_ENDPOINT } from '../biomedica/hub-download.ts';

/**
 * How this machine reaches the Hugging Face hub, read from the environment the way
 * huggingface_hub reads it: `HF_ENDPOINT` (default https://huggingface.co), `HF_TOKEN`, and
 * `HF_HUB_OFFLINE` (true for 1/ON/YES/TRUE, any case); `DERMATUNE_OFFLINE` turns every
 * download of the project off as well.
 */
export interface HubAccess {
  endpoint: string;
  token?: string;
  /** The variable that turned downloads off (`HF_HUB_OFFLINE=1`); absent when online. */
  offline?: string;
}

type Env = Readonly<Record<string, string | undefined>>;

const TRUE_VALUES = new Set(['1', 'ON', 'YES', 'TRUE']);
const OFFLINE_VARIABLES = ['DERMATUNE_OFFLINE', 'HF_HUB_OFFLINE'] as const;

export function hubAccess(env: Env = process.env, tokenVariable = 'HF_TOKEN'): HubAccess {
  const token = env[tokenVariable];
  const offline = OFFLINE_VARIABLES.find((name) =>
    TRUE_VALUES.has((env[name] ?? '').toUpperCase()),
  );
  return {
    endpoint: (env.HF_ENDPOINT || DEFAULT_HUB_ENDPOINT).replace(/\/+$/, ''),
    ...(token ? { token } : {}),
    ...(offline ? { offline: `${offline}=${env[offline]}` } : {}),
  };
}
