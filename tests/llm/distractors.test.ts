import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nearlyEqual, screenDistractors } from '../../stages/distractors/distractor-prompt.ts';
import { fillFromOtherAnswers } from '../../stages/distractors/other-answers.ts';
import { type DistractorRow, runDistractors } from '../../stages/distractors/run-distractors.ts';
import { writeJsonl } from '../../stages/shared/jsonl-file.ts';
import { type ProtocolServer, startGeminiServer } from './gemini-protocol-server.ts';
import { stageContext, TempDirs } from './llm-stage-fixtures.ts';

const temp = new TempDirs();
let server: ProtocolServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  await temp.cleanup();
});

const CORRECT = 'This is impetigo, a superficial bacterial infection with honey-coloured crusts.';

describe('near-equal options', () => {
  it('treats rewordings of the answer as the answer and distinct diagnoses as distinct', () => {
    expect(
      nearlyEqual(
        CORRECT,
        'this is Impetigo — a superficial bacterial infection with honey coloured crusts',
      ),
    ).toBe(true);
    expect(
      nearlyEqual(
        CORRECT,
        'This is impetigo, a superficial bacterial infection with honey-colored crusts.',
      ),
    ).toBe(true);
    expect(
      nearlyEqual(
        CORRECT,
        'This is contact dermatitis, an allergic reaction with weeping vesicles.',
      ),
    ).toBe(false);
    const screened = screenDistractors(
      CORRECT,
      ['Tinea corporis with an annular scaly edge.'],
      [
        'This is impetigo: a superficial bacterial infection with honey-coloured crusts!',
        'Herpes simplex with grouped vesicles on an erythematous base.',
        'Tinea corporis, with an annular scaly edge.',
        '   ',
      ],
    );
    expect(screened.accepted).toEqual([
      'Herpes simplex with grouped vesicles on an erythematous base.',
    ]);
    expect(screened.rejected).toHaveLength(3);
  });
});

