import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockResource } from '../../runner/resource-lock.ts';

describe('resource locks', () => {
  it('keeps two locks of one process on two resources of one folder apart', async () => {
    // The stand-in's build and the encoder's export, both under the models folder, side by side.
    const models = await mkdtemp(join(tmpdir(), 'dermatune-locks-'));
    const standIn = join(models, 'stand-in');
    const encoder = join(models, 'encoder');
    const releaseStandIn = await lockResource(standIn);
    const releaseEncoder = await lockResource(encoder);
    await releaseStandIn();
    // The encoder's lock is still held, and still its own to release.
    expect(existsSync(`${encoder}.lock`)).toBe(true);
    await expect(lockResource(encoder)).rejects.toMatchObject({ code: 'ELOCKED' });
    await releaseEncoder();
    expect(existsSync(`${encoder}.lock`)).toBe(false);
    expect(existsSync(`${standIn}.lock`)).toBe(false);
  });
});
