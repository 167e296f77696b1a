import { ScenarioError } from "../errors.ts";

/**
 * A scenario's parameter: whole numbers with limits, a list of percentages (brownout stages) or text. Every one
 * has a default, so `faultline scenarios show <name>` prints a runnable template with no parameters at all.
 */
export type ScenarioParameter = IntegerSpec | PercentagesSpec | TextSpec;

interface Described {
  readonly description: string;
}
export interface IntegerSpec extends Described {
  readonly type: "integer";
  readonly min: number;
  readonly max: number;
  readonly default: number;
}
/** Comma-separated whole percentages (1–100), e.g. "1,5,25". */
export interface PercentagesSpec extends Described {
  readonly type: "percentages";
  readonly maxItems: number;
  readonly default: readonly number[];
}
export interface TextSpec extends Described {
  readonly type: "text";
  readonly pattern: RegExp;
  /** The rule the pattern stands for, in words, for error messages. */
  readonly rule: string;
  readonly default: string;
}

export type ScenarioParameters = Readonly<Record<string, ScenarioParameter>>;
type ValueOf<S extends ScenarioParameter> = S extends IntegerSpec
  ? number
  : S extends PercentagesSpec
    ? number[]
    : string;
export type ScenarioValues<P extends ScenarioParameters> = { -readonly [K in keyof P]: ValueOf<P[K]> };

/** An ordinary FIS CreateExperimentTemplate input (what `aws fis create-experiment-template` takes). */
export interface ExperimentTemplateInput {
  description: string;
  roleArn: string;
  stopConditions: { source: string; value?: string }[];
  targets: Record<
    string,
    { resourceType: string; resourceTags: Record<string, string>; selectionMode: string }
  >;
  actions: Record<
    string,
    {
      actionId: string;
      description?: string;
      parameters: Record<string, string>;
      targets: Record<string, string>;
      startAfter?: string[];
    }
  >;
  tags: Record<string, string>;
}

/** What the caller adds to any scenario's template. */
export interface BuildOptions {
  /** The role FIS assumes (default: the lab account's placeholder role, which the local engine accepts). */
  roleArn?: string;
  /** CloudWatch alarm ARNs that stop the experiment when they go into ALARM. */
  stopAlarms?: string[];
}

/** The role a template gets when the caller names none: the lab's account (123456789012). */
export const DEFAULT_ROLE_ARN = "arn:aws:iam::123456789012:role/faultline";

/** One gray-failure scenario: what it is, what it tells you, its parameters, and the template it builds. */
export interface Scenario {
  readonly name: string;
  readonly description: string;
  /** What the experiment tells you about your system — the question it answers. */
  readonly tellsYou: string;
  readonly parameters: ScenarioParameters;
  /** Raw `key=value` strings (as the CLI takes them) → the template; ScenarioError names a bad parameter. */
  build(raw?: Readonly<Record<string, string>>, options?: BuildOptions): ExperimentTemplateInput;
}

interface ScenarioDefinition<P extends ScenarioParameters> extends Omit<Scenario, "build" | "parameters"> {
  readonly parameters: P;
  /** Checks across parameters (e.g. the whole experiment's length); throw ScenarioError naming one. */
  readonly check?: (values: ScenarioValues<P>) => void;
  readonly build: (values: ScenarioValues<P>) => Omit<ExperimentTemplateInput, "roleArn" | "stopConditions">;
}

/** Turns a typed definition into a Scenario whose build() validates raw strings first. */
export function defineScenario<const P extends ScenarioParameters>(
  definition: ScenarioDefinition<P>,
): Scenario {
  return {
    name: definition.name,
    description: definition.description,
    tellsYou: definition.tellsYou,
    parameters: definition.parameters,
    build(raw = {}, options = {}) {
      const values = resolveParameters(definition.parameters, raw);
      definition.check?.(values);
      const built = definition.build(values);
      const alarms = options.stopAlarms ?? [];
      return {
        description: built.description,
        roleArn: options.roleArn ?? DEFAULT_ROLE_ARN,
        stopConditions:
          alarms.length === 0
            ? [{ source: "none" }]
            : alarms.map((value) => ({ source: "aws:cloudwatch:alarm", value })),
        targets: built.targets,
        actions: built.actions,
        tags: { Name: `faultline-${definition.name}`, scenario: definition.name, ...built.tags },
      };
    },
  };
}

