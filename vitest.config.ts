import { defineConfig } from 'vitest/config';

/**
 * Two layers. `unit`: pure logic tested with literal inputs, no Python, no servers, no network,
 * no set-up (`npx vitest --project unit` runs in seconds on a fresh clone once npm packages are
 * in). `integration`: everything that drives the real parts (the Python worker, MLflow, Ray,
 * local models, local protocol servers). `npm test` runs both.
 */
const unitTests = [
  'tests/unit/**/*.test.ts',
  'tests/data/clean-qa.test.ts',
  'tests/data/keyword-labeller.test.ts',
  'tests/evaluate/answer-quality.test.ts',
  'tests/evaluate/bleu-rouge-examples.test.ts',
  'tests/evaluate/parity.test.ts',
  'tests/evaluate/semantic-accuracy.test.ts',
  'tests/llm/rate-limiter.test.ts',
  'tests/report/table-model.test.ts',
  'tests/runner/stage-key.test.ts',
  'tests/runner/spec-validation.test.ts',
  'tests/tracking/mlflow-limits.test.ts',
];

export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: unitTests } },
      {
        test: {
          name: 'integration',
          include: ['tests/**/*.test.ts'],
          exclude: unitTests,
          globalSetup: ['tests/global-setup.ts'],
          // Integration tests start real servers and Python processes; the machine has 2 cores.
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
    ],
    pool: 'forks',
    maxWorkers: 2,
  },
});
