/**
 * Typed experiment actions and targets. Each action knows its FIS action id and turns its props into FIS's wire
 * parameters (strings); whether they are valid is decided by the engine's rules when the experiment is built.
 */
import { type Duration, Token, Tokenization } from "aws-cdk-lib";
import type { IFunction } from "aws-cdk-lib/aws-lambda";

/** An ISO 8601 duration (`"PT5M"`) or a CDK Duration. */
export type DurationLike = Duration | string;

/** `ALL` (default), `COUNT(n)` or `PERCENT(n)`, as FIS writes them. */
export type SelectionMode = "ALL" | `COUNT(${number})` | `PERCENT(${number})`;

export interface LambdaTargetOptions {
  /** Which of the resolved functions the actions hit. Default `ALL`. */
  selectionMode?: SelectionMode;
  /** `functionQualifier`: a version or alias; `$LATEST` for the unqualified function. Default: every invocation. */
  qualifier?: string;
  /** The target's name in the template. Default `Functions` (then `Functions2`, … for further targets). */
  name?: string;
}

/** Which Lambda functions (`aws:lambda:function`) the actions act on: by ARN, by tags or by filters. */
export class LambdaTarget {
  /** At most 5 functions (FIS's limit); their ARNs go into the template. */
  static fromFunctions(functions: readonly IFunction[], options: LambdaTargetOptions = {}): LambdaTarget {
    return new LambdaTarget({ resourceArns: functions.map((f) => f.functionArn) }, options);
  }
  static fromArns(arns: readonly string[], options: LambdaTargetOptions = {}): LambdaTarget {
    return new LambdaTarget({ resourceArns: [...arns] }, options);
  }
  /** Every function carrying all of these tags, resolved when an experiment starts. */
  static fromTags(tags: Readonly<Record<string, string>>, options: LambdaTargetOptions = {}): LambdaTarget {
    return new LambdaTarget({ resourceTags: { ...tags } }, options);
  }
  /** Filters on ListFunctions output (PascalCase paths such as `Runtime`), resolved when an experiment starts. */
  static fromFilters(
    filters: readonly { path: string; values: readonly string[] }[],
    options: LambdaTargetOptions = {},
  ): LambdaTarget {
    return new LambdaTarget(
      { filters: filters.map((f) => ({ path: f.path, values: [...f.values] })) },
      options,
    );
  }

  private constructor(
    readonly selection: {
      resourceArns?: string[];
      resourceTags?: Record<string, string>;
      filters?: { path: string; values: string[] }[];
    },
    readonly options: LambdaTargetOptions,
  ) {}

  /** The template's target entry (FIS API casing). */
  toTemplate(): Record<string, unknown> {
    return {
      resourceType: "aws:lambda:function",
      ...this.selection,
      selectionMode: this.options.selectionMode ?? "ALL",
      ...(this.options.qualifier !== undefined
        ? { parameters: { functionQualifier: this.options.qualifier } }
        : {}),
    };
  }
}

interface CommonProps {
  /** How long the fault lasts (FIS: at most 12 hours). */
  duration: DurationLike;
  /** Names of actions that must complete first. */
  startAfter?: string[];
  description?: string;
}

export interface LambdaFaultProps extends CommonProps {
  target: LambdaTarget;
  /** 1–100; FIS's default 100. */
  invocationPercentage?: number;
}

export interface AddDelayProps extends LambdaFaultProps {
  /** 0–900000; FIS's default 1000. */
  startupDelayMilliseconds?: number;
}
export interface InvocationErrorProps extends LambdaFaultProps {
  /** true: fail without running the handler; false: run it, then fail the invocation. */
  preventExecution: boolean;
}
export interface HttpIntegrationResponseProps extends LambdaFaultProps {
  /** 0–999. */
  statusCode: number;
  contentTypeHeader: string;
  /** true: answer without running the handler; false: run it, then replace its response. */
  preventExecution: boolean;
}

/** One action of an experiment: FIS's three Lambda actions and `aws:fis:wait`. */
export class ExperimentAction {
  static addDelay(props: AddDelayProps): ExperimentAction {
    return new ExperimentAction("aws:lambda:invocation-add-delay", props, props.target, {
      startupDelayMilliseconds: props.startupDelayMilliseconds,
      invocationPercentage: props.invocationPercentage,
    });
  }
  static invocationError(props: InvocationErrorProps): ExperimentAction {
    return new ExperimentAction("aws:lambda:invocation-error", props, props.target, {
      preventExecution: props.preventExecution,
      invocationPercentage: props.invocationPercentage,
    });
  }
  static httpIntegrationResponse(props: HttpIntegrationResponseProps): ExperimentAction {
    return new ExperimentAction("aws:lambda:invocation-http-integration-response", props, props.target, {
      statusCode: props.statusCode,
      contentTypeHeader: props.contentTypeHeader,
      preventExecution: props.preventExecution,
      invocationPercentage: props.invocationPercentage,
    });
  }
  /** Waits, e.g. between two faults (`startAfter`). */
  static wait(props: CommonProps): ExperimentAction {
    return new ExperimentAction("aws:fis:wait", props, undefined, {});
  }

  private constructor(
    readonly actionId: string,
    private readonly common: CommonProps,
    readonly target: LambdaTarget | undefined,
    private readonly parameters: Record<string, number | boolean | string | undefined>,
  ) {}

  /** The template's action entry (FIS API casing), given the name of its target in the template. */
  toTemplate(targetName: string | undefined): Record<string, unknown> {
    const parameters: Record<string, string> = { duration: isoDuration(this.common.duration) };
    for (const [name, value] of Object.entries(this.parameters)) {
      if (value !== undefined) parameters[name] = wireValue(value);
    }
    return {
      actionId: this.actionId,
      ...(this.common.description !== undefined ? { description: this.common.description } : {}),
      parameters,
      ...(targetName !== undefined ? { targets: { Functions: targetName } } : {}),
      ...(this.common.startAfter?.length ? { startAfter: [...this.common.startAfter] } : {}),
    };
  }
}

export function isoDuration(duration: DurationLike): string {
  return typeof duration === "string" ? duration : duration.toIsoString();
}

/** FIS parameters are strings: 2000 → "2000", true → "true"; a number token stays a token. */
function wireValue(value: number | boolean | string): string {
  if (typeof value === "number" && Token.isUnresolved(value)) return Tokenization.stringifyNumber(value);
  return String(value);
}
