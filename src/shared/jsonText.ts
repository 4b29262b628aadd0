/** JSON for answers and --json output: ids of quarantined payloads are bigints. */
export function jsonText(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_key, item) => (typeof item === 'bigint' ? item.toString() : item), indent);
}
