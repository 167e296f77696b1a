import { parse } from "tinyduration";
import { ValidationException } from "./errors.ts";

/**
 * ISO 8601 duration → milliseconds. Years and months have no fixed length, so FIS-style durations
 * (days and below) are all we accept.
 */
export function parseDurationMs(text: string, field: string): number {
  let d: ReturnType<typeof parse>;
  try {
    d = parse(text);
  } catch {
    throw new ValidationException(field, `"${text}" is not an ISO 8601 duration such as PT5M or PT30S`);
  }
  if (d.negative) throw new ValidationException(field, `"${text}" must not be negative`);
  if (d.years || d.months) {
    throw new ValidationException(field, `"${text}" uses years or months; use days, hours, minutes, seconds`);
  }
  const ms =
    ((d.weeks ?? 0) * 7 * 86_400 +
      (d.days ?? 0) * 86_400 +
      (d.hours ?? 0) * 3600 +
      (d.minutes ?? 0) * 60 +
      (d.seconds ?? 0)) *
    1000;
  return Math.round(ms);
}

/** Milliseconds → the shortest ISO 8601 duration that says it (60000 → PT1M, 43200000 → PT12H). */
export function formatDurationMs(ms: number): string {
  const parts: [number, string][] = [
    [Math.floor(ms / 3_600_000), "H"],
    [Math.floor((ms % 3_600_000) / 60_000), "M"],
    [(ms % 60_000) / 1000, "S"],
  ];
  const text = parts
    .filter(([n]) => n > 0)
    .map(([n, unit]) => `${n}${unit}`)
    .join("");
  return `PT${text || "0S"}`;
}
