import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  RECENT_REVISION_TTL_MS,
  recalledTree,
  recentAnswer,
  rememberCommit,
  rememberTree,
  rememberUnreachable,
  UNREACHABLE_TTL_MS,
} from '../../stages/shared/recent-hub-answers.ts';

const COMMIT = 'c0ffee0123456789abcdef0123456789abcdef01';
const OTHER = 'feedface0123456789abcdef0123456789abcdef';
const place = {
  endpoint: 'http://hub.test',
  type: 'datasets',
  repo: 'BIOMEDICA/biomedica_dermatology_subset_webdataset',
  revision: 'main',
} as const;

let dir: string;
let now: number;
const options = () => ({ dir, now: () => now });
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dermatune-answers-'));
  now = Date.parse('2026-12-01T12:00:00Z');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the hub's recent answers", () => {
  test('serve the commit a branch named while it is younger than the TTL, with its age', async () => {
    expect(await recentAnswer(place, options())).toBeUndefined();
    await rememberCommit(place, COMMIT, options());
    now += 60_000;
    expect(await recentAnswer(place, options())).toEqual({
      commit: COMMIT,
      ageMs: 60_000,
      askedHere: true,
    });
  });

  test('expire: a branch moves, so an answer as old as the TTL is asked again', async () => {
    await rememberCommit(place, COMMIT, options());
    now += RECENT_REVISION_TTL_MS - 1;
    expect(await recentAnswer(place, options())).toMatchObject({ commit: COMMIT });
    now += 1;
    expect(await recentAnswer(place, options())).toBeUndefined();
  });

  test('a clock set back proves nothing', async () => {
    await rememberCommit(place, COMMIT, options());
    now -= 1_000;
    expect(await recentAnswer(place, options())).toBeUndefined();
  });

  test('the newest answer wins, and each revision, repository and hub has its own', async () => {
    await rememberCommit(place, COMMIT, options());
    await rememberCommit(place, OTHER, options());
    expect(await recentAnswer(place, options())).toMatchObject({ commit: OTHER });
    for (const other of [
      { ...place, revision: 'dev' },
      { ...place, repo: 'BIOMEDICA/biomedica_webdataset_24M' },
      { ...place, endpoint: 'http://mirror.test' },
      { ...place, type: 'models' as const },
    ]) {
      expect(await recentAnswer(other, options())).toBeUndefined();
    }
  });

  test('keep an unreachable hub for a minute only, and a later commit replaces it', async () => {
    await rememberUnreachable(place, 'getaddrinfo ENOTFOUND hub.test', options());
    now += UNREACHABLE_TTL_MS - 1;
    expect(await recentAnswer(place, options())).toMatchObject({
      unreachable: 'getaddrinfo ENOTFOUND hub.test',
    });
    now += 1;
    expect(await recentAnswer(place, options())).toBeUndefined();
    await rememberUnreachable(place, 'getaddrinfo ENOTFOUND hub.test', options());
    await rememberCommit(place, COMMIT, options());
    expect(await recentAnswer(place, options())).toMatchObject({ commit: COMMIT });
  });

  test("keep a commit's tree for good, and never a branch's", async () => {
    const files = [{ path: 'commercial/000000.tar', size: 10 }];
    await rememberTree({ ...place, revision: COMMIT, path: '' }, files, options());
    await rememberTree({ ...place, path: '' }, files, options());
    now += 365 * 24 * 3600_000;
    expect(await recalledTree({ ...place, revision: COMMIT, path: '' }, options())).toEqual(files);
    expect(await recalledTree({ ...place, path: '' }, options())).toBeUndefined();
    expect(
      await recalledTree({ ...place, revision: COMMIT, path: 'commercial' }, options()),
    ).toBeUndefined();
  });

  test('a folder that cannot be written costs a request, not a failure', async () => {
    // A file where the folder should be: nothing can be written under it.
    const blocker = join(dir, 'blocker');
    await writeFile(blocker, '');
    const unwritable = { dir: join(blocker, 'answers'), now: () => now };
    await expect(rememberCommit(place, COMMIT, unwritable)).resolves.toBeUndefined();
    expect(await recentAnswer(place, unwritable)).toBeUndefined();
  });
});
