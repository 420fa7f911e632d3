import type { MlflowParam } from './mlflow-types.ts';

/**
 * A nested spec as MLflow params with dotted keys (`train.lora.rank`), so runs compare column by
 * column in the UI. Lists stay whole as JSON (`data.categories: ["Bacterial Infections"]`):
 * their meaning is the list, not its positions.
 */
export function flattenParams(value: Record<string, unknown>, prefix = ''): MlflowParam[] {
  const params: MlflowParam[] = [];
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined) continue;
    const path = prefix ? `${prefix}.${key}` : key;
    if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
      params.push(...flattenParams(item as Record<string, unknown>, path));
    } else {
      params.push({ key: path, value: paramText(item) });
    }
  }
  return params;
}

export function paramText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