function resolveParameters<P extends ScenarioParameters>(
  specs: P,
  raw: Readonly<Record<string, string>>,
): ScenarioValues<P> {
  for (const key of Object.keys(raw)) {
    if (!Object.hasOwn(specs, key)) {
      throw new ScenarioError(
        key,
        `is not a parameter of this scenario (it takes ${Object.keys(specs).join(", ")})`,
      );
    }
  }
  const values: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(specs)) {
    const given = raw[key];
    values[key] = given === undefined ? structuredClone(spec.default) : parse(spec, given.trim(), key);
  }
  return values as ScenarioValues<P>;
}

function parse(spec: ScenarioParameter, raw: string, name: string): number | number[] | string {
  switch (spec.type) {
    case "integer":
      return wholeNumber(raw, spec.min, spec.max, name);
    case "percentages": {
      const items = raw.split(",").map((s) => s.trim());
      if (items.length > spec.maxItems) {
        throw new ScenarioError(
          name,
          `takes at most ${spec.maxItems} comma-separated percentages, got ${items.length}`,
        );
      }
      return items.map((item) =>
        wholeNumber(item, 1, 100, name, "a comma-separated list of whole percentages"),
      );
    }
    case "text":
      if (!spec.pattern.test(raw)) throw new ScenarioError(name, `must be ${spec.rule}, got "${raw}"`);
      return raw;
  }
}

function wholeNumber(raw: string, min: number, max: number, name: string, what = "a whole number"): number {
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= min && value <= max)) {
    throw new ScenarioError(name, `must be ${what} from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

// Parameters several scenarios share.

/**
 * A tag key/value as FIS's resourceTags take them (API model: key 1–128, value 0–256 characters). aws: keys are
 * allowed: they cannot be set by users, but selecting by one (aws:cloudformation:stack-name) is how a stack is aimed at.
 */
export const tagKey = (fallback: string): TextSpec => ({
  type: "text",
  description: "The tag key that selects the target functions.",
  pattern: /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u,
  rule: "a tag key (1-128 letters, digits, spaces or _.:/=+-@)",
  default: fallback,
});
export const tagValue = (fallback: string): TextSpec => ({
  type: "text",
  description: "The tag value that selects the target functions.",
  pattern: /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u,
  rule: "a tag value (up to 256 letters, digits, spaces or _.:/=+-@)",
  default: fallback,
});
/** FIS runs an experiment for at most 12 hours. */
export const MAX_EXPERIMENT_SECONDS = 12 * 3600;
export const durationSeconds = (fallback: number): IntegerSpec => ({
  type: "integer",
  description: "How long the fault lasts, in seconds.",
  min: 1,
  max: MAX_EXPERIMENT_SECONDS,
  default: fallback,
});
export const percentage = (description: string, fallback: number): IntegerSpec => ({
  type: "integer",
  description,
  min: 1,
  max: 100,
  default: fallback,
});

/** Seconds → an ISO 8601 duration as FIS templates take it. */
export const isoSeconds = (seconds: number): string => `PT${seconds}S`;

/** The one Lambda target every scenario uses. */
export const functionsTarget = (key: string, value: string, selectionMode = "ALL") => ({
  Functions: { resourceType: "aws:lambda:function", resourceTags: { [key]: value }, selectionMode },
});

/** How long the fault lasts and the tag that picks its functions: the closing parameters of a one-fault scenario. */
export const faultWindow = () => ({
  durationSeconds: durationSeconds(300),
  tagKey: tagKey("FISExperimentReady"),
  tagValue: tagValue("Yes"),
});

/** A delay in milliseconds within an action's own limits (the action table's, not a copy). */
export const milliseconds = (
  description: string,
  limits: { readonly min: number; readonly max: number },
  fallback: number,
): IntegerSpec => ({ type: "integer", description, min: limits.min, max: limits.max, default: fallback });

/** The template of a one-fault scenario: one action on the tagged functions for `durationSeconds`. */
export function oneFault(
  window: { durationSeconds: number; tagKey: string; tagValue: string },
  fault: { description: string; name: string; actionId: string; parameters: Record<string, string> },
  selectionMode = "ALL",
): Omit<ExperimentTemplateInput, "roleArn" | "stopConditions"> {
  return {
    description: fault.description,
    targets: functionsTarget(window.tagKey, window.tagValue, selectionMode),
    actions: {
      [fault.name]: {
        actionId: fault.actionId,
        parameters: { duration: isoSeconds(window.durationSeconds), ...fault.parameters },
        targets: { Functions: "Functions" },
      },
    },
    tags: {},
  };
}
