import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, open, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeWorkspace, SWEEP_SPEC } from './cli-harness.ts';

/**
 * Regression tests for the promises the store makes (issue 19), each through the CLI on a temp
 * store. The races live in store-races.test.ts, the fuzz test in spec-fuzz.test.ts.
 */
type Workspace = Awaited<ReturnType<typeof makeWorkspace>>;

async function planned(ws: Workspace, spec: string, extra: string[] = []) {
  const plan = await ws.cli(['plan', spec, '--json', ...extra]);
  expect(plan.code, plan.stderr).toBe(0);
  return JSON.parse(plan.stdout) as {
    nodes: { id: string; key: string; state: string; variants: string[] }[];
  };
}

async function keyOf(ws: Workspace, spec: string, id: string): Promise<string> {
  const node = (await planned(ws, spec)).nodes.find((n) => n.id === id);
  if (!node) throw new Error(`no node ${id}`);
  return node.key;
}

const NODE = join(process.cwd(), 'node_modules', '.bin', 'node');
const CLI = join(process.cwd(), 'tests', 'runner', 'fixtures', 'test-cli.ts');

/**
 * The test CLI as an unprivileged user: permission bits mean nothing to root, and these tests
 * run as root in CI containers. Without root the CLI runs as the current user.
 */
function cliAsUser(args: string[], cwd: string): { code: number | null; output: string } {
  const asRoot = process.getuid?.() === 0;
  const command = asRoot ? 'setpriv' : NODE;
  const argv = asRoot
    ? ['--reuid=65534', '--regid=65534', '--clear-groups', NODE, CLI, ...args]
    : [CLI, ...args];
  const result = spawnSync(command, argv, { cwd, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('defect 5: damaged entries and unusable stores are clear errors, never crashes', () => {
  it('treats a manifest that is null or lacks fields as a corrupt entry: moved aside and redone', async () => {
    const ws = await makeWorkspace();
    const spec = await ws.write('spec.yaml', 'name: single\n');
    expect((await ws.cli(['run', spec])).code).toBe(0);
    const report = await keyOf(ws, spec, 'report');
    const scale = await keyOf(ws, spec, 'scale');
    await writeFile(join(ws.store, 'stages', report, 'manifest.json'), 'null');
    await writeFile(join(ws.store, 'stages', scale, 'manifest.json'), '{"formatVersion":1}');
    const states = (await planned(ws, spec)).nodes.map((n) => [n.id, n.state]);
    expect(states).toEqual([
      ['source', 'cached'],
      ['scale', 'to-run'],
      ['report', 'to-run'],
    ]);
    await ws.resetCalls();
    const rerun = await ws.cli(['run', spec]);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stdout).toMatch(
      /scale: stored output was corrupt \(the manifest lacks required fields\); moved to .*corrupt/,
    );
    expect((await ws.calls()).map((c) => c.split(' ')[0])).toEqual(['scale', 'report']);
    expect(await readdir(join(ws.store, 'corrupt'))).toHaveLength(2);
  });

  it('refuses a --store that is a file instead of reporting an empty store', async () => {
    const ws = await makeWorkspace();
    const spec = await ws.write('spec.yaml', 'name: single\n');
    const file = await ws.write('not-a-store', 'x');
    for (const command of ['plan', 'status', 'run']) {
      const result = await ws.cli([command, spec, '--store', file]);
      expect(result.code, command).toBe(2);
      expect(result.stderr).toBe(`the store ${file} is not a folder; pass --store with a folder\n`);
      expect(result.stdout).not.toMatch(/cached/);
    }
  });

  it('a stage folder it cannot read is moved aside and redone; a read-only store is a clear exit 2', async () => {
    const ws = await makeWorkspace();
    const spec = await ws.write('spec.yaml', 'name: single\n');
    expect((await ws.cli(['run', spec])).code).toBe(0);
    const report = await keyOf(ws, spec, 'report');
    // Everything writable by the unprivileged user, except one stage folder nobody may read.
    spawnSync('chmod', ['-R', 'a+rwX', ws.dir]);
    await chmod(join(ws.store, 'stages', report), 0o000);
    const unreadable = cliAsUser(['run', spec, '--store', ws.store, '--no-tracking'], ws.dir);
    expect(unreadable.output, unreadable.output).toMatch(
      /report: stored output was corrupt \(the manifest cannot be read \(EACCES\)\); moved to/,
    );
    expect(unreadable.code).toBe(0);

    // Now the whole store read-only: even a fully cached run needs its lock, and table-like
    // writers fail; each says what and where, with exit 2 and no stack trace.
    spawnSync('chmod', ['-R', 'a-w', ws.store]);
    const readOnly = cliAsUser(['run', spec, '--store', ws.store], ws.dir);
    expect(readOnly.code).toBe(2);
    expect(readOnly.output).toMatch(
      /^cannot (open|mkdir|link) .*store.*: permission denied \(EACCES\)\n$/,
    );
    const status = cliAsUser(['status', spec, '--store', ws.store], ws.dir);
    expect(status.code).toBe(0);
    expect(status.output).toMatch(/3\/3 stages stored {2}complete/);
    spawnSync('chmod', ['-R', 'u+w', ws.store]);
  });
});

describe('defect 4: content is verified where it matters', () => {
  it('catches a same-size overwrite when a stage reads the input, and dermatune verify finds it', async () => {
    const ws = await makeWorkspace();
    const spec = await ws.write('spec.yaml', 'name: single\ndata:\n  items: 120\n');
    expect((await ws.cli(['run', spec])).code).toBe(0);
    const source = await keyOf(ws, spec, 'source');
    const file = join(ws.store, 'stages', source, 'output', 'items.txt');
    const size = (await readFile(file)).length;
    // Overwrite 40 bytes in the middle, keeping the size: a size check cannot see it.
    const handle = await open(file, 'r+');
    await handle.write(Buffer.alloc(40, '9'), 0, 40, 100);
    await handle.close();
    expect((await readFile(file)).length).toBe(size);
    // A fully cached rerun reads nothing and still runs nothing.
    await ws.resetCalls();
    expect((await ws.cli(['run', spec])).code).toBe(0);
    expect(await ws.calls()).toEqual([]);

    const verify = await ws.cli(['verify', '--dry-run']);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain(
      `damaged: source ${source}: items.txt differs from what was stored (sha256 mismatch)\n`,
    );
    expect(verify.stdout).toContain('3 stored output(s) checked, 1 damaged.');

    // A stage that reads the damaged input refuses to build on it; the input is moved aside.
    const changed = await ws.cli(['run', spec, '--set', 'model.factor=5']);
    expect(changed.code).toBe(1);
    expect(changed.stdout).toMatch(
      /scale.*its stored input source failed verification \(items\.txt differs from what was stored \(sha256 mismatch\)\); moved to .*corrupt/,
    );
    await ws.resetCalls();
    const again = await ws.cli(['run', spec, '--set', 'model.factor=5']);
    expect(again.code, again.stdout).toBe(0);
    expect(
      (await ws.calls()).filter((c) => !c.startsWith('scale-item')).map((c) => c.split(' ')[0]),
    ).toEqual(['source', 'scale', 'report']);
    const clean = await ws.cli(['verify']);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toMatch(/checked, 0 damaged\.\n$/);
  });
});

describe('defect 4: a generation that answers nothing is a failure', () => {
  it('refuses predictions that are all empty, and accepts them when any item was answered', async () => {
    const { checkPredictions } = await import('../../stages/generate/run-generate.ts');
    const ws = await makeWorkspace();
    const row = (id: string, prediction: string) =>
      `${JSON.stringify({ id, prediction, reference: 'Impetigo.' })}\n`;
    await writeFile(join(ws.dir, 'predictions.jsonl'), row('a', '') + row('b', '  \n'));
    expect(await checkPredictions(ws.dir)).toEqual({
      reason: 'worker-error',
      message:
        'every one of the 2 predictions is empty; the model (or its adapter) generates nothing, so nothing is stored',
    });
    await writeFile(join(ws.dir, 'predictions.jsonl'), row('a', '') + row('b', 'Impetigo.'));
    expect(await checkPredictions(ws.dir)).toBeUndefined();
  });
});

describe('defect 3: sweep size is counted before it is expanded', () => {
  it('refuses three axes of 1,000 values at once, naming the count and the flag', async () => {
    const ws = await makeWorkspace();
    const values = `[${Array.from({ length: 1000 }, (_, i) => i + 1).join(', ')}]`;
    const spec = await ws.write(
      'huge.yaml',
      `name: huge\nsweep:\n  data.items: ${values}\n  model.factor: ${values}\n  model.delay_ms: ${values}\n`,
    );
    const result = await ws.cli(['validate', spec]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'the sweep expands to 1000000000 variants (1000 x 1000 x 1000 axis values), more than the limit of 10000; if you mean it, pass --max-variants 1000000000',
    );
    // The 4 KB source line is shown as a window around the span, not whole.
    expect(result.stderr.length).toBeLessThan(1000);
  });

  it('takes a raised limit from --max-variants, and refuses a sweep above the one given', async () => {
    const ws = await makeWorkspace();
    const spec = await ws.write('five.yaml', 'name: five\nsweep:\n  data.items: [1, 2, 3, 4, 5]\n');
    const refused = await ws.cli(['plan', spec, '--max-variants', '4']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      'the sweep expands to 5 variants (5 axis values), more than the limit of 4',
    );
    expect((await ws.cli(['plan', spec, '--max-variants', '5'])).code).toBe(0);
    expect((await ws.cli(['plan', spec, '--max-variants', 'lots'])).stderr).toBe(
      '--max-variants must be a positive integer (got "lots")\n',
    );
  });

  it('caps repeated diagnostics and the source line each one shows', async () => {
    const ws = await makeWorkspace();
    const values = `[${Array.from({ length: 300 }, (_, i) => -(i + 1) * 1000).join(', ')}]`;
    const spec = await ws.write('bad.yaml', `name: bad\nsweep:\n  data.items: ${values}\n`);
    const result = await ws.cli(['validate', spec]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('... and 280 more problem(s) not shown');
    expect(result.stderr).toContain('300 problems in the spec; nothing was run.');
    const lines = result.stderr.split('\n');
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThan(200);
    expect(result.stderr.length).toBeLessThan(20 * 400 + 500);
  });
});

describe('defect 7: --force under --only keeps its meaning', () => {
  it('a variant name forces only its own stages, and stage[variant] is accepted', async () => {
    const ws = await makeWorkspace();
    const spec = await ws.write('spec.yaml', SWEEP_SPEC);
    expect((await ws.cli(['run', spec])).code).toBe(0);
    await ws.resetCalls();
    const forced = await ws.cli(['run', spec, '--only', 'f2', '--force', 'f2']);
    expect(forced.code, forced.stderr).toBe(0);
    // The shared source is not the variant's own: it stays.
    expect((await ws.calls()).map((c) => c.split(' ')[0])).toEqual(['scale', 'report']);
    await ws.resetCalls();
    const byNode = await ws.cli(['run', spec, '--only', 'f3', '--force', 'report[f3]']);
    expect(byNode.code, byNode.stderr).toBe(0);
    expect((await ws.calls()).map((c) => c.split(' ')[0])).toEqual(['report']);
    const outside = await ws.cli(['run', spec, '--only', 'f3', '--force', 'report[f2]']);
    expect(outside.code).toBe(2);
    expect(outside.stderr).toBe(
      '--force report[f2]: none of its stages is in the variants selected with --only\n',
    );
  });
});

describe('defect 8: nothing from data or specs reaches the terminal raw', () => {
  it('shows escape sequences and bidi controls in variant names escaped', async () => {
    const ws = await makeWorkspace();
    const spec = await ws.write(
      'spec.yaml',
      'name: evil\nsweep:\n  include:\n    - name: "x\\e]0;pwned\\a\\e[2J\\u202Egnp.exe"\n',
    );
    for (const argv of [
      ['plan', spec],
      ['run', spec],
      ['status', spec],
    ]) {
      const result = await ws.cli(argv);
      expect(result.code).toBe(0);
      const all = result.stdout + result.stderr;
      for (const raw of ['\u001b', '\u0007', '\u202e']) expect(all).not.toContain(raw);
      if (argv[0] === 'status') expect(all).toContain('x\\x1b]0;pwned\\x07\\x1b[2J\\u202egnp.exe');
    }
  });
});

describe('defect 8: --json output stays JSON when it is made safe', () => {
  it('escapes DEL, C1 and bidi controls as JSON escapes, so the names parse back unchanged', async () => {
    const ws = await makeWorkspace();
    const name = 'v\u007f\u0085\u202eZ';
    const spec = await ws.write(
      'spec.yaml',
      `name: evil\nsweep:\n  include:\n    - name: ${JSON.stringify(name)}\n`,
    );
    const plan = await ws.cli(['plan', spec, '--json']);
    expect(plan.code).toBe(0);
    for (const raw of ['\u007f', '\u0085', '\u202e']) expect(plan.stdout).not.toContain(raw);
    expect((JSON.parse(plan.stdout) as { variants: string[] }).variants).toContain(name);
  });
});

describe('defect 9: credentials in MLFLOW_TRACKING_URI', () => {
  it('moves the user info into an Authorization header and never prints it', async () => {
    const seen: (string | undefined)[] = [];
    const server = createServer((request, response) => {
      seen.push(request.headers.authorization);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const ws = await makeWorkspace();
      const { resolveTrackingTarget } = await import('../../runner/tracking/tracking-target.ts');
      const { MlflowClient } = await import('../../runner/tracking/mlflow-client.ts');
      const uri = `http://alice:s3cr%40t@127.0.0.1:${port}/`;
      const target = resolveTrackingTarget(ws.store, { MLFLOW_TRACKING_URI: uri });
      if (!target.ok || target.value.kind !== 'remote') throw new Error('no remote target');
      expect(target.value.url).toBe(`http://127.0.0.1:${port}`);
      const client = new MlflowClient({
        url: target.value.url,
        ...(target.value.auth ? { auth: target.value.auth } : {}),
      });
      expect(await client.health()).toBe(true);
      expect(seen).toEqual([`Basic ${Buffer.from('alice:s3cr@t').toString('base64')}`]);

      const { runCapturedCli } = await import('../cli-capture.ts');
      const { testPipeline } = await import('./test-pipeline.ts');
      const sync = await runCapturedCli(['sync', '--store', ws.store], {
        pipeline: testPipeline,
        cwd: ws.dir,
        env: { MLFLOW_TRACKING_URI: uri },
      });
      expect(sync.code, sync.stderr).toBe(0);
      expect(sync.stdout + sync.stderr).not.toMatch(/alice|s3cr/);
      const bad = await runCapturedCli(['sync', '--store', ws.store], {
        pipeline: testPipeline,
        cwd: ws.dir,
        env: { MLFLOW_TRACKING_URI: 'ftp://bob:hunter2@host/' },
      });
      expect(bad.code).toBe(2);
      expect(bad.stderr).not.toMatch(/bob|hunter2/);
    } finally {
      server.close();
    }
  });
});

describe('defect 10: status does not trust a stale lock', () => {
  it('says the lock of a dead process is stale instead of "a run is in progress"', async () => {
    const ws = await makeWorkspace();
    const spec = await ws.write('spec.yaml', 'name: single\n');
    await mkdir(ws.store, { recursive: true });
    const dead = 2 ** 22 + 17;
    await writeFile(
      join(ws.store, 'store.lock'),
      JSON.stringify({
        pid: dead,
        host: hostname(),
        command: 'dermatune run x',
        since: 'then',
        token: 't',
      }),
    );
    const status = await ws.cli(['status', spec]);
    expect(status.code).toBe(0);
    expect(status.stdout).not.toContain('A run is in progress');
    expect(status.stdout).toContain(
      `the lock left by pid ${dead} (dermatune run x, since then) is stale`,
    );
    const json = JSON.parse((await ws.cli(['status', spec, '--json'])).stdout);
    expect(json).toMatchObject({ running: null, lock: 'stale' });
    expect((await ws.cli(['run', spec])).code).toBe(0);
    expect(existsSync(join(ws.store, 'store.lock'))).toBe(false);
  });
});

describe('defect 13: small leftovers and messages', () => {
  it('gc reclaims a half-deleted *.gc.* folder left in staging', async () => {
    const ws = await makeWorkspace();
    const spec = await ws.write('spec.yaml', 'name: single\n');
    expect((await ws.cli(['run', spec])).code).toBe(0);
    const leftover = join(ws.store, 'staging', `${'a'.repeat(64)}.gc.0badf00d`);
    await mkdir(join(leftover, 'output'), { recursive: true });
    await writeFile(join(leftover, 'output', 'half.bin'), 'x');
    const gc = await ws.cli(['gc']);
    expect(gc.code).toBe(0);
    expect(gc.stdout).toBe(
      'removed 0 unreferenced stage output(s); kept 3. Cleared 1 folder(s) left in staging.\n',
    );
    expect(existsSync(leftover)).toBe(false);
  });

  it("table removes the temp files a killed table left, and leaves a running one's alone", async () => {
    const { writeSweepReport } = await import('../../stages/report/write-report.ts');
    const { buildTable1 } = await import('../../stages/report/table-1.ts');
    const ws = await makeWorkspace();
    const dir = join(ws.dir, 'report');
    await mkdir(dir);
    const dead = join(dir, `.table.json.${2 ** 22 + 17}.tmp`);
    const legacy = join(dir, '.table.md.tmp');
    const running = join(dir, `.table.csv.${process.ppid}.tmp`);
    for (const file of [dead, legacy, running]) await writeFile(file, 'half');
    const written = await writeSweepReport(buildTable1('empty', []), {
      dir,
      sweepId: 'x',
      sources: new Map(),
    });
    expect(written.files).toContain('table.json');
    expect([existsSync(dead), existsSync(legacy), existsSync(running)]).toEqual([
      false,
      false,
      true,
    ]);
    expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([
      `.table.csv.${process.ppid}.tmp`,
    ]);
  });

  it('reports 1e400 as a number too large instead of "got null"', async () => {
    const ws = await makeWorkspace();
    const spec = await ws.write('spec.yaml', 'name: big\ndata:\n  items: 1e400\n');
    const result = await ws.cli(['validate', spec]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'data.items must be an integer (got Infinity, a number too large to represent)',
    );
  });

  it('does not suggest the name template already in use when names clash', async () => {
    const ws = await makeWorkspace();
    const spec = await ws.write(
      'spec.yaml',
      'name: clash\nsweep:\n  name: "f{model.factor}"\n  model.factor: [2, 2]\n',
    );
    const result = await ws.cli(['validate', spec]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'variant names clash ("f2"): every axis is already in the name template',
    );
    expect(result.stderr).not.toContain('e.g. sweep.name: "{model.factor}"');
  });
});

describe('defect 6: only regular files are read, and only after their size is checked', () => {
  it('refuses to extend a FIFO or /dev/zero instead of hanging or reading without end', async () => {
    const ws = await makeWorkspace();
    const fifo = join(ws.dir, 'base.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const viaFifo = await ws.write('fifo.yaml', 'extends: base.fifo\nname: x\n');
    const fromFifo = await ws.cli(['validate', viaFifo]);
    expect(fromFifo.code).toBe(2);
    expect(fromFifo.stderr).toContain('base.fifo: it is a FIFO, not a regular file');
    const viaZero = await ws.write('zero.yaml', 'extends: /dev/zero\nname: x\n');
    const fromZero = await ws.cli(['validate', viaZero]);
    expect(fromZero.code).toBe(2);
    expect(fromZero.stderr).toContain('/dev/zero: it is a device, not a regular file');
    const fromSpec = await ws.cli(['validate', fifo]);
    expect(fromSpec.code).toBe(2);
    // A local shard path that is a FIFO or a device: plan answers, run refuses before anything.
    const { studyPipeline } = await import('../../stages/pipeline.ts');
    const demo = join(process.cwd(), 'experiments', 'demo.yaml');
    for (const path of [fifo, '/dev/zero']) {
      const source = `data.source={type: local, paths: [${path}]}`;
      const plan = await ws.cli(['plan', demo, '--set', source], studyPipeline);
      expect(plan.code, plan.stderr).toBe(0);
      const run = await ws.cli(['run', demo, '--set', source, '--no-tracking'], studyPipeline);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(
        `data.source.paths: data local shards: ${path} is not a regular file or a folder (${path === fifo ? 'a FIFO' : 'a device'}); shards are .tar files`,
      );
      expect(run.stderr).toContain('nothing was run.');
    }
    // The child keeps a FIFO writer from blocking the test if the code regresses.
    spawn('sh', ['-c', `exec 3>${fifo}; sleep 0.1`]).unref();
  }, 60_000);
});
