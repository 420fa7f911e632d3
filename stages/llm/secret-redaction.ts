/**
 * Keys must never reach a log, an error message or a memo record. Provider errors can echo the
 * request (some proxies quote the URL with `?key=`), so every message that leaves a provider is
 * passed through here.
 */
export function redactSecret(text: string, secret: string | undefined): string {
  if (!secret || secret.length < 4) return text;
  return text.split(secret).join('[redacted]');
}
