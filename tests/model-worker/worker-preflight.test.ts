import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { preflightContext } from '../../runner/preflight.ts';
import { STAND_IN_NAME } from '../../stages/model-worker/stand-in-model.ts';
import { workerDoctor } from '../../stages/model-worker/worker-doctor.ts';
import {
  baseModelPreflight,
  cudaCheck,
  cudaPreflight,
} from '../../stages/model-worker/worker-preflight.ts';

const ctx = () => preflightContext({ env: {} });

describe('worker preflight', () => {
  it('asks the worker whether CUDA is visible when train.device is cuda, and only then', async () => {
    expect(await cudaPreflight('auto', ctx())).toEqual([]);
    const dir = await mkdtemp(join(tmpdir(), 'dermatune-doctor-test-'));
    try {
      const doctor = await workerDoctor(join(dir, 'doctor.log'));
      if (!doctor.ok) throw new Error(doctor.error.message);
      const [check] = await cudaPreflight('cuda', ctx());
      // Whatever this machine has, the check says what the worker's torch sees.
      expect(check).toEqual(cudaCheck(doctor.value.cuda));
      expect(doctor.value.cuda.memory_bytes.length).toBe(doctor.value.cuda.devices.length);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('passes a visible GPU with its memory, and fails a CPU-only torch naming train.device', () => {
    expect(
      cudaCheck({
        available: true,
        version: '12.8',
        devices: ['NVIDIA A100-SXM4-40GB'],
        memory_bytes: [42_505_273_344],
        bf16: true,
      }),
    ).toEqual({
      part: 'gpu',
      subject: 'CUDA',
      outcome: 'passed',
      detail: 'CUDA 12.8: NVIDIA A100-SXM4-40GB (39.6 GiB); bf16 yes',
    });
    expect(
      cudaCheck({ available: false, version: null, devices: [], memory_bytes: [], bf16: false }),
    ).toMatchObject({ outcome: 'failed', setting: 'train.device' });
  });

  it('passes the stand-in and a local folder, and fails a folder that is not there', async () => {
    expect((await baseModelPreflight({ base: STAND_IN_NAME }, ctx()))[0]?.outcome).toBe('passed');
    expect((await baseModelPreflight({ base: tmpdir() }, ctx()))[0]?.detail).toBe('a local folder');
    expect((await baseModelPreflight({ base: './no/such/model' }, ctx()))[0]).toMatchObject({
      outcome: 'failed',
      setting: 'model.base',
    });
  });
});
