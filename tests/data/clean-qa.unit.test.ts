import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  cleanQaFolder,
  cleanQaPairs,
  isDegenerate,
  tidyAnswer,
} from '../../stages/clean-qa/clean-qa.ts';
import { findNearDuplicates, jaccard, tokenSet } from '../../stages/clean-qa/text-similarity.ts';
import { seededRandom } from '../../stages/shared/seeded-random.ts';

const ANSWER =
  'The honey-coloured crusts on an erythematous base around the nose suggest non-bullous impetigo, a superficial infection by Staphylococcus aureus or Streptococcus pyogenes.';

function rows(values: unknown[]) {
  return values.map((value, i) => ({ line: i + 1, value }));
}

describe('cleaning QA pairs', () => {
  it('drops each kind of bad pair with its reason and keeps the rest in order', () => {
    const input = rows([
      { key: 'a', question: 'What condition does this suggest?', answer: ANSWER, article_id: 'P1' },
      { key: 'a', question: 'What condition does this suggest?', answer: ANSWER }, // exact
      {
        key: 'b',
        question: 'What condition does this SUGGEST',
        answer: `${ANSWER.toUpperCase()}!`,
      }, // exact after normalising
      {
        key: 'c',
        question: 'What condition does this suggest?',
        answer: ANSWER.replace('around the nose', 'around the nose and mouth'),
      }, // near
      { key: 'd', question: 'What is the likely diagnosis?', answer: '   ' }, // empty
      { key: 'e', question: 'What is the likely diagnosis?' }, // malformed: no answer
      'not an object', // malformed
      { key: 'f', question: 'What is the likely diagnosis?', answer: "I'm sorry, I cannot tell." }, // refusal
      {
        key: 'g',
        question: 'What is the likely diagnosis here?',
        answer: 'The likely diagnosis here.',
      }, // repeats
      {
        key: 'h',
        question: 'Which conditions resemble this lesion?',
        answer: 'Contact dermatitis, herpes simplex and tinea faciei can look similar.',
      },
    ]);
    const { kept, dropped, stats } = cleanQaPairs(input, 0.8);
    expect(kept.map((p) => p.key)).toEqual(['a', 'h']);
    expect(kept[0]).toHaveProperty('article_id', 'P1'); // other fields pass through
    expect(dropped.map((d) => [d.line, d.reason])).toEqual([
      [2, 'exact-duplicate'],
      [3, 'exact-duplicate'],
      [4, 'near-duplicate'],
      [5, 'empty'],
      [6, 'malformed'],
      [7, 'malformed'],
      [8, 'refusal'],
      [9, 'answer-repeats-question'],
    ]);
    expect(dropped.find((d) => d.line === 4)).toMatchObject({ duplicate_of: 1 });
    expect(stats).toMatchObject({
      input: 10,
      kept: 2,
      images: 2,
      near_duplicate_threshold: 0.8,
      dropped: {
        'exact-duplicate': 2,
        'near-duplicate': 1,
        empty: 1,
        malformed: 2,
        refusal: 1,
        'answer-repeats-question': 1,
      },
    });
  });

  it("tidies a small model's leading debris and drops placeholders and decoding loops", () => {
    // Openings SmolLM2-135M wrote under the JSON grammar in the demo's data chain.
    expect(tidyAnswer('][SYNTHETE] Bullous impetigo on the trunk.')).toBe(
      'Bullous impetigo on the trunk.',
    );
    expect(tidyAnswer('{AZN}  Ulcers with\n undermined   edges.')).toBe(
      'Ulcers with undermined edges.',
    );
    expect(tidyAnswer(']:  The photograph depicts a dome-shaped swelling.')).toBe(
      'The photograph depicts a dome-shaped swelling.',
    );
    expect(tidyAnswer(ANSWER)).toBe(ANSWER);
    // Brackets inside the answer are the answer's own.
    expect(tidyAnswer('Erysipelas [a streptococcal infection] of the face.')).toBe(
      'Erysipelas [a streptococcal infection] of the face.',
    );
    expect(isDegenerate('{{image_description}}')).toBe(true);
    expect(isDegenerate('Bullous impetigo: a case report. 2018. 2018. 2018. 2018.')).toBe(false);
    expect(
      isDegenerate(
        'A rare and rare condition that is a rare and rare condition that is a rare and rare condition',
      ),
    ).toBe(true);
    expect(isDegenerate(ANSWER)).toBe(false);

    const input = rows([
      { key: 'a', question: 'What condition does this suggest?', answer: `][SYNTHETE] ${ANSWER}` },
      { key: 'b', question: 'What is the likely diagnosis?', answer: '{{image_description}}' },
      {
        key: 'c',
        question: 'Which conditions resemble this lesion?',
        answer: 'It is a skin lesion that is a skin lesion that is a skin lesion that is red.',
      },
    ]);
    const { kept, dropped, stats } = cleanQaPairs(input, 0.9);
    expect(kept).toEqual([
      { key: 'a', question: 'What condition does this suggest?', answer: ANSWER },
    ]);
    expect(dropped.map((d) => [d.line, d.reason])).toEqual([
      [2, 'degenerate'],
      [3, 'degenerate'],
    ]);
    expect(stats).toMatchObject({ kept: 1, tidied: 1, dropped: { degenerate: 2 } });
  });

  it('keeps a reworded pair below the threshold and drops it above', () => {
    const a = { key: 'a', question: 'What condition does this suggest?', answer: ANSWER };
    const b = {
      ...a,
      key: 'b',
      answer: ANSWER.replace('non-bullous impetigo', 'bullous impetigo, most likely'),
    };
    const similarity = jaccard(
      tokenSet(`${a.question} ${a.answer}`),
      tokenSet(`${b.question} ${b.answer}`),
    );
    expect(similarity).toBeGreaterThan(0.85);
    expect(similarity).toBeLessThan(0.95);
    expect(cleanQaPairs(rows([a, b]), 0.95).kept).toHaveLength(2);
    expect(cleanQaPairs(rows([a, b]), 0.85).kept).toHaveLength(1);
  });

  it('finds the same near duplicates as comparing every pair', () => {
    const random = seededRandom(3, 'near-duplicate-test');
    const words = Array.from({ length: 12 }, (_, i) => `w${i}`);
    const sets = Array.from({ length: 300 }, () => {
      const size = 2 + random.below(8);
      return new Set(
        Array.from({ length: size }, () => words[random.below(words.length)] as string),
      );
    });
    for (const threshold of [0.5, 0.7, 0.9]) {
      const fast = findNearDuplicates(sets, threshold).map((d) => d.index);
      const kept: number[] = [];
      const slow: number[] = [];
      sets.forEach((set, i) => {
        if (kept.some((j) => jaccard(set, sets[j] as Set<string>) >= threshold)) slow.push(i);
        else kept.push(i);
      });
      expect(fast).toEqual(slow);
      expect(slow.length).toBeGreaterThan(0);
    }
  });

  it('reads qa.jsonl and writes the kept pairs, the dropped list and stats', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dermatune-clean-'));
    try {
      const lines = [
        JSON.stringify({ key: 'a', question: 'Q one?', answer: 'An answer about impetigo.' }),
        '{"key": "b", "question": broken json',
        JSON.stringify({ key: 'a', question: 'Q one?', answer: 'An answer about impetigo.' }),
      ];
      await writeFile(join(dir, 'qa.jsonl'), `${lines.join('\n')}\n`);
      const out = join(dir, 'out');
      await mkdir(out);
      const result = await cleanQaFolder(dir, out, 0.9);
      expect(result.ok && result.value.dropped).toEqual({ malformed: 1, 'exact-duplicate': 1 });
      expect((await readFile(join(out, 'qa.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(1);
      expect((await readFile(join(out, 'dropped.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(
        2,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
