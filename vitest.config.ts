import { defineConfig } from 'vitest/config';

/**
 * Two layers, sorted by file name, never by a hand list. `unit` (`*.unit.test.ts`): pure logic
 * tested with literal inputs and temporary files, no Python, no servers, no network, no set-up
 * (`npx vitest run --project unit` runs in seconds on a fresh clone once npm packages are in).
 * `integration` (every other `*.test.ts`): everything that drives the real parts (the Python
 * worker, MLflow, Ray, local models, local protocol servers), after the global set-up that
 * installs them. `npm test` runs both. A unit suite that reaches for set-up fails in the unit
 * layer, where the set-up never ran: that is the check that a suite is named for what it is.
 */
const UNIT_TESTS = 'tests/**/*.unit.test.ts';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: [UNIT_TESTS],
          // A ceiling against hangs, not a speed check: under `npm test` a unit suite may share
          // the two cores with the integration tests' servers and trainings.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['tests/**/*.test.ts'],
          exclude: [UNIT_TESTS],
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
