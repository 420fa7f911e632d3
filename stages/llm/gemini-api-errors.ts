/**
 * Gemini answers a wrong key with 400 INVALID_ARGUMENT whose ErrorInfo reason is
 * API_KEY_INVALID. Apart from the provider so that preflight can tell it without loading the
 * SDK (the error's shape is all it needs).
 */
export function isInvalidKey(error: { status: number; message: string }): boolean {
  return error.status === 400 && error.message.includes('API_KEY_INVALID');
}
