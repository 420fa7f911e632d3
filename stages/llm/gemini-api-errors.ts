/**
 * Gemini answers a wrong key with 400 INVALID_ARGUMENT whose ErrorInfo reason is
 * API_KEY_INVALID. Apart from the provider so that preflight can tell it without loading the
 * SDK (the error's shape is all it needs).
 */
export function isInvalidKey(error: { status: number; message: string }): boolean {
  return error.status === 400 && error.message.includes('API_KEY_INVALID');
}

/**
 * Gemini puts the wait in the error body as a google.rpc.RetryInfo detail
 * (`"retryDelay": "17s"` or `"1.5s"`) rather than a header.
 */
export function retryInfoDelayMs(body: unknown): number | undefined {
  const details = (body as { error?: { details?: unknown } } | undefined)?.error?.details;
  if (!Array.isArray(details)) return undefined;
  for (const detail of details) {
    const delay = (detail as { retryDelay?: unknown }).retryDelay;
    if (typeof delay === 'string') {
      const match = /^(\d+(?:\.\d+)?)s$/.exec(delay.trim());
      if (match) return Math.round(Number(match[1]) * 1000);
    }
  }
  return undefined;
}
