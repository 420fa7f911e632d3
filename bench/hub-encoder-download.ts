// Hub download benchmark: MB/s of an encoder's download through our hub client (302 to the CDN
// origin, chunks written as they arrive, SHA-256 checked against X-Linked-Etag, git blob ids
// for small files) against a plain fetch of the same bytes streamed to disk (the reference:
// no redirect handling, no check). Both from the local hub-protocol server, interleaved.
// Usage: node bench/hub-encoder-download.ts [--mb N] [--repeats R]
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { projectRoot } from '../runner/project-root.ts';
import { downloadHubModel, resolveHubModel } from '../stages/evaluate/encoders/hub-model.ts';
import { startHubTestServer } from '../tests/data/hub-test-server.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? Number(args[index + 1]) : fallback;
};
const MB = option('mb', 256);
const REPEATS = option('repeats', 3);

const work = mkdtempSync(join(tmpdir(), 'hub-bench-'));
const repoDir = join(work, 'repo');
await mkdir(repoDir);
const fixture = join(projectRoot(), 'tests/fixtures/encoders/tiny-roberta');
for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) {
  await copyFile(join(fixture, file), join(repoDir, file));
}
// Incompressible weights of roberta-large's order of size (1.4 GB at --mb 1420).
writeFileSync(join(repoDir, 'model.safetensors'), randomBytes(MB * 1024 * 1024));
const hub = await startHubTestServer({
  repo: 'bench/encoder',
  repoType: 'model',
  commit: 'a'.repeat(40),
  branches: ['main'],
  root: repoDir,
  token: 't',
  gated: false,
  smallFiles: ['config.json', 'tokenizer.json', 'tokenizer_config.json'],
});
const access = { endpoint: hub.endpoint };
const resolved = await resolveHubModel('bench/encoder', 'main', access);
if (!resolved.ok) throw new Error(resolved.error.message);
const bytes = MB * 1024 * 1024;
const rate = (ms: number) => `${(bytes / 1e6 / (ms / 1000)).toFixed(0)} MB/s`;

try {
  for (let round = 1; round <= REPEATS; round++) {
    const ours = performance.now();
    const got = await downloadHubModel(resolved.value, access, {
      cacheDir: join(work, `cache-${round}`),
      log: () => {},
    });
    if (!got.ok) throw new Error(got.error.message);
    const oursMs = performance.now() - ours;

    const plain = performance.now();
    const response = await fetch(`${hub.endpoint}/bench/encoder/resolve/main/model.safetensors`);
    await pipeline(
      Readable.fromWeb(response.body as never),
      createWriteStream(join(work, `plain-${round}`)),
    );
    const plainMs = performance.now() - plain;
    console.log(
      `round ${round}: ours ${rate(oursMs)} (${(oursMs / 1000).toFixed(2)} s, verified), ` +
        `plain fetch ${rate(plainMs)} (${(plainMs / 1000).toFixed(2)} s, unverified)`,
    );
    rmSync(join(work, `cache-${round}`), { recursive: true, force: true });
    rmSync(join(work, `plain-${round}`), { force: true });
  }
} finally {
  await hub.close();
  rmSync(work, { recursive: true, force: true });
}
