import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AnnotationRow } from '../../stages/annotate/annotate-prompt.ts';
import { runAnnotate } from '../../stages/annotate/run-annotate.ts';
import type { ItemFailure } from '../../stages/llm/llm-stage-items.ts';
import {
  type ProtocolServer,
  type ServerBehaviour,
  startGeminiServer,
} from './gemini-protocol-server.ts';
import {
  patientOf,
  stageContext,
  syntheticRecords,
  TempDirs,
  writeRecords,
} from './llm-stage-fixtures.ts';

const temp = new TempDirs();
let server: ProtocolServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  await temp.cleanup();
});

const ITEMS = 40;
const BLOCKED = new Set([7, 23]);
// Late in the order, so that the crash of the first run never cuts its retries short.
const ALWAYS_MALFORMED = 37;
const OUT_OF_LIST = 12;
const MAX_ATTEMPTS = 4;

/** What the server does with the n-th request about one patient, fault-free after the first. */
function scheduled(patient: number, attempt: number, blocking: boolean): ServerBehaviour {
  if (BLOCKED.has(patient) && blocking) return { kind: 'prompt-blocked' };
  if (patient === ALWAYS_MALFORMED) return { kind: 'malformed' };
  if (attempt === 1) {
    switch (patient % 8) {
      case 0:
        return { kind: 'rate-limit', retryAfterSeconds: 0.1 };
      case 1:
        return { kind: 'server-error', status: 503 };
      case 2:
        return { kind: 'hang' };
      case 3:
        return { kind: 'malformed' };
    }
  }
  const category = patient === OUT_OF_LIST ? 42 : 21;
  return {
    kind: 'answer',
    text: JSON.stringify({
      category_number: category,
      category_name: category === 21 ? 'Bacterial Infections' : 'Made-up',
      reasoning: `patient ${patient}: the caption names the condition`,
    }),
  };
}

