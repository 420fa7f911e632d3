import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { studyPipeline } from '../../stages/pipeline.ts';
import { renderSpecSchema, SPEC_SCHEMA_PATH } from '../../stages/spec-schema-file.ts';
import { runCapturedCli } from '../cli-capture.ts';

function cli(argv: string[]) {
  return runCapturedCli(argv, {
    pipeline: studyPipeline,
    cwd: process.cwd(),
    env: { DERMATUNE_STORE: '/nonexistent-store-for-plan' },
  });
}

describe('the study specs', () => {
  it('paper.yaml validates and plans 9 fine-tuned variants plus the baseline over one data chain', async () => {
    expect((await cli(['validate', 'experiments/paper.yaml'])).code).toBe(0);
    const plan = await cli(['plan', 'experiments/paper.yaml', '--json']);
    expect(plan.code).toBe(0);
    const { variants, nodes } = JSON.parse(plan.stdout) as {
      variants: string[];
      nodes: { id: string; kind: string; variants: string[] }[];
    };
    expect(variants).toEqual([
      'qa-500',
      'qa-1000',
      'qa-all',
      'caption-500',
      'caption-1000',
      'caption-all',
      'qa_caption-500',
      'qa_caption-1000',
      'qa_caption-all',
      'SmolVLM-Instruct',
    ]);
    const count = (kind: string) => nodes.filter((n) => n.kind === kind).length;
    for (const kind of [
      'curate',
      'annotate',
      'select',
      'generate-qa',
      'clean-qa',
      'split',
      'distractors',
    ]) {
      expect(count(kind)).toBe(1);
      expect(nodes.find((n) => n.kind === kind)?.variants).toHaveLength(10);
    }
    // Nested subsets are shared by the supervision types of one size.
    expect(count('subset')).toBe(3);
    expect(count('train')).toBe(9);
    expect(count('generate')).toBe(10);
    expect(count('evaluate')).toBe(10);
    expect(nodes.find((n) => n.id === 'generate[SmolVLM-Instruct]')).toBeDefined();
    expect(nodes.some((n) => n.kind === 'train' && n.variants.includes('SmolVLM-Instruct'))).toBe(
      false,
    );
  });

  it('demo.yaml validates with the same sweep shape', async () => {
    const plan = await cli(['plan', 'experiments/demo.yaml', '--json']);
    expect(plan.code).toBe(0);
    expect(JSON.parse(plan.stdout).variants).toHaveLength(10);
  });

  it('publishes the composed spec schema for editors, kept current', async () => {
    expect(await readFile(SPEC_SCHEMA_PATH, 'utf8')).toBe(renderSpecSchema());
    const paper = await readFile(join('experiments', 'paper.yaml'), 'utf8');
    expect(paper.split('\n')[0]).toBe(
      '# yaml-language-server: $schema=../schemas/spec.schema.json',
    );
  });
});
