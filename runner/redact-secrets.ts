/**
 * The one place secrets are cut out: everything tracking writes (params, tags, artifacts, the
 * journal) and every message that leaves an LLM provider (errors can echo the request; some
 * proxies quote the URL with `?key=`). Two independent nets, because either alone misses cases: a key that names a secret
 * (`llm.api_key`, `hf_token`) hides its value whatever it is, and any string that contains
 * the value of a secret-looking environment variable has that value cut out wherever it sits.
 */

export const REDACTED = '[redacted]';

/** Word segments that make a key a secret when present (`api`+`key` counts as one). */
const SECRET_WORDS = new Set([
  'password',
  'passwd',
  'passphrase',
  'secret',
  'token',
  'apikey',
  'credential',
  'credentials',
  'authorization',
  'cookie',
  'privatekey',
  'accesskey',
]);

/**
 * Values shorter than this are too common (`1`, `true`) to hunt for inside other strings; no
 * real key or token is this short.
 */
const MIN_SECRET_VALUE_LENGTH = 6;

/**
 * True when a key (dotted, snake, kebab or camel case) names a secret. Keys ending in `_env`
 * hold the NAME of an environment variable (`llm.api_key_env: GEMINI_API_KEY`), which is the
 * sanctioned way for a spec to refer to a key, so they are not secrets themselves.
 */
export function looksSecretKey(key: string): boolean {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  const last = words.at(-1);
  if (last === 'env' || last === 'var' || last === 'name') return false;
  for (let i = 0; i < words.length; i += 1) {
    const word = words[i] as string;
    if (SECRET_WORDS.has(word)) return true;
    const pair = word + (words[i + 1] ?? '');
    if (pair === 'apikey' || pair === 'privatekey' || pair === 'accesskey') return true;
  }
  return false;
}

/** The values of environment variables whose names look secret, longest first. */
export function secretEnvValues(env: Readonly<Record<string, string | undefined>>): string[] {
  const values = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (value && value.length >= MIN_SECRET_VALUE_LENGTH && looksSecretKey(name)) {
      values.add(value);
    }
  }
  return [...values].sort((a, b) => b.length - a.length);
}

export function redactText(text: string, secretValues: readonly string[]): string {
  let out = text;
  for (const secret of secretValues) {
    if (secret.length >= MIN_SECRET_VALUE_LENGTH && out.includes(secret)) {
      out = out.split(secret).join(REDACTED);
    }
  }
  return out;
}

/** One known secret (the API key a provider was given) cut out of a message. */
export function redactSecret(text: string, secret: string | undefined): string {
  return secret ? redactText(text, [secret]) : text;
}

/**
 * Returns a deep copy of a JSON-like value with secret-keyed entries replaced by `[redacted]`
 * and secret values cut out of every string. `{key, value}` pairs (MLflow params and tags) are
 * judged by their `key` field as well, since that is where their name lives.
 */
export function redactSecrets<T>(value: T, secretValues: readonly string[]): T {
  return redactValue(value, secretValues) as T;
}

function redactValue(value: unknown, secretValues: readonly string[]): unknown {
  if (typeof value === 'string') return redactText(value, secretValues);
  if (Array.isArray(value)) return value.map((item) => redactValue(item, secretValues));
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  const pairKey = typeof record.key === 'string' && 'value' in record ? record.key : undefined;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(record)) {
    if (looksSecretKey(key) && item !== undefined && item !== null && item !== '') {
      out[key] = REDACTED;
    } else if (key === 'value' && pairKey !== undefined && looksSecretKey(pairKey)) {
      out[key] = typeof item === 'number' ? item : REDACTED;
    } else {
      out[key] = redactValue(item, secretValues);
    }
  }
  return out;
}
