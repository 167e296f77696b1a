import { functionPolicy, normalisePrefix } from "@faultline/rules";
import { AspectPriority, Aspects, Aws, type IAspect, Stack } from "aws-cdk-lib";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import {
  Architecture,
  CfnFunction,
  type ILayerVersion,
  Function as LambdaFunction,
  LayerVersion,
} from "aws-cdk-lib/aws-lambda";
import type { IBucket } from "aws-cdk-lib/aws-s3";
import { StringParameter } from "aws-cdk-lib/aws-ssm";
import type { IConstruct } from "constructs";
import { FaultlinePropsError } from "./errors.ts";
import { FaultlineLayer } from "./layer.ts";
import { acknowledgeWildcards } from "./nag.ts";

export const FAULTLINE_WRAPPER = "/opt/faultline/bootstrap";
export const AWS_FIS_WRAPPER = "/opt/aws-fis/bootstrap";

export interface FaultlineEnableOptions {
  /** Where the engine (or AWS FIS) writes fault objects; the function gets read access to `prefix` only. */
  configBucket: IBucket;
  /** Default `FisConfigs/`, as the FIS docs use. */
  prefix?: string;
  /**
   * The layer to attach. Default: one FaultlineLayer per stack (the packaged zip) — or, with useAwsFisExtension,
   * AWS's extension layer for the function's architecture, looked up at deploy time in FIS's public SSM parameter.
   */
  layer?: ILayerVersion;
  /** Run AWS's own FIS extension (wrapper /opt/aws-fis/bootstrap) instead of faultline's: same config channel. */
  useAwsFisExtension?: boolean;
  /** AWS_FIS_SLOW_POLL_INTERVAL_SECONDS: polls while no fault is active (extension default 60). */
  slowPollSeconds?: number;
  /** FAULTLINE_HOT_POLL_INTERVAL_SECONDS: polls while a fault is active (faultline only; default 5). */
  hotPollSeconds?: number;
  /** AWS_FIS_POLL_MAX_WAIT_MILLISECONDS: how long an invocation may wait for a due poll. */
  pollMaxWaitMilliseconds?: number;
  /** AWS_FIS_EXTENSION_METRICS=all: EMF `FaultInjected` metrics in the function's log. */
  metrics?: boolean;
}

/** AWS's public SSM parameters naming the FIS extension layer per Region (D-ARN). */
export const AWS_FIS_LAYER_PARAMETER = {
  x86_64: "/aws/service/fis/lambda-extension/AWS-FIS-extension-x86_64/1.x.x",
  arm64: "/aws/service/fis/lambda-extension/AWS-FIS-extension-arm64/1.x.x",
} as const;

/** Enables one function: the layer, the wrapper and location variables, the read grant. Returns the function. */
function enable<F extends LambdaFunction>(fn: F, options: FaultlineEnableOptions): F {
  const where = `Faultline.enable(${fn.node.path})`;
  const prefix = normalisePrefix(options.prefix);
  const variables = pollVariables(options, where);
  fn.addLayers(options.layer ?? defaultLayer(fn, options.useAwsFisExtension === true));
  fn.addEnvironment(
    "AWS_LAMBDA_EXEC_WRAPPER",
    options.useAwsFisExtension ? AWS_FIS_WRAPPER : FAULTLINE_WRAPPER,
  );
  fn.addEnvironment("AWS_FIS_CONFIGURATION_LOCATION", `${options.configBucket.bucketArn}/${prefix}`);
  for (const [name, value] of variables) fn.addEnvironment(name, value);
  const policy = functionPolicy({
    bucket: options.configBucket.bucketName,
    prefix,
    partition: Aws.PARTITION,
  });
  for (const statement of policy.Statement) fn.addToRolePolicy(PolicyStatement.fromJson(statement));
  if (fn.role) {
    const read = policy.Statement.find((s) => s.Sid === "ReadFaultObjects");
    acknowledgeWildcards(fn.role, [
      {
        resource: String(read?.Resource),
        reason:
          "The extension reads every fault object under the configuration prefix (the FIS docs' policy)",
      },
    ]);
  }
  options.configBucket.encryptionKey?.grantDecrypt(fn);
  return fn;
}

