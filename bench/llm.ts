/**
 * LLM throughput under a provider quota: a local Gemini-protocol server enforces N requests per
 * window (sliding, answering 429 + Retry-After beyond it, as Gemini does), and the annotate stage
 * labels M figures through the real @google/genai client. The window is scaled down from a
 * minute so the bench runs in about half a minute; the client's limiter gets the same window.
 *
 * Figures: requests the server admitted per window while work was waiting (every window but
 * the last), as a share of N; the 429s the server had to send; and the calls a rerun makes
 * (zero: everything comes from the memo).
 *
 *   node bench/llm.ts [N=40] [windowSeconds=10] [M=160]
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAnnotate } from '../stages/annotate/run-annotate.ts';
import { startGeminiServer } from '../tests/llm/gemini-protocol-server.ts';
import { stageContext, syntheticRecords, writeRecords } from '../tests/llm/llm-stage-fixtures.ts';

const N = Number(process.argv[2] ?? 40);
const windowMs = Number(process.argv[3] ?? 10) * 1000;
const M = Number(process.argv[4] ?? 4 * N);
const LATENCY_MS = 30;

const work = await mkdtemp(join(tmpdir(), 'dermatune-bench-llm-'));
const admitted: number[] = [];
const admittedLog: number[] = [];
let rejected = 0;
const server = await startGeminiServer(() => {
  const now = Date.now();
  while (admitted.length > 0 && (admitted[0] as number) <= now - windowMs) admitted.shift();
  if (admitted.length >= N) {
    rejected++;
    const retryAfter = ((admitted[0] as number) + windowMs - now) / 1000;
    return { kind: 'rate-limit', retryAfterSeconds: Math.ceil(retryAfter * 10) / 10 };
  }
  admitted.push(now);
  admittedLog.push(now);
  return {
    kind: 'answer',
    text: JSON.stringify({
      category_number: 21,
      category_name: 'Bacterial Infections',
      reasoning: 'bench',
    }),
    // A real provider takes a while to answer; the limiter must not waste the quota meanwhile.
    delayMs: LATENCY_MS,
  };
});

try {
  const recordsDir = await writeRecords(join(work, 'curate'), syntheticRecords(M));
  const params = {
    llm: {
      provider: 'gemini',
      model: 'gemini-bench',
      base_url: server.url,
      rate_limit: { requests_per_minute: N, concurrency: 8 },
      max_attempts: 6,
    },
  };
  const options = { env: { GEMINI_API_KEY: 'bench-key' }, rateWindowMs: windowMs };
  const memoRoot = join(work, 'memo');

  const first = await stageContext({
    params,
    inputs: { records: recordsDir },
    memoRoot,
    workDir: work,
  });
  const started = Date.now();
  const result = await runAnnotate(first.ctx, options);
  const elapsedMs = Date.now() - started;
  if (!result.ok) throw new Error(`${result.error.reason}: ${result.error.message}`);
  const times = server.seen.map((r) => r.at);
  // Requests the server admitted in consecutive windows from the first request on. Every window
  // before the last one had work waiting, so each should carry the whole quota; the last one
  // holds whatever was left over and says nothing about the pace.
  const perWindow: number[] = [];
  for (const at of admittedLog) {
    const index = Math.floor((at - (times[0] as number)) / windowMs);
    perWindow[index] = (perWindow[index] ?? 0) + 1;
  }
  const fullWindows = perWindow.slice(0, -1).map((count) => count ?? 0);
  const meanFull = fullWindows.reduce((a, b) => a + b, 0) / Math.max(1, fullWindows.length);

  const hitsBeforeRerun = server.seen.length;
  const second = await stageContext({
    params,
    inputs: { records: recordsDir },
    memoRoot,
    workDir: work,
  });
  const rerunStarted = Date.now();
  const rerun = await runAnnotate(second.ctx, options);
  const rerunMs = Date.now() - rerunStarted;
  if (!rerun.ok) throw new Error(rerun.error.message);

  const figures = {
    quota: { requests: N, window_s: windowMs / 1000 },
    items: M,
    latency_ms: LATENCY_MS,
    first_run: {
      elapsed_s: elapsedMs / 1000,
      ideal_elapsed_s: (Math.ceil(M / N) - 1) * (windowMs / 1000),
      requests: times.length,
      rejected_429: rejected,
      admitted_per_window: perWindow,
      share_of_quota: Number((meanFull / N).toFixed(4)),
    },
    rerun: {
      calls: server.seen.length - hitsBeforeRerun,
      elapsed_s: rerunMs / 1000,
      metrics: rerun.value.metrics,
    },
  };
  console.log(JSON.stringify(figures, null, 2));
  await mkdir('bench/out', { recursive: true });
  await writeFile('bench/out/llm.json', `${JSON.stringify(figures, null, 2)}\n`);
  const pass = figures.first_run.share_of_quota >= 0.95 && figures.rerun.calls === 0;
  console.log(pass ? 'PASS: >= 95% of the quota, rerun made no call' : 'FAIL');
  process.exitCode = pass ? 0 : 1;
} finally {
  await server.close();
  await rm(work, { recursive: true, force: true });
}
