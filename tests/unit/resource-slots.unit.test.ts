import { describe, expect, it } from 'vitest';
import { ResourceSlots } from '../../runner/resource-slots.ts';

const local = (resources: { cpu?: number; gpu?: number; llm?: string }) =>
  ({ remote: false, resources }) as const;

describe('resource slots', () => {
  it('runs as many one-CPU stages at once as --jobs allows, and frees a slot on give', () => {
    const slots = new ResourceSlots({ jobs: 2, gpuSlots: 0, llmConcurrency: 1, remoteSlots: 0 });
    expect(slots.take(local({}))).toBe(true);
    expect(slots.take(local({ cpu: 1 }))).toBe(true);
    expect(slots.take(local({}))).toBe(false);
    slots.give(local({}));
    expect(slots.take(local({}))).toBe(true);
  });

  it('lets a stage that asks for more CPUs than the machine has run alone instead of never', () => {
    const slots = new ResourceSlots({ jobs: 2, gpuSlots: 0, llmConcurrency: 1, remoteSlots: 0 });
    expect(slots.take(local({ cpu: 8 }))).toBe(true);
    expect(slots.take(local({ cpu: 1 }))).toBe(false);
    slots.give(local({ cpu: 8 }));
    expect(slots.take(local({ cpu: 1 }))).toBe(true);
    expect(slots.take(local({ cpu: 1 }))).toBe(true);
  });

  it('takes nothing when one resource is short, so a refused stage leaks no slot', () => {
    const slots = new ResourceSlots({ jobs: 2, gpuSlots: 0, llmConcurrency: 1, remoteSlots: 0 });
    expect(slots.take(local({ gpu: 1 }))).toBe(false);
    expect(slots.take(local({}))).toBe(true);
    expect(slots.take(local({}))).toBe(true);
  });

  it('counts LLM concurrency per provider', () => {
    const slots = new ResourceSlots({ jobs: 4, gpuSlots: 0, llmConcurrency: 1, remoteSlots: 0 });
    expect(slots.take(local({ llm: 'gemini' }))).toBe(true);
    expect(slots.take(local({ llm: 'gemini' }))).toBe(false);
    expect(slots.take(local({ llm: 'local' }))).toBe(true);
    slots.give(local({ llm: 'gemini' }));
    expect(slots.take(local({ llm: 'gemini' }))).toBe(true);
  });

  it("gives a remote stage a cluster slot and none of this machine's", () => {
    const slots = new ResourceSlots({ jobs: 1, gpuSlots: 0, llmConcurrency: 1, remoteSlots: 2 });
    expect(slots.take({ remote: true })).toBe(true);
    expect(slots.take({ remote: true })).toBe(true);
    expect(slots.take({ remote: true })).toBe(false);
    expect(slots.take(local({}))).toBe(true);
    slots.give({ remote: true });
    expect(slots.take({ remote: true })).toBe(true);
  });
});
