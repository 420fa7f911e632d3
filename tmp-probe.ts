import { readFileSync } from 'node:fs';
import { qaRequest } from './stages/generate-qa/qa-prompt.ts';
import { qaItems } from './stages/generate-qa/run-generate-qa.ts';
import { localProvider } from './stages/llm/local-provider.ts';
const [sel, n] = process.argv.slice(2);
const records = readFileSync(sel, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const items = qaItems(records, 4, 42).slice(0, Number(n));
const provider = localProvider({ modelPath: '.dermatune/models/SmolLM2-135M-Instruct.Q4_1.gguf', threads: 1, parallel: 1 });
for (const { record, question } of items) {
  const r = qaRequest(record, question, 64);
  const o = await provider.attempt(r, { signal: new AbortController().signal, temperature: 0, maxOutputTokens: 64 });
  if (!o.ok) { console.log('FAIL', o.failure.reason, JSON.stringify(o.failure).slice(0, 300)); continue; }
  try { JSON.parse(o.text); } catch { console.log('UNPARSED', o.usage?.outputTokens, JSON.stringify(o.text)); }
}
await provider.close();
