/**
 * The modules of one package that a Python source file imports, read from its import
 * statements, wherever they stand (a function's lazy import counts: the job may run it).
 *
 * Written here rather than taken from a library because keys are computed by `plan` and
 * `validate` without Python (the venv may not exist yet), and no npm package parses Python
 * imports on its own; a full Python parser (tree-sitter's grammar, a native or wasm build) is
 * a large dependency for five statement forms. Strings and comments are blanked first, so a
 * docstring that shows an import is not one; a dynamic import (`importlib.import_module`) is
 * not seen, which is why the worker names its job entry points in the job contract.
 */
export function pythonImports(source: string, packageName: string): string[] {
  const found = new Set<string>();
  for (const statement of statements(blankStringsAndComments(source))) {
    const from = /^from\s+(\.*)([\w.]*)\s+import\s+\(?([\w\s,.*]+?)\)?$/.exec(statement);
    if (from) {
      const [, dots = '', module = '', names = ''] = from;
      const inPackage =
        dots === '.' ? module : dots === '' ? withinPackage(module, packageName) : undefined;
      if (inPackage === undefined) continue;
      if (inPackage !== '') found.add(inPackage.replaceAll('.', '/'));
      else for (const name of importedNames(names)) found.add(name);
      continue;
    }
    const plain = /^import\s+(.+)$/.exec(statement);
    if (plain) {
      for (const name of importedNames(plain[1] ?? '')) {
        const inPackage = withinPackage(name, packageName);
        if (inPackage) found.add(inPackage.replaceAll('.', '/'));
      }
    }
  }
  return [...found].sort();
}

/** `dermatune_worker.train` -> `train`; `dermatune_worker` -> ''; another package -> undefined. */
function withinPackage(module: string, packageName: string): string | undefined {
  if (module === packageName) return '';
  return module.startsWith(`${packageName}.`) ? module.slice(packageName.length + 1) : undefined;
}

/** `a as b, c` -> [a, c]; a star import names no module. */
function importedNames(list: string): string[] {
  return list
    .split(',')
    .map(
      (part) =>
        part
          .trim()
          .split(/\s+as\s+/)[0]
          ?.trim() ?? '',
    )
    .filter((name) => name !== '' && name !== '*');
}

/** Logical statements: bracketed and backslash-continued lines joined, `;` split. */
function statements(code: string): string[] {
  const out: string[] = [];
  let current = '';
  let depth = 0;
  for (let i = 0; i < code.length; i++) {
    const char = code[i] as string;
    if (char === '\\' && code[i + 1] === '\n') {
      current += ' ';
      i++;
      continue;
    }
    if ('([{'.includes(char)) depth++;
    if (')]}'.includes(char)) depth = Math.max(0, depth - 1);
    if ((char === '\n' && depth === 0) || char === ';') {
      out.push(current.replace(/\s+/g, ' ').trim());
      current = '';
      continue;
    }
    current += char;
  }
  out.push(current.replace(/\s+/g, ' ').trim());
  return out.filter(Boolean);
}

/** Every string literal becomes `""` (its line breaks kept) and every comment is removed. */
function blankStringsAndComments(source: string): string {
  let out = '';
  let i = 0;
  while (i < source.length) {
    const char = source[i] as string;
    if (char === '#') {
      while (i < source.length && source[i] !== '\n') i++;
      continue;
    }
    if (char !== '"' && char !== "'") {
      out += char;
      i++;
      continue;
    }
    const quote = source.startsWith(char.repeat(3), i) ? char.repeat(3) : char;
    i += quote.length;
    let breaks = '';
    while (i < source.length && !source.startsWith(quote, i)) {
      if (source[i] === '\\') i++;
      else if (source[i] === '\n') {
        breaks += '\n';
        // An unterminated one-quote string ends at the line (a syntax error Python reports).
        if (quote.length === 1) break;
      }
      i++;
    }
    i += quote.length;
    out += `""${breaks}`;
  }
  return out;
}
