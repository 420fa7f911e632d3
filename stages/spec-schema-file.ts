import { join } from 'node:path';
import { projectRoot } from '../runner/project-root.ts';
import { specSchemaFor } from '../runner/sweep-plan.ts';
import { studyPipeline } from './pipeline.ts';

export const SPEC_SCHEMA_PATH = join(projectRoot(), 'schemas', 'spec.schema.json');

/** The published schema: the study pipeline's composed spec schema, stably formatted. */
export function renderSpecSchema(): string {
  return `${JSON.stringify(specSchemaFor(studyPipeline), null, 2)}\n`;
}