describe('distractors stage', () => {
  it('rejects options equal or close to the answer, asks again, and orders the options with the seed', async () => {
    const work = await temp.make();
    const splitDir = join(work, 'split');
    await mkdir(splitDir);
    const test = [
      {
        key: 'PMC1_F1',
        question_id: 'general-likely-diagnosis',
        question: 'What is the most likely diagnosis?',
        answer: CORRECT,
      },
      {
        key: 'PMC2_F1',
        question_id: 'grounded-morphology',
        question: 'What does the morphology indicate?',
        answer: 'Erysipelas: a raised, sharply demarcated plaque.',
      },
      {
        key: 'PMC3_F1',
        question_id: 'general-follow-up',
        question: 'What follow-up?',
        answer: 'Review in two days.',
      },
    ];
    await writeJsonl(join(splitDir, 'test.jsonl'), test);
    const rounds = new Map<string, number>();
    const retryPrompts: string[] = [];
    server = await startGeminiServer((request) => {
      const key = /Question: (.*)/.exec(request.prompt)?.[1] ?? '';
      const round = (rounds.get(key) ?? 0) + 1;
      rounds.set(key, round);
      const wanted = Number(/Write (\d+) wrong answers/.exec(request.prompt)?.[1]);
      if (key === 'What follow-up?') {
        // A model that can only repeat the answer: rejected every time.
        return {
          kind: 'answer',
          text: JSON.stringify({ distractors: Array(wanted).fill('Review in 2 days.') }),
        };
      }
      // First rounds by their prompt, not by a count: another seed names other look-alikes,
      // so its first round is a new call the server must answer like a first round.
      if (!request.prompt.includes('Do not repeat these options')) {
        return {
          kind: 'answer',
          text: JSON.stringify({
            distractors: [
              'This is impetigo, a superficial bacterial infection with honey colored crusts',
              'Allergic contact dermatitis with weeping vesicles.',
              'Allergic contact dermatitis, with weeping vesicles',
            ],
          }),
        };
      }
      retryPrompts.push(request.prompt);
      const fresh = [
        'Herpes simplex with grouped vesicles.',
        'Tinea faciei with an annular scaly edge.',
      ];
      return { kind: 'answer', text: JSON.stringify({ distractors: fresh.slice(0, wanted) }) };
    });
    const params = {
      seed: 3,
      eval: { distractors: 3, distractor_rounds: 3, distractor_fallback: 'none' as const },
      llm: {
        provider: 'gemini',
        model: 'gemini-test',
        base_url: server.url,
        rate_limit: { concurrency: 2 },
      },
    };
    const options = {
      env: { GOOGLE_API_KEY: 'g-key' },
      backoff: { baseDelayMs: 5, maxDelayMs: 10 },
    };
    const memoRoot = join(work, 'memo');
    const first = await stageContext({
      params,
      inputs: { split: splitDir },
      memoRoot,
      workDir: work,
    });
    const result = await runDistractors(first.ctx, options);
    if (!result.ok) throw new Error(result.error.message);
    // The question whose options all repeat the answer is left out and counted, not retried
    // forever: its three rounds are memoized and would replay the same.
    expect(result.value.stats).toMatchObject({
      questions: 3,
      with_distractors: 2,
      dropped: { 'too-few-distractors': 1 },
      dropped_items: [expect.objectContaining({ item: 'PMC3_F1#general-follow-up' })],
    });
    expect(rounds.get('What follow-up?')).toBe(3);
    expect(rounds.get('What is the most likely diagnosis?')).toBe(2);
    const impetigoRetry = retryPrompts.find((p) => p.includes('most likely diagnosis'));
    expect(impetigoRetry).toContain('Write 2 wrong answers');
    expect(impetigoRetry).toContain('Do not repeat these options');
    expect(impetigoRetry).toContain('- Allergic contact dermatitis, with weeping vesicles');
    // Each round names look-alike conditions of its own, none of them the selected category.
    const firstImpetigo = server.seen.find(
      (r) => r.prompt.includes('most likely diagnosis') && !r.prompt.includes('Do not repeat'),
    );
    const named = (prompt: string | undefined) =>
      /showed, in turn: (.*)\./.exec(prompt ?? '')?.[1]?.split('; ') ?? [];
    expect(named(firstImpetigo?.prompt)).toHaveLength(3);
    expect(named(impetigoRetry)).toHaveLength(2);
    const all = [...named(firstImpetigo?.prompt), ...named(impetigoRetry)];
    expect(new Set(all).size).toBe(5);
    expect(all).not.toContain('Bacterial Infections');
    const firstRows = await readFile(join(first.ctx.outDir, 'distractors.jsonl'), 'utf8');

    // A rerun comes entirely from the memo and writes the same file.
    const hits = server.seen.length;
    const second = await stageContext({
      params,
      inputs: { split: splitDir },
      memoRoot,
      workDir: work,
    });
    const done = await runDistractors(second.ctx, options);
    if (!done.ok) throw new Error(done.error.message);
    expect(server.seen.length).toBe(hits);
    expect(await readFile(join(second.ctx.outDir, 'distractors.jsonl'), 'utf8')).toBe(firstRows);
    const rows = (await readFile(join(second.ctx.outDir, 'distractors.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as DistractorRow);
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row.options).toHaveLength(4);
      expect(row.options[row.answer_index]).toBe(row.answer);
      expect(row.distractors).toHaveLength(3);
      for (const d of row.distractors) expect(nearlyEqual(d, row.answer)).toBe(false);
    }
    expect(rows[0]?.distractors).toEqual([
      'Allergic contact dermatitis with weeping vesicles.',
      'Herpes simplex with grouped vesicles.',
      'Tinea faciei with an annular scaly edge.',
    ]);
    // The answer's position depends on the seed and the question only.
    const positions = async (seed: number) => {
      const run = await stageContext({
        params: { ...params, seed },
        inputs: { split: splitDir },
        memoRoot,
        workDir: work,
      });
      const out = await runDistractors(run.ctx, options);
      if (!out.ok) throw new Error(out.error.message);
      return (await readFile(join(run.ctx.outDir, 'distractors.jsonl'), 'utf8'))
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as DistractorRow).answer_index);
    };
    expect(await positions(3)).toEqual(rows.map((r) => r.answer_index));
    const spread = new Set<number>();
    for (let seed = 0; seed < 12; seed++) for (const p of await positions(seed)) spread.add(p);
    expect(spread.size).toBeGreaterThanOrEqual(3);
  });

  it("with distractor_fallback: other_answers, completes a short question from other figures' answers", async () => {
    const work = await temp.make();
    const splitDir = join(work, 'split');
    await mkdir(splitDir);
    const test = [
      {
        key: 'PMC1_F1',
        question_id: 'general-likely-diagnosis',
        question: 'Diagnosis?',
        answer: CORRECT,
      },
      {
        key: 'PMC2_F1',
        question_id: 'general-likely-diagnosis',
        question: 'Diagnosis?',
        answer: 'Erysipelas with a raised, sharply demarcated plaque.',
      },
      {
        key: 'PMC3_F1',
        question_id: 'general-likely-diagnosis',
        question: 'Diagnosis?',
        answer: 'Cellulitis of the lower leg with diffuse warm erythema.',
      },
      {
        key: 'PMC4_F1',
        question_id: 'general-follow-up',
        question: 'Follow-up?',
        answer: 'Review in two days and swab the crusts.',
      },
    ];
    await writeJsonl(join(splitDir, 'test.jsonl'), test);
    // A model that only repeats the answer: every option it writes is rejected.
    server = await startGeminiServer((request) => {
      const answer = /Correct answer: (.*)/.exec(request.prompt)?.[1] ?? '';
      const wanted = Number(/Write (\d+) wrong answers/.exec(request.prompt)?.[1]);
      return { kind: 'answer', text: JSON.stringify({ distractors: Array(wanted).fill(answer) }) };
    });
    const run = async (fallback: 'none' | 'other_answers', rounds = 3, memo = 'memo') => {
      const { ctx } = await stageContext({
        params: {
          seed: 5,
          eval: { distractors: 3, distractor_rounds: rounds, distractor_fallback: fallback },
          llm: {
            provider: 'gemini',
            model: 'gemini-test',
            base_url: server?.url,
            rate_limit: { concurrency: 2 },
          },
        },
        inputs: { split: splitDir },
        memoRoot: join(work, memo),
        workDir: work,
      });
      const result = await runDistractors(ctx, { env: { GOOGLE_API_KEY: 'g-key' } });
      if (!result.ok) throw new Error(result.error.message);
      return { stats: result.value.stats, dir: ctx.outDir };
    };
    const without = await run('none');
    expect(without.stats).toMatchObject({ with_distractors: 0, filled_from_other_answers: 0 });
    // Three rounds for each of the four questions: every option the model writes is rejected.
    const callsWithout = server.seen.length;
    expect(callsWithout).toBe(3 * test.length);

    const withFallback = await run('other_answers');
    // The rounds are replayed from the memo: the fallback costs no call.
    expect(server.seen.length).toBe(callsWithout);
    expect(withFallback.stats).toMatchObject({
      with_distractors: 4,
      filled_from_other_answers: 12,
    });
    const rows = (await readFile(join(withFallback.dir, 'distractors.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as DistractorRow);
    for (const row of rows) {
      const others = test.filter((t) => t.key !== row.key).map((t) => t.answer);
      expect(row.distractors.sort()).toEqual(others.sort());
    }

    // eval.distractor_rounds: 1 asks once per question and says so when it gives up.
    const oneRound = await run('none', 1, 'memo-one-round');
    expect(server.seen.length - callsWithout).toBe(test.length);
    expect(oneRound.stats).toMatchObject({ with_distractors: 0 });
    const dropped = (oneRound.stats as { dropped_items: { message: string }[] }).dropped_items;
    expect(dropped.map((d) => d.message)).toContain(
      'only 0 of 3 options differed enough from the answer and each other after 1 call',
    );
  });
});

describe('fillFromOtherAnswers', () => {
  const rows = [
    {
      key: 'A',
      question_id: 'q1',
      question: 'Q1?',
      answer: 'Impetigo with honey-coloured crusts on the chin.',
    },
    {
      key: 'B',
      question_id: 'q1',
      question: 'Q1?',
      answer: 'Erysipelas with a raised, sharply demarcated plaque.',
    },
    {
      key: 'C',
      question_id: 'q2',
      question: 'Q2?',
      answer: 'Review in two days and swab the crusts.',
    },
    {
      key: 'D',
      question_id: 'q1',
      question: 'Q1?',
      answer: 'impetigo, with honey coloured crusts on the chin',
    },
    {
      key: 'E',
      question_id: 'q2',
      question: 'Q2?',
      answer: 'Start oral antibiotics and elevate the leg.',
    },
  ];
  it("takes the same question's answers first, screens out rewordings of the answer, keeps what the LLM wrote", () => {
    const filled = fillFromOtherAnswers(
      rows[0] as (typeof rows)[number],
      ['Herpes simplex with grouped vesicles.'],
      3,
      rows,
      1,
    );
    // D rewords A's answer and is screened out; B is the only other q1 answer; then a q2 one.
    expect(filled?.[0]).toBe('Herpes simplex with grouped vesicles.');
    expect(filled?.[1]).toBe(rows[1]?.answer);
    expect([rows[2]?.answer, rows[4]?.answer]).toContain(filled?.[2]);
    expect(filled).toHaveLength(3);
    // The same seed picks the same options.
    expect(
      fillFromOtherAnswers(
        rows[0] as (typeof rows)[number],
        ['Herpes simplex with grouped vesicles.'],
        3,
        rows,
        1,
      ),
    ).toEqual(filled);
  });
  it('gives up when the other answers cannot complete the set', () => {
    expect(fillFromOtherAnswers(rows[0] as (typeof rows)[number], [], 4, rows, 1)).toBeUndefined();
  });
});