describe('annotate against a faulty Gemini-protocol server', () => {
  it('ends every figure done or failed with its reason, resumes after a crash, and never pays twice', async () => {
    const work = await temp.make();
    const memoRoot = join(work, 'memo');
    const recordsDir = await writeRecords(join(work, 'curate'), syntheticRecords(ITEMS));
    const attempts = new Map<number, number>();
    const answered = new Map<number, number>();
    let blocking = true;
    let crashAfterAnswers: number | undefined = 15;
    let crash: () => void = () => {};
    let crashing = false;
    let answersSoFar = 0;
    const usableAnswers = new Set<number>();
    server = await startGeminiServer((request) => {
      expect(request.system).toContain('29. Unspecified or Cannot Be Determined');
      expect(request.hasImage).toBe(false);
      if (crashing) return { kind: 'hang' };
      if (crashAfterAnswers !== undefined && answersSoFar >= crashAfterAnswers) {
        // The "crash": from here on nothing is answered, and the run is killed a moment
        // later, once the answers already sent have arrived.
        crashAfterAnswers = undefined;
        crashing = true;
        setTimeout(() => {
          crash();
          crashing = false;
        }, 150);
        return { kind: 'hang' };
      }
      const patient = patientOf(request.prompt);
      const attempt = (attempts.get(patient) ?? 0) + 1;
      attempts.set(patient, attempt);
      const behaviour = scheduled(patient, attempt, blocking);
      if (behaviour.kind === 'answer') usableAnswers.add(patient);
      if (behaviour.kind === 'answer' || behaviour.kind === 'malformed') {
        answersSoFar++;
        answered.set(patient, (answered.get(patient) ?? 0) + 1);
      }
      return behaviour;
    });
    const params = {
      llm: {
        provider: 'gemini',
        model: 'gemini-test',
        base_url: server.url,
        max_attempts: MAX_ATTEMPTS,
        request_timeout_s: 0.3,
        rate_limit: { concurrency: 4 },
      },
    };
    const options = {
      env: { GEMINI_API_KEY: 'k-test' },
      backoff: { baseDelayMs: 10, maxDelayMs: 50 },
    };
    const faultyFirstAttempts = Array.from({ length: ITEMS }, (_, p) =>
      scheduled(p, 1, true),
    ).filter((b) => b.kind !== 'answer').length;
    expect(faultyFirstAttempts / ITEMS).toBeGreaterThanOrEqual(0.3);

    // Run 1: killed midway.
    const abort = new AbortController();
    crash = () => abort.abort();
    const first = await stageContext({
      params,
      inputs: { records: recordsDir },
      memoRoot,
      workDir: work,
      signal: abort.signal,
    });
    const crashed = await runAnnotate(first.ctx, options);
    expect(crashed.ok).toBe(false);
    if (!crashed.ok) expect(crashed.error.reason).toBe('cancelled');
    const answeredBeforeCrash = answersSoFar;
    const doneBeforeCrash = new Set(usableAnswers);
    expect(answeredBeforeCrash).toBeGreaterThanOrEqual(15);
    expect(answeredBeforeCrash).toBeLessThan(ITEMS);

    // Run 2: resumes; the blocked figures fail with their reason, nothing else does.
    const hitsBeforeResume = server.seen.length;
    const second = await stageContext({
      params,
      inputs: { records: recordsDir },
      memoRoot,
      workDir: work,
    });
    const resumed = await runAnnotate(second.ctx, options);
    expect(resumed.ok).toBe(false);
    if (resumed.ok) throw new Error('unreachable');
    expect(resumed.error.reason).toBe('items-failed');
    const failed = resumed.error.details as ItemFailure[];
    expect(failed.map((f) => [f.item, f.reason]).sort()).toEqual([
      ['PMC1003_F2', 'safety-block'],
      ['PMC1011_F2', 'safety-block'],
    ]);
    const resumedPatients = new Set(
      server.seen.slice(hitsBeforeResume).map((r) => patientOf(r.prompt)),
    );
    for (const patient of doneBeforeCrash)
      expect({ patient, again: resumedPatients.has(patient) }).toEqual({ patient, again: false });
    expect(doneBeforeCrash.size + resumedPatients.size).toBe(ITEMS);

    // Run 3: the provider stops blocking; only the two blocked figures are asked again.
    blocking = false;
    const hitsBeforeThird = server.seen.length;
    const third = await stageContext({
      params,
      inputs: { records: recordsDir },
      memoRoot,
      workDir: work,
    });
    const finished = await runAnnotate(third.ctx, options);
    expect(finished.ok).toBe(true);
    const thirdPatients = server.seen.slice(hitsBeforeThird).map((r) => patientOf(r.prompt));
    expect([...new Set(thirdPatients)].sort((a, b) => a - b)).toEqual([...BLOCKED]);

    // Nothing paid twice: every figure got exactly one usable answer across the three runs,
    // and the never-parseable one exactly MAX_ATTEMPTS answers (its fallback is remembered).
    for (let patient = 0; patient < ITEMS; patient++) {
      const expected = patient === ALWAYS_MALFORMED ? MAX_ATTEMPTS : patient % 8 === 3 ? 2 : 1;
      expect({ patient, answers: answered.get(patient) }).toEqual({ patient, answers: expected });
    }

    const rows = (await readFile(join(third.ctx.outDir, 'annotations.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as AnnotationRow);
    expect(rows).toHaveLength(ITEMS);
    const byPatient = (p: number) => rows[p] as AnnotationRow;
    expect(byPatient(0)).toMatchObject({
      key: 'PMC1000_F1',
      category_number: 21,
      category_name: 'Bacterial Infections',
    });
    expect(byPatient(OUT_OF_LIST)).toMatchObject({ category_number: 29, fallback: 'out-of-list' });
    expect(byPatient(OUT_OF_LIST).raw).toContain('"category_number":42');
    expect(byPatient(ALWAYS_MALFORMED)).toMatchObject({
      category_number: 29,
      fallback: 'unparseable',
    });
    expect(byPatient(ALWAYS_MALFORMED).raw).toContain('cut off');
    if (finished.ok) {
      expect(finished.value.metrics?.['llm/annotate/cache_hits']).toBe(ITEMS - BLOCKED.size);
      expect(finished.value.metrics?.['annotate/fallback_unparseable']).toBe(1);
    }
    expect(third.reports.at(-1)).toEqual({
      type: 'progress',
      done: ITEMS,
      total: ITEMS,
      unit: 'items',
    });
  });
});
