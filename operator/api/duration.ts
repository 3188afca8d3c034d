/**
 * Parses a duration of the CRD's form (`^([0-9]+(ms|s|m|h))+$`, e.g. `30s`, `1m30s`, `500ms`) into
 * milliseconds, or returns undefined for anything else. Worked examples: `30s` -> 30000; `1m30s` -> 90000;
 * `1h` -> 3600000; `250ms` -> 250; `0s` -> 0; `30` -> undefined (a unit is required); `1.5s` -> undefined.
 */
export function parseDurationMs(text: string): number | undefined {
  if (!/^([0-9]+(ms|s|m|h))+$/.test(text)) return undefined;
  const unitMs: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const match of text.matchAll(/([0-9]+)(ms|s|m|h)/g)) {
    total += Number(match[1]) * (unitMs[match[2] ?? ''] ?? 0);
  }
  return Number.isSafeInteger(total) ? total : undefined;
}
