/** ISO 8601 durations as FIS writes them (`PT20M`, `PT1H30M`, `PT90S`, `P1D`), in milliseconds. */
import { ReportInputError } from "./errors.ts";

const ISO = /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

export function parseIsoDuration(value: string, field = "duration"): number {
  const m = ISO.exec(value);
  if (!m || value === "P" || value.endsWith("T")) {
    throw new ReportInputError(field, `"${value}" is not an ISO 8601 duration such as PT20M`);
  }
  const [, d, h, min, s] = m.map((x) => (x === undefined ? 0 : Number(x)));
  return Math.round(((d! * 24 + h!) * 60 + min!) * 60_000 + s! * 1000);
}
