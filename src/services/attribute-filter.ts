import type { ComparisonFilter, CompoundFilter } from '../spec/wire.js';
import type { FileAttributes } from './vector-store-files.js';

// The generated types lose the operator enums of both filters; these restore them.
type Comparison = { type: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'nin'; key: string; value: ComparisonFilter['value'] };
type Compound = { type: 'and' | 'or'; filters: AttributeFilter[] };
export type AttributeFilter = Comparison | Compound;

/** The request's `filters` with their operators typed (the schema has already checked them). */
export function attributeFilter(filters: ComparisonFilter | CompoundFilter): AttributeFilter {
  return filters as unknown as AttributeFilter;
}

function compare(actual: string | number | boolean | undefined, { type, value }: Comparison): boolean {
  switch (type) {
    case 'eq':
      return actual === value;
    case 'ne':
      return actual !== value;
    case 'in':
      return Array.isArray(value) && actual !== undefined && typeof actual !== 'boolean' && value.includes(actual);
    case 'nin':
      return !(Array.isArray(value) && actual !== undefined && typeof actual !== 'boolean' && value.includes(actual));
  }
  // Ordering compares numbers with numbers and strings with strings; anything else never matches.
  if (actual === undefined || typeof actual === 'boolean' || typeof actual !== typeof value) return false;
  const [a, b] = [actual, value as typeof actual];
  if (type === 'gt') return a > b;
  if (type === 'gte') return a >= b;
  if (type === 'lt') return a < b;
  return a <= b;
}

/** Whether a vector store file's attributes satisfy a search filter. */
export function matchesFilter(attributes: FileAttributes, filter: AttributeFilter): boolean {
  if ('filters' in filter) {
    const matches = (inner: AttributeFilter) => matchesFilter(attributes, inner);
    return filter.type === 'and' ? filter.filters.every(matches) : filter.filters.some(matches);
  }
  return compare(attributes[filter.key], filter);
}
