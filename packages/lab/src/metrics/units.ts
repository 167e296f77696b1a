/** CloudWatch's StandardUnit values; anything else is refused, as CloudWatch does. */
export const STANDARD_UNITS = [
  "Seconds",
  "Microseconds",
  "Milliseconds",
  "Bytes",
  "Kilobytes",
  "Megabytes",
  "Gigabytes",
  "Terabytes",
  "Bits",
  "Kilobits",
  "Megabits",
  "Gigabits",
  "Terabits",
  "Percent",
  "Count",
  "Bytes/Second",
  "Kilobytes/Second",
  "Megabytes/Second",
  "Gigabytes/Second",
  "Terabytes/Second",
  "Bits/Second",
  "Kilobits/Second",
  "Megabits/Second",
  "Gigabits/Second",
  "Terabits/Second",
  "Count/Second",
  "None",
] as const;

export type StandardUnit = (typeof STANDARD_UNITS)[number];

const UNITS: ReadonlySet<string> = new Set(STANDARD_UNITS);

export function isStandardUnit(v: unknown): v is StandardUnit {
  return typeof v === "string" && UNITS.has(v);
}
