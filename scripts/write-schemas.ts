// Writes the generated schemas: schemas/spec.schema.json, the composed spec schema that editors
// use through `# yaml-language-server: $schema=../schemas/spec.schema.json`, and the worker's
// job contract (its JSON Schema and TypeScript types, stages/model-worker/job-schema.ts).
// Tests keep them current.
import { writeFileSync } from 'node:fs';
import { renderJobContractFiles } from '../stages/model-worker/job-schema-files.ts';
import { renderSpecSchema, SPEC_SCHEMA_PATH } from '../stages/spec-schema-file.ts';

const files = [
  { path: SPEC_SCHEMA_PATH, text: renderSpecSchema() },
  ...(await renderJobContractFiles()),
];
for (const { path, text } of files) {
  writeFileSync(path, text);
  console.log(`wrote ${path}`);
}
