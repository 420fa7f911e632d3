import type { PreflightCheck } from '../../runner/preflight-check.ts';
import type { StagePreflightIssue } from '../../runner/stage-kind.ts';

/** The kinds' preflight hooks still speak StagePreflightIssue: a failed check becomes one. */
export function failedChecksAsIssues(checks: readonly PreflightCheck[]): StagePreflightIssue[] {
  return checks
    .filter((check) => check.outcome === 'failed')
    .map((check) => ({ path: check.setting, message: `${check.subject}: ${check.detail}` }));
}