/** `Faultline.enable(fn, { configBucket })`. */
export const Faultline = { enable } as const;

function pollVariables(options: FaultlineEnableOptions, where: string): [string, string][] {
  const vars: [string, string][] = [];
  const whole = (name: string, prop: string, value: number | undefined, min: number) => {
    if (value === undefined) return;
    if (!Number.isInteger(value) || value < min) {
      throw new FaultlinePropsError(where, prop, `must be a whole number of at least ${min}, got ${value}`);
    }
    vars.push([name, String(value)]);
  };
  whole("AWS_FIS_SLOW_POLL_INTERVAL_SECONDS", "slowPollSeconds", options.slowPollSeconds, 1);
  if (options.hotPollSeconds !== undefined && options.useAwsFisExtension) {
    throw new FaultlinePropsError(
      where,
      "hotPollSeconds",
      "is faultline's setting; AWS's extension has none",
    );
  }
  whole("FAULTLINE_HOT_POLL_INTERVAL_SECONDS", "hotPollSeconds", options.hotPollSeconds, 1);
  whole("AWS_FIS_POLL_MAX_WAIT_MILLISECONDS", "pollMaxWaitMilliseconds", options.pollMaxWaitMilliseconds, 0);
  if (options.metrics !== undefined)
    vars.push(["AWS_FIS_EXTENSION_METRICS", options.metrics ? "all" : "none"]);
  return vars;
}

/** One layer per stack (and per architecture for AWS's), shared by every function enabled without `layer`. */
function defaultLayer(fn: LambdaFunction, awsFis: boolean): ILayerVersion {
  const stack = Stack.of(fn);
  if (!awsFis) {
    const existing = stack.node.tryFindChild("FaultlineLayer");
    return (existing as ILayerVersion | undefined) ?? new FaultlineLayer(stack, "FaultlineLayer");
  }
  const arch = fn.architecture === Architecture.ARM_64 ? "arm64" : "x86_64";
  const id = `AwsFisExtensionLayer-${arch}`;
  const existing = stack.node.tryFindChild(id);
  if (existing) return existing as ILayerVersion;
  const arn = StringParameter.valueForStringParameter(stack, AWS_FIS_LAYER_PARAMETER[arch]);
  return LayerVersion.fromLayerVersionArn(stack, id, arn);
}

export interface FaultlineAspectProps extends FaultlineEnableOptions {
  /** Every Lambda function carrying this tag (key and value) is enabled. */
  tag: { key: string; value: string };
}

/**
 * Enables every function in scope that carries a tag — the same tag an experiment's target selects:
 * `FaultlineAspect.applyTo(app, { tag: { key: "FISExperimentReady", value: "Yes" }, configBucket })`.
 */
export class FaultlineAspect implements IAspect {
  /**
   * Adds the aspect after the tag aspects (`Tags.of(…).add` runs at MUTATING or DEFAULT priority, depending on
   * the app's feature flags), so it sees every tag, however it was set.
   */
  static applyTo(scope: IConstruct, props: FaultlineAspectProps): FaultlineAspect {
    const aspect = new FaultlineAspect(props);
    Aspects.of(scope).add(aspect, { priority: AspectPriority.DEFAULT + 100 });
    return aspect;
  }

  private readonly enabled = new WeakSet<LambdaFunction>();
  constructor(private readonly props: FaultlineAspectProps) {}

  /** Visits each function's CfnFunction: by then the tag aspects of every scope above it have set its tags. */
  visit(node: IConstruct): void {
    if (!(node instanceof CfnFunction)) return;
    const fn = node.node.scope;
    if (!(fn instanceof LambdaFunction) || this.enabled.has(fn)) return;
    if (node.tags.tagValues()[this.props.tag.key] !== this.props.tag.value) return;
    this.enabled.add(fn);
    Faultline.enable(fn, this.props);
  }
}
