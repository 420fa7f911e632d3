import { describe, expect, it } from 'vitest';
import { startFailureReason } from '../../runner/tracking/mlflow-server.ts';

describe("why the embedded server's start failed, read from its log", () => {
  it("takes a traceback's exception line even when SQLAlchemy writes lines after it", () => {
    const lines = [
      '2026/12/01 22:01:18 INFO mlflow.store.db.utils: Creating initial MLflow database tables...',
      'Traceback (most recent call last):',
      'File "/venv/lib/python3.11/site-packages/sqlalchemy/engine/default.py", line 1192, in do_execute',
      'sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) table secrets already exists',
      '[SQL:',
      'CREATE TABLE secrets (',
      ')',
      ']',
      '(Background on this error at: https://sqlalche.me/e/21/e3q8)',
    ];
    expect(startFailureReason(lines)).toBe(
      'sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) table secrets already exists',
    );
  });

  it("takes uvicorn's error line when the server shut down cleanly after it", () => {
    const lines = [
      'INFO:     Waiting for application startup.',
      "ERROR:    [Errno 98] error while attempting to bind on address ('127.0.0.1', 45123): address already in use",
      'INFO:     Waiting for application shutdown.',
      'INFO:     Application shutdown complete.',
    ];
    expect(startFailureReason(lines)).toMatch(/^ERROR: +\[Errno 98\].*address already in use$/);
  });

  it('falls back to the last line, and to nothing for an empty log', () => {
    expect(startFailureReason(['starting', 'Killed'])).toBe('Killed');
    expect(startFailureReason([])).toBeUndefined();
  });
});
