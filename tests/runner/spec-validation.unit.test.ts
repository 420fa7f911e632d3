import { describe, expect, it } from 'vitest';
import { makeWorkspace } from './cli-harness.ts';

/** Validation messages are part of the user interface: their exact text is pinned here. */
describe('dermatune validate', () => {
  it('reports every problem at once with file:line:col and the span underlined', async () => {
    const ws = await makeWorkspace();
    const spec = await ws.write(
      'bad.yaml',
      [
        'name: bad',
        'data:',
        '  itmes: 3',
        'model:',
        '  factor: two',
        'eval:',
        '  fail: maybe',
        '',
      ].join('\n'),
    );
    const result = await ws.cli(['validate', spec]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      [
        'bad.yaml:3:3: unknown key "itmes" in data; did you mean "items"?',
        ' 3 |   itmes: 3',
        '   |   ^^^^^',
        '',
        'bad.yaml:5:11: model.factor must be a number (got "two")',
        ' 5 |   factor: two',
        '   |           ^^^',
        '',
        'bad.yaml:7:9: eval.fail must be a boolean (got "maybe")',
        ' 7 |   fail: maybe',
        '   |         ^^^^^',
        '',
        '3 problems in the spec; nothing was run.',
        '',
      ].join('\n'),
    );
  });

  it('names the allowed range and the override an error came from', async () => {
    const ws = await makeWorkspace();
    const spec = await ws.write('ok.yaml', 'name: ok\ndata:\n  items: 3\n');
    const result = await ws.cli(['validate', spec, '--set', 'data.items=5000']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'error: data.items must be <= 1000 (got 5000) (from the override --set data.items=5000)\n\n1 problem in the spec; nothing was run.\n',
    );
    const unknown = await ws.cli(['validate', spec, '--set', 'data.itemz=5']);
    expect(unknown.stderr).toContain(
      '--set data.itemz=5: "data.itemz" is not a setting of the spec',
    );
  });

  it('names the variant whose axis value is wrong, once for all the variants it breaks', async () => {
    const ws = await makeWorkspace();
    const spec = await ws.write(
      'sweep.yaml',
      'name: s\nsweep:\n  name: "{model.factor}-{data.items}"\n  model.factor: [2, x]\n  data.items: [1, 2]\n',
    );
    const result = await ws.cli(['validate', spec]);
    expect(result.stderr).toBe(
      [
        'sweep.yaml:4:21: model.factor must be a number (got "x") (in variants x-1, x-2)',
        ' 4 |   model.factor: [2, x]',
        '   |                     ^',
        '',
        '1 problem in the spec; nothing was run.',
        '',
      ].join('\n'),
    );
  });

  it('points into the extended file, and reports extends cycles and missing files with the chain', async () => {
    const ws = await makeWorkspace();
    await ws.write('base.yaml', 'data:\n  items: 0\n');
    const child = await ws.write('child.yaml', 'extends: base.yaml\nname: child\n');
    const result = await ws.cli(['validate', child]);
    expect(result.stderr).toContain(
      'base.yaml:2:10: data.items must be >= 1 (got 0) (in base.yaml, extended by child.yaml)',
    );

    await ws.write('a.yaml', 'extends: b.yaml\nname: a\n');
    await ws.write('b.yaml', 'extends: a.yaml\n');
    const cycle = await ws.cli(['validate', `${ws.dir}/a.yaml`]);
    expect(cycle.code).toBe(2);
    expect(cycle.stderr).toContain('extends cycle: a.yaml -> b.yaml -> a.yaml');

    const missing = await ws.write('m.yaml', 'extends: [base.yaml, nowhere.yaml]\nname: m\n');
    const gone = await ws.cli(['validate', missing]);
    expect(gone.stderr).toMatch(
      /m\.yaml:1:22: .*nowhere\.yaml: no such file \(extended by .*m\.yaml\)/,
    );
  });

  it('refuses duplicate keys, custom tags, alias bombs and huge files', async () => {
    const ws = await makeWorkspace();
    const dup = await ws.cli(['validate', await ws.write('dup.yaml', 'name: a\nname: b\n')]);
    expect(dup.stderr).toContain(
      'dup.yaml:2:1: duplicate key: each key may appear once in a mapping',
    );
    const tag = await ws.cli(['validate', await ws.write('tag.yaml', 'name: !!js/function x\n')]);
    expect(tag.stderr).toContain('tag.yaml:1:7: custom YAML tags are not allowed');
    const laughs = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (const [i, n] of ['b', 'c', 'd', 'e', 'f', 'g'].entries()) {
      const prev = ['a', 'b', 'c', 'd', 'e', 'f'][i];
      laughs.push(`${n}: &${n} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    }
    // 9^6 expansions if followed; the limit refuses after 100, so the work is bounded.
    const bomb = await ws.cli(['validate', await ws.write('bomb.yaml', `${laughs.join('\n')}\n`)]);
    expect(bomb.stderr).toContain('too many alias expansions (more than 100)');
    const huge = await ws.cli([
      'validate',
      await ws.write('huge.yaml', `name: x\n#${'x'.repeat(1_100_000)}\n`),
    ]);
    expect(huge.stderr).toContain('specs are limited to 1048576 bytes');
    for (const r of [dup, tag, bomb, huge]) {
      expect(r.code).toBe(2);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('treats usage mistakes as exit 2 without a stack trace', async () => {
    const ws = await makeWorkspace();
    const unknownFlag = await ws.cli(['plan', 'x.yaml', '--bogus']);
    expect(unknownFlag.code).toBe(2);
    expect(unknownFlag.stderr).toContain("Unknown option '--bogus'");
    const unknownCommand = await ws.cli(['paln']);
    expect(unknownCommand.stderr).toBe(
      'unknown command "paln"; did you mean "plan"? (dermatune --help lists them)\n',
    );
    const noSpec = await ws.cli(['validate', 'nothing-here.yaml']);
    expect(noSpec.code).toBe(2);
    expect(noSpec.stderr).toContain('nothing-here.yaml: no such file');
    const only = await ws.cli([
      'plan',
      await ws.write('s.yaml', 'name: s\nsweep:\n  model.factor: [2, 3]\n'),
      '--only',
      '4',
    ]);
    expect(only.stderr).toContain('--only 4: no such variant; did you mean "2"? (variants: 2, 3)');
  });
});
