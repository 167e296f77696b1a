/**
 * Reading decoded CloudWatch request input (any of the three protocols) into checked values. Each reader names
 * the field in its error, in CloudWatch's shape (MissingParameter / InvalidParameterValue).
 */
import { CloudWatchApiError } from "./errors.ts";
import type { MetricId } from "./store.ts";
import { isStandardUnit, type StandardUnit } from "./units.ts";

export type Input = Record<string, unknown>;

export function invalidValue(field: string, message: string): CloudWatchApiError {
  return new CloudWatchApiError("InvalidParameterValue", 400, `The parameter ${field} ${message}`);
}

function missing(field: string): CloudWatchApiError {
  return new CloudWatchApiError("MissingParameter", 400, `The parameter ${field} is required.`);
}

export function object(v: unknown, field: string): Input {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    if (v === undefined) throw missing(field);
    throw invalidValue(field, "must be an object");
  }
  return v as Input;
}

export function list(v: unknown, field: string): unknown[] {
  if (v === undefined) throw missing(field);
  if (!Array.isArray(v)) throw invalidValue(field, "must be a list");
  return v;
}

export function string(v: unknown, field: string): string {
  if (v === undefined) throw missing(field);
  if (typeof v !== "string") throw invalidValue(field, "must be a string");
  return v;
}

/** A list of strings, each error naming `field[i]`. */
export function strings(v: unknown, field: string): string[] {
  return list(v, field).map((s, i) => string(s, `${field}[${i}]`));
}

export function num(v: unknown, field: string): number {
  if (v === undefined) throw missing(field);
  if (typeof v !== "number" || !Number.isFinite(v)) throw invalidValue(field, "must be a number");
  return v;
}

export function int(v: unknown, field: string): number {
  const n = num(v, field);
  if (!Number.isInteger(n)) throw invalidValue(field, "must be a whole number");
  return n;
}

/** Epoch seconds (awsJson, fractions allowed), Dates (CBOR tag 1) or ISO strings (awsQuery). */
export function time(v: unknown, field: string): number {
  if (v instanceof Date && !Number.isNaN(v.getTime())) return v.getTime();
  if (typeof v === "number" && Number.isFinite(v)) return Math.round(v * 1000);
  if (typeof v === "string" && !Number.isNaN(Date.parse(v))) return Date.parse(v);
  if (v === undefined) throw missing(field);
  throw invalidValue(field, "must be a timestamp");
}

export function unit(v: unknown, field: string): StandardUnit | undefined {
  if (v === undefined) return undefined;
  if (!isStandardUnit(v)) throw invalidValue(field, `"${String(v)}" is not a CloudWatch unit`);
  return v;
}

export function metricId(m: Input, field: string): MetricId {
  const at = (f: string) => (field ? `${field}.${f}` : f);
  const dimensions: Record<string, string> = {};
  if (m.Dimensions !== undefined) {
    for (const [i, raw] of list(m.Dimensions, at("Dimensions")).entries()) {
      const d = object(raw, at(`Dimensions[${i}]`));
      dimensions[string(d.Name, at(`Dimensions[${i}].Name`))] = string(d.Value, at(`Dimensions[${i}].Value`));
    }
  }
  return {
    namespace: string(m.Namespace, at("Namespace")),
    metricName: string(m.MetricName, at("MetricName")),
    dimensions,
  };
}

/** NextToken is the offset of the next page. */
export function paginate<T>(items: T[], token: unknown, size: number): { items: T[]; next?: string } {
  const offset = token === undefined ? 0 : Number(token);
  if (!Number.isInteger(offset) || offset < 0)
    throw new CloudWatchApiError("InvalidNextToken", 400, "NextToken is invalid");
  const page = items.slice(offset, offset + size);
  return offset + size < items.length ? { items: page, next: String(offset + size) } : { items: page };
}

/** Spreads `{ NextToken }` into an output when there is a next page. */
export function nextToken(next: string | undefined): { NextToken?: string } {
  return next === undefined ? {} : { NextToken: next };
}
