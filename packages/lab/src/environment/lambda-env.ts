/** Lambda's environment variables and runtime command for one function, as Lambda sets them. */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { FunctionSpec, LabServices } from "../contract.ts";
import type { SandboxMounts } from "../sandbox/index.ts";
import { RuntimeClientMissingError } from "./errors.ts";

const require = createRequire(import.meta.url);

/** The official Node runtime interface client's entry point (aws-lambda-ric 3.x: handler in argv[2], task root = cwd). */
export function defaultRicEntry(): string {
  let main: string;
  try {
    main = require.resolve("aws-lambda-ric");
  } catch {
    // An optional dependency of the published lab: its native build (cmake, autotools, a C++ compiler) may fail.
    throw new RuntimeClientMissingError();
  }
  return join(dirname(main), "..", "bin", "index.mjs");
}

export function isNodeRuntime(runtime: string): boolean {
  return runtime.startsWith("nodejs");
}

export interface LambdaEnvInput {
  spec: FunctionSpec;
  services: LabServices;
  runtimeApi: string;
  logStreamName: string;
  /** Paths as the processes see them (/opt… in a namespace, host dirs otherwise). */
  paths: SandboxMounts;
}

export function lambdaEnvironment(i: LambdaEnvInput): Record<string, string> {
  const { spec, paths } = i;
  const node = isNodeRuntime(spec.runtime);
  const major = /^nodejs(\d+)/.exec(spec.runtime)?.[1] ?? "";
  const env: Record<string, string> = {
    AWS_LAMBDA_FUNCTION_NAME: spec.name,
    AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memorySizeMb),
    AWS_LAMBDA_RUNTIME_API: i.runtimeApi,
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${spec.name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: i.logStreamName,
    AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
    AWS_REGION: spec.region,
    AWS_DEFAULT_REGION: spec.region,
    AWS_EXECUTION_ENV: `AWS_Lambda_${spec.runtime}`,
    AWS_ACCESS_KEY_ID: "AKIAFAULTLINELAB0000",
    AWS_SECRET_ACCESS_KEY: "faultline-lab-secret-access-key",
    AWS_SESSION_TOKEN: "faultline-lab-session-token",
    LAMBDA_TASK_ROOT: paths.task,
    LAMBDA_RUNTIME_DIR: node ? paths.runtime : paths.task,
    _HANDLER: spec.handler,
    TZ: ":UTC",
    LANG: "en_US.UTF-8",
    // X-Ray as Lambda sets it (PassThrough tracing). The lab runs no daemon: segments sent there are lost, as
    // they would be with tracing off. _X_AMZN_TRACE_ID is per invocation: the runtime client sets it from the
    // Lambda-Runtime-Trace-Id header (a custom runtime must do so itself, as on Lambda).
    AWS_XRAY_CONTEXT_MISSING: "LOG_ERROR",
    AWS_XRAY_DAEMON_ADDRESS: `${XRAY_DAEMON_HOST}:2000`,
    _AWS_XRAY_DAEMON_ADDRESS: XRAY_DAEMON_HOST,
    _AWS_XRAY_DAEMON_PORT: "2000",
    // Lambda's values, with its node first (/var/lang/bin: the lab's node, mounted there in a namespace).
    PATH: [...(node ? [paths.lang] : []), "/usr/local/bin", "/usr/bin/", "/bin", `${paths.opt}/bin`].join(
      ":",
    ),
    LD_LIBRARY_PATH: [
      ...(node ? [`${dirname(paths.lang)}/lib`] : []),
      "/lib64",
      "/usr/lib64",
      paths.runtime,
      `${paths.runtime}/lib`,
      paths.task,
      `${paths.task}/lib`,
      `${paths.opt}/lib`,
    ].join(":"),
  };
  if (node) {
    env.NODE_PATH = [
      `${paths.opt}/nodejs/node${major}/node_modules`,
      `${paths.opt}/nodejs/node_modules`,
      `${paths.runtime}/node_modules`,
      paths.runtime,
      paths.task,
    ].join(":");
  }
  if (i.services.s3Endpoint) env.AWS_ENDPOINT_URL_S3 = i.services.s3Endpoint;
  Object.assign(env, i.services.extraEnvironment, spec.environment);
  return env;
}

/** Lambda's X-Ray daemon address inside an execution environment (link-local; nothing answers in the lab). */
const XRAY_DAEMON_HOST = "169.254.79.129";

/**
 * Variables Lambda gives the runtime but not extensions (Extensions API docs, "Extensions have access to the same
 * environment variables as the function, except…").
 */
export const RUNTIME_ONLY_VARIABLES = [
  "AWS_EXECUTION_ENV",
  "AWS_LAMBDA_LOG_GROUP_NAME",
  "AWS_LAMBDA_LOG_STREAM_NAME",
  "AWS_XRAY_CONTEXT_MISSING",
  "AWS_XRAY_DAEMON_ADDRESS",
  "LAMBDA_RUNTIME_DIR",
  "LAMBDA_TASK_ROOT",
  "_AWS_XRAY_DAEMON_ADDRESS",
  "_AWS_XRAY_DAEMON_PORT",
  "_HANDLER",
] as const;

/** What an extension process gets: the function's environment without the runtime-only variables. */
export function extensionEnvironment(env: Record<string, string>): Record<string, string> {
  const out = { ...env };
  for (const name of RUNTIME_ONLY_VARIABLES) delete out[name];
  return out;
}

/** Where `/opt/...` or `/var/task/...` given in configuration points on this sandbox. */
export function mapPath(p: string, paths: SandboxMounts): string {
  if (p === "/opt" || p.startsWith("/opt/")) return paths.opt + p.slice(4);
  if (p === "/var/task" || p.startsWith("/var/task/")) return paths.task + p.slice(9);
  return p;
}
