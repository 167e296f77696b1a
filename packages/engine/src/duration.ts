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
