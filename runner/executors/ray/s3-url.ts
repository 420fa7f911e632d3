/**
 * `s3://bucket/prefix` as bucket and prefix, or undefined when it is no such URL. On its own so
 * that the spec's executor settings check an address without loading the S3 client.
 */
export function parseS3Url(url: string): { bucket: string; prefix: string } | undefined {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!match) return undefined;
  return { bucket: match[1] as string, prefix: (match[2] ?? '').replace(/^\/+|\/+$/g, '') };
}
