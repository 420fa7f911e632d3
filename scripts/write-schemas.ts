// Writes schemas/spec.schema.json, the composed spec schema that editors use through
// `# yaml-language-server: $schema=../schemas/spec.schema.json`. A test keeps it current.
import { writeFileSync } from 'node:fs';
import { renderSpecSchema, SPEC_SCHEMA_PATH } from '../stages/spec-schema-file.ts';

writeFileSync(SPEC_SCHEMA_PATH, renderSpecSchema());
console.log(`wrote ${SPEC_SCHEMA_PATH}`);
