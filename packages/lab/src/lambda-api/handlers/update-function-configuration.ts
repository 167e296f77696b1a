/**
 * UpdateFunctionConfiguration: PUT /2015-03-31/functions/{FunctionName}/configuration — environment variables,
 * layers, handler, timeout, memory. Lambda's semantics (https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html):
 * the response says LastUpdateStatus InProgress; new invocations then run in new environments with the new
 * configuration, and warm environments with the old one are retired (the lab applies the update at once, so the
 * next read says Successful). Each update gets a new RevisionId; a RevisionId that is not the latest is refused.
 */
import { randomUUID } from "node:crypto";
import { InvalidParameterValueError, LambdaApiError } from "../../errors.ts";
import { configurationOf } from "../configuration.ts";
import { controlState, type Handler, labIdentity } from "../context.ts";
import { readBody, sendJson } from "../http.ts";
import { labLayers } from "../layers.ts";
import { resolveFunctionName } from "../names.ts";

interface UpdateInput {
  Environment?: { Variables?: Record<string, string> };
  Layers?: string[];
  Handler?: string;
  Timeout?: number;
  MemorySize?: number;
  RevisionId?: string;
}

/** Fields the lab applies; any other field Lambda knows is refused rather than silently ignored. */
const SUPPORTED = new Set(["Environment", "Layers", "Handler", "Timeout", "MemorySize", "RevisionId"]);
/** Lambda's reserved variables (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html). */
const RESERVED = new Set([
  "_HANDLER",
  "_X_AMZN_TRACE_ID",
  "AWS_DEFAULT_REGION",
  "AWS_REGION",
  "AWS_EXECUTION_ENV",
  "AWS_LAMBDA_FUNCTION_NAME",
  "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
  "AWS_LAMBDA_FUNCTION_VERSION",
  "AWS_LAMBDA_INITIALIZATION_TYPE",
  "AWS_LAMBDA_LOG_GROUP_NAME",
  "AWS_LAMBDA_LOG_STREAM_NAME",
  "AWS_ACCESS_KEY",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_LAMBDA_RUNTIME_API",
  "LAMBDA_TASK_ROOT",
  "LAMBDA_RUNTIME_DIR",
]);
/** Lambda's limits: 5 layers, 4 KB of environment variables, 1–900 s, 128–10240 MB. */
const MAX_LAYERS = 5;
const MAX_ENVIRONMENT_BYTES = 4096;

export const updateFunctionConfiguration: Handler = async (req, res, params, _url, ctx) => {
  const target = resolveFunctionName(params.name ?? "", null, labIdentity(ctx));
  if (target.qualifier) {
    throw new InvalidParameterValueError("Only the unqualified function ($LATEST) can be updated");
  }
  let input: UpdateInput;
  try {
    input = JSON.parse((await readBody(req, 256 * 1024)).toString("utf8") || "{}") as UpdateInput;
  } catch {
    throw new InvalidParameterValueError("Could not parse request body into json");
  }
  const unsupported = Object.keys(input).filter((k) => !SUPPORTED.has(k));
  if (unsupported.length > 0) {
    throw new InvalidParameterValueError(
      `The lab cannot update ${unsupported.join(", ")} (it updates ${[...SUPPORTED].join(", ")})`,
    );
  }
  const pool = ctx.pools.get(target.name)!;
  const state = controlState(ctx);
  const current = configurationOf(ctx, target.name).RevisionId as string;
  if (input.RevisionId !== undefined && input.RevisionId !== current) {
    throw new LambdaApiError(
      "PreconditionFailedException",
      412,
      "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
      "message",
    );
  }
  const spec = { ...pool.spec };
  if (input.Environment) spec.environment = checkEnvironment(input.Environment.Variables ?? {});
  if (input.Layers) Object.assign(spec, resolveLayers(input.Layers, ctx));
  if (input.Handler !== undefined) spec.handler = input.Handler;
  if (input.Timeout !== undefined) spec.timeoutSeconds = intBetween("timeout", input.Timeout, 1, 900);
  if (input.MemorySize !== undefined)
    spec.memorySizeMb = intBetween("memorySize", input.MemorySize, 128, 10240);
  pool.reconfigure(spec);
  state.updates.set(target.name, { revisionId: randomUUID(), lastModified: new Date() });
  sendJson(res, 200, {
    ...configurationOf(ctx, target.name),
    LastUpdateStatus: "InProgress",
  });
};

function checkEnvironment(variables: Record<string, string>): Record<string, string> {
  const reserved = Object.keys(variables).filter((k) => RESERVED.has(k));
  if (reserved.length > 0) {
    throw new InvalidParameterValueError(
      `Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: ${reserved.join(", ")}`,
    );
  }
  const size = Object.entries(variables).reduce(
    (n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(String(v)),
    0,
  );
  if (size > MAX_ENVIRONMENT_BYTES) {
    throw new InvalidParameterValueError(
      "Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit.",
    );
  }
  return Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, String(v)]));
}

function resolveLayers(
  arns: string[],
  ctx: Parameters<Handler>[4],
): { layers: string[]; layerArns: string[] } {
  if (arns.length > MAX_LAYERS) {
    throw new InvalidParameterValueError(`Cannot reference more than ${MAX_LAYERS} layers.`);
  }
  const names = arns.map((arn) => arn.split(":")[6]);
  if (new Set(names).size !== names.length) {
    throw new InvalidParameterValueError(
      "Two different versions of the same layer are not allowed to be referenced in the same function.",
    );
  }
  const known = labLayers(ctx);
  const layers = arns.map((arn) => {
    const layer = known.get(arn);
    if (!layer) throw new InvalidParameterValueError(`Layer version ${arn} does not exist.`);
    return layer.path;
  });
  return { layers, layerArns: [...arns] };
}

function intBetween(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidParameterValueError(
      `1 validation error detected: Value '${String(value)}' at '${field}' failed to satisfy constraint: Member must have value between ${min} and ${max}`,
    );
  }
  return value;
}
