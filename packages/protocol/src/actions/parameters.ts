import { FaultConfigError } from "../errors.ts";

/**
 * One action parameter: its type, limits and FIS default. A parameter without a default is required in a
 * template. In a fault object every parameter is present (the engine applies the defaults).
 */
export type ParameterSpec = IntegerParameter | BooleanParameter | ChoiceParameter | TextParameter;

export interface IntegerParameter {
  readonly type: "integer";
  readonly min: number;
  readonly max: number;
  readonly default?: number;
}
export interface BooleanParameter {
  readonly type: "boolean";
  readonly default?: boolean;
}
export interface ChoiceParameter<V extends string = string> {
  readonly type: "choice";
  readonly values: readonly V[];
  readonly default?: V;
}
/** A non-empty string. */
export interface TextParameter {
  readonly type: "text";
  readonly default?: string;
}

export type ParameterSchema = Readonly<Record<string, ParameterSpec>>;

/** The typed value a parameter has in a fault object. */
export type ValueOf<S extends ParameterSpec> = S extends IntegerParameter
  ? number
  : S extends BooleanParameter
    ? boolean
    : S extends ChoiceParameter<infer V>
      ? V
      : string;

export type ParameterValues<P extends ParameterSchema> = { -readonly [K in keyof P]: ValueOf<P[K]> };

export const integer = (min: number, max: number, fallback?: number): IntegerParameter =>
  fallback === undefined ? { type: "integer", min, max } : { type: "integer", min, max, default: fallback };
export const boolean = (fallback?: boolean): BooleanParameter =>
  fallback === undefined ? { type: "boolean" } : { type: "boolean", default: fallback };
export const choice = <const V extends string>(values: readonly V[], fallback?: V): ChoiceParameter<V> =>
  fallback === undefined ? { type: "choice", values } : { type: "choice", values, default: fallback };
export const text = (): TextParameter => ({ type: "text" });

/** FIS's `invocationPercentage`: 1–100, default 100, on every Lambda action. */
export const invocationPercentage = integer(1, 100, 100);

const oneOf = (values: readonly string[]) => values.map((v) => `"${v}"`).join(", ");

/** A FIS wire value (a template's string) → its typed value; absent → the default, or an error if required. */
export function fromWire(
  spec: ParameterSpec,
  raw: string | undefined,
  field: string,
): number | boolean | string {
  if (raw === undefined) {
    if (spec.default !== undefined) return spec.default;
    const hint =
      spec.type === "boolean"
        ? ' ("true" or "false")'
        : spec.type === "choice"
          ? ` (${oneOf(spec.values)})`
          : "";
    throw new FaultConfigError(field, `is required${hint}`);
  }
  switch (spec.type) {
    case "integer": {
      if (!/^\d+$/.test(raw)) {
        throw new FaultConfigError(
          field,
          `must be a whole number from ${spec.min} to ${spec.max}, got "${raw}"`,
        );
      }
      const value = Number(raw);
      if (value < spec.min || value > spec.max) {
        throw new FaultConfigError(field, `must be from ${spec.min} to ${spec.max}, got ${value}`);
      }
      return value;
    }
    case "boolean":
      if (raw === "true") return true;
      if (raw === "false") return false;
      throw new FaultConfigError(field, `must be "true" or "false", got "${raw}"`);
    case "choice":
      if (spec.values.includes(raw)) return raw;
      throw new FaultConfigError(field, `must be one of ${oneOf(spec.values)}, got "${raw}"`);
    case "text":
      if (raw === "") throw new FaultConfigError(field, "is required");
      return raw;
  }
}

/** A fault object's JSON value → its typed value. Untrusted: every parameter must be present and well typed. */
export function fromJson(spec: ParameterSpec, value: unknown, field: string): number | boolean | string {
  switch (spec.type) {
    case "integer":
      if (typeof value === "number" && Number.isInteger(value) && value >= spec.min && value <= spec.max) {
        return value;
      }
      throw new FaultConfigError(field, `must be a whole number from ${spec.min} to ${spec.max}`);
    case "boolean":
      if (typeof value === "boolean") return value;
      throw new FaultConfigError(field, "must be true or false");
    case "choice":
      if (typeof value === "string" && spec.values.includes(value)) return value;
      throw new FaultConfigError(field, `must be one of ${oneOf(spec.values)}`);
    case "text":
      if (typeof value === "string" && value.length > 0) return value;
      throw new FaultConfigError(field, "must be a non-empty string");
  }
}
