/**
 * CloudWatch Embedded Metric Format: the `_aws.CloudWatchMetrics` directive turns one JSON log line into metrics.
 * Parsed as CloudWatch Logs does: raw JSON lines, lines in Lambda's text format
 * (`timestamp\trequestId\tLEVEL\t{json}`) and Lambda JSON-format records whose `message` is the EMF object.
 * A line without `_aws` is an ordinary log line; a line with a broken `_aws` is malformed and yields nothing.
 */
import { isStandardUnit, type StandardUnit } from "./units.ts";

export interface Datapoint {
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
  value: number;
  unit: StandardUnit;
  /** Epoch milliseconds. */
  timestamp: number;
}

export type EmfResult =
  | { kind: "log" }
  | { kind: "metrics"; datapoints: Datapoint[] }
  | { kind: "malformed"; reason: string };

/** CloudWatch's limits: 30 dimensions per set, 100 values per metric array. */
const MAX_DIMENSIONS = 30;
const MAX_VALUES = 100;

/** Parses one log line. `fallbackTimestamp` is used when `_aws.Timestamp` is absent (the log event's time). */
export function parseEmfLine(line: string, fallbackTimestamp: number): EmfResult {
  const json = extractJson(line);
  if (json === undefined) return { kind: "log" };
  let root: unknown;
  try {
    root = JSON.parse(json);
  } catch {
    return { kind: "log" };
  }
  if (!isObject(root)) return { kind: "log" };
  // Lambda's JSON log format wraps what the handler logged in `message`.
  if (!("_aws" in root) && isObject(root.message) && "_aws" in root.message) root = root.message;
  if (!isObject(root) || !("_aws" in root)) return { kind: "log" };
  return parseEmfObject(root, fallbackTimestamp);
}

/** Validates an already-parsed EMF object and extracts its datapoints. */
export function parseEmfObject(root: Record<string, unknown>, fallbackTimestamp: number): EmfResult {
  const aws = root._aws;
  if (!isObject(aws)) return malformed("_aws is not an object");
  let timestamp = fallbackTimestamp;
  if (aws.Timestamp !== undefined) {
    if (typeof aws.Timestamp !== "number" || !Number.isFinite(aws.Timestamp) || aws.Timestamp < 0) {
      return malformed("_aws.Timestamp is not epoch milliseconds");
    }
    timestamp = aws.Timestamp;
  }
  const directives = aws.CloudWatchMetrics;
  if (!Array.isArray(directives)) return malformed("_aws.CloudWatchMetrics is not an array");
  const datapoints: Datapoint[] = [];
  for (const [i, d] of directives.entries()) {
    const at = `_aws.CloudWatchMetrics[${i}]`;
    if (!isObject(d)) return malformed(`${at} is not an object`);
    if (typeof d.Namespace !== "string" || d.Namespace.length === 0 || d.Namespace.length > 1024) {
      return malformed(`${at}.Namespace is not a non-empty string`);
    }
    if (!Array.isArray(d.Dimensions)) return malformed(`${at}.Dimensions is not an array of dimension sets`);
    const sets: string[][] = [];
    for (const [j, set] of d.Dimensions.entries()) {
      if (!Array.isArray(set) || !set.every((k) => typeof k === "string") || set.length > MAX_DIMENSIONS) {
        return malformed(`${at}.Dimensions[${j}] is not an array of at most ${MAX_DIMENSIONS} names`);
      }
      sets.push(set as string[]);
    }
    if (!Array.isArray(d.Metrics)) return malformed(`${at}.Metrics is not an array`);
    // An empty Dimensions array still publishes the metric once, without dimensions.
    if (sets.length === 0) sets.push([]);
    for (const [j, m] of d.Metrics.entries()) {
      if (!isObject(m) || typeof m.Name !== "string" || m.Name.length === 0) {
        return malformed(`${at}.Metrics[${j}].Name is not a non-empty string`);
      }
      const unit = m.Unit ?? "None";
      if (!isStandardUnit(unit))
        return malformed(`${at}.Metrics[${j}].Unit "${String(unit)}" is not a CloudWatch unit`);
      const values = valuesOf(root[m.Name]);
      if (values === undefined) return malformed(`member "${m.Name}" is missing or not a number (array)`);
      for (const set of sets) {
        const dimensions: Record<string, string> = {};
        for (const key of set) {
          const v = root[key];
          if (typeof v !== "string" || v.length === 0) {
            return malformed(`dimension "${key}" is missing or not a string`);
          }
          dimensions[key] = v;
        }
        for (const value of values) {
          datapoints.push({ namespace: d.Namespace, metricName: m.Name, dimensions, value, unit, timestamp });
        }
      }
    }
  }
  return { kind: "metrics", datapoints };
}

/** The JSON part of a line: the whole line, or the 4th field of Lambda's tab-separated text format. */
function extractJson(line: string): string | undefined {
  const trimmed = line.trim();
  if (trimmed.startsWith("{")) return trimmed;
  const fields = trimmed.split("\t");
  if (fields.length >= 4) {
    const rest = fields.slice(3).join("\t").trim();
    if (rest.startsWith("{")) return rest;
  }
  return undefined;
}

function valuesOf(v: unknown): number[] | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return [v];
  if (Array.isArray(v) && v.length > 0 && v.length <= MAX_VALUES) {
    if (v.every((x) => typeof x === "number" && Number.isFinite(x))) return v as number[];
  }
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function malformed(reason: string): EmfResult {
  return { kind: "malformed", reason };
}
