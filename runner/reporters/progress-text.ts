import type { ProgressEstimate } from './progress-estimate.ts';

/**
 * How a stage's progress reads, in the terminal and in CI logs alike:
 * `12/48 items, 2.3 s/item, about 1 min 23 s left`.
 */
export function progressText(estimate: ProgressEstimate): string {
  const { many } = unitNames(estimate.unit);
  const count = `${estimate.done}/${estimate.total}${many ? ` ${many}` : ''}`;
  const parts = [estimate.note ? `${count} (${estimate.note})` : count];
  if (estimate.perSecond !== undefined) parts.push(paceText(estimate.perSecond, estimate.unit));
  if (estimate.leftMs !== undefined) parts.push(`about ${durationText(estimate.leftMs)} left`);
  return parts.join(', ');
}

/**
 * Items per second, or seconds per item below one a second: "8.6 s/item" reads at a glance
 * where "0.12 items/s" needs a division, and the local LLM's items take seconds each. Two
 * significant digits: the pace is an estimate over a window, and moves with the machine's load.
 */
export function paceText(perSecond: number, unit: string | undefined): string {
  const { one, many } = unitNames(unit);
  if (perSecond >= 1) return `${significant(perSecond)} ${many || 'units'}/s`;
  return `${significant(1 / perSecond)} s/${one || 'unit'}`;
}

/** `45 s`, `1 min 05 s`, `2 h 03 min`: whole units, as a person says a wait. */
export function durationText(ms: number): string {
  // Rounded up: a wait of 0.4 s is "1 s", never "0 s" while work remains.
  const total = Math.max(0, Math.ceil(ms / 1000));
  if (total < 60) return `${total} s`;
  if (total < 3600) return `${Math.floor(total / 60)} min ${pad(total % 60)} s`;
  const minutes = Math.round(total / 60);
  return `${Math.floor(minutes / 60)} h ${pad(minutes % 60)} min`;
}

/** A finished stage's duration, as the done lines have always given it (`820 ms`, `12.3 s`). */
export function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * A unit's singular and plural. Stages name it either way (the LLM stages count `items`, the
 * worker `step` and `item`); every unit they use takes a plain `s`.
 */
function unitNames(unit: string | undefined): { one: string; many: string } {
  if (!unit) return { one: '', many: '' };
  return unit.endsWith('s')
    ? { one: unit.slice(0, -1), many: unit }
    : { one: unit, many: `${unit}s` };
}

function significant(value: number): string {
  return value >= 10 ? value.toFixed(0) : value.toPrecision(2);
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}
