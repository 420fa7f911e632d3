import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { projectRoot } from '../../runner/project-root.ts';
import { freeLoopbackPort } from '../../runner/tracking/mlflow-server.ts';
import { studyCommands } from '../../stages/commands.ts';
import { studyPipeline } from '../../stages/pipeline.ts';
import { runCapturedCli } from '../cli-capture.ts';
import { type ProtocolServer, startGeminiServer } from '../llm/gemini-protocol-server.ts';

const KEY = 'cli-preflight-key-0c1d';
const DEMO = join(projectRoot(), 'experiments/demo.yaml');
const PAPER = join(projectRoot(), 'experiments/paper.yaml');
// The paper's Gemini model is named once, in the spec; the test reads it from there.
const PAPER_LLM_MODEL = (parse(readFileSync(PAPER, 'utf8')) as { llm: { model: string } }).llm
  .model;

let store: string;
let server: ProtocolServer;
beforeAll(async () => {
  store = await mkdtemp(join(tmpdir(), 'dermatune-preflight-cli-'));
  server = await startGeminiServer(() => ({ kind: 'answer', text: '{}' }), {
    models: ['gemini-3.6-flash'],
    apiKey: KEY,
  });
});
afterAll(async () => {
  await server.close();
  await rm(store, { recursive: true, force: true });
});
afterEach(() => {
  expect(server.generateCalls).toBe(0);
});

function cli(argv: string[], env: Record<string, string | undefined> = {}) {
  return runCapturedCli([...argv, '--store', store], {
    pipeline: studyPipeline,
    cwd: projectRoot(),
    env,
    extraCommands: studyCommands,
  });
}

const failures = (stderr: string) =>
  stderr
    .split('\n')
    .filter((line) => line.startsWith('  '))
    .map((line) => line.trim());

describe('dermatune preflight', () => {
  it('checks only the LLM of the demo spec pointed at a Gemini-protocol server, and passes', async () => {
    const result = await cli(
      [
        'preflight',
        DEMO,
        '--set',
        'llm.provider=gemini',
        '--set',
        `llm.base_url=${server.url}`,
        '--set',
        'llm.model=gemini-3.6-flash',
      ],
      { GEMINI_API_KEY: KEY },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const checks = result.stdout.split('\n').filter((l) => /^(ok {3}|FAIL |skip )/.test(l));
    // The only part that leaves the machine is the LLM: the shards are local, the model the stand-in.
    expect(checks.map((l) => l.split(':')[0])).toEqual([
      'ok   data',
      'ok   llm',
      'ok   spec',
      'ok   model',
      // The encoders are packaged (PyPI), nothing to fetch: proven locally.
      'ok   encoder',
      'ok   encoder',
      'skip mlflow',
    ]);
    expect(checks[1]).toMatch(
      /^ok {3}llm: Gemini model gemini-3\.6-flash: served at http:\/\/127\.0\.0\.1:\d+ \(models\/gemini-3\.6-flash, version 001, up to 65536 output tokens\) \(generate-qa, distractors\)$/,
    );
    expect(checks[0]).toContain('local shards: present');
    expect(result.stdout).toContain('generate-qa: calls unknown until select is stored');
  });

  it('fails a model Gemini does not serve, naming llm.model, and run refuses before anything starts', async () => {
    const args = ['--set', 'llm.provider=gemini', '--set', `llm.base_url=${server.url}`];
    const result = await cli(['preflight', DEMO, ...args], { GEMINI_API_KEY: KEY });
    expect(result.code).toBe(2);
    expect(failures(result.stderr)).toEqual([
      expect.stringMatching(
        /^llm\.model: llm Gemini model smollm2-135m-instruct-q4_1: not served: Gemini answers 404 NOT_FOUND/,
      ),
    ]);
    expect(result.stderr).not.toMatch(/\n\s+at /);

    const run = await cli(['run', DEMO, ...args, '--no-tracking'], { GEMINI_API_KEY: KEY });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /^llm\.model: llm Gemini model smollm2-135m-instruct-q4_1: not served/,
    );
    expect(run.stderr).toContain('nothing was run.');
    expect(run.stdout).toBe('');
  });

  it('on the paper spec with nothing reachable, names every part it could not reach and why', async () => {
    const closed = `http://127.0.0.1:${await freeLoopbackPort()}`;
    // train.device stays out of this test (it depends on the machine): see worker-preflight.test.ts.
    const result = await cli(
      ['preflight', PAPER, '--set', `llm.base_url=${closed}`, '--set', 'train.device=cpu'],
      {
        GEMINI_API_KEY: KEY,
        HF_TOKEN: 'hf_test',
        HF_ENDPOINT: closed,
        MLFLOW_TRACKING_URI: closed,
      },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    const refused = `could not reach ${closed}: fetch failed (connect ECONNREFUSED ${closed.slice(7)})`;
    expect(failures(result.stderr)).toEqual([
      `data.source: hub shards of BIOMEDICA/biomedica_dermatology_subset_webdataset@main: ${closed}/api/datasets/BIOMEDICA/biomedica_dermatology_subset_webdataset/revision/main: fetch failed (connect ECONNREFUSED ${closed.slice(7)})`,
      `llm.base_url: llm Gemini model ${PAPER_LLM_MODEL}: ${refused}`,
      `HF_ENDPOINT: hub model HuggingFaceTB/SmolVLM-Base@main: ${refused}`,
      expect.stringMatching(
        /^eval\.bertscore\.model: encoder roberta-large \(eval\.bertscore\.model\): encoder 'roberta-large': .*ECONNREFUSED.*; set eval\.bertscore\.model to a local model folder/,
      ),
      `HF_ENDPOINT: hub model HuggingFaceTB/SmolVLM-Instruct@main: ${refused}`,
      `MLFLOW_TRACKING_URI: mlflow tracking server ${closed}: could not reach it: fetch failed (connect ECONNREFUSED ${closed.slice(7)}); a run journals its calls and sends them when it answers (dermatune sync)`,
    ]);
    expect(result.stderr).not.toContain(KEY);
    expect(result.stdout).not.toContain(KEY);
  });
});
