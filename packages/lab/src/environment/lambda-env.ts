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
  nodeBinDir: string;
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
    LAMBDA_RUNTIME_DIR: node ? "/var/runtime" : paths.task,
    _HANDLER: spec.handler,
    TZ: ":UTC",
    LANG: "en_US.UTF-8",
    // Lambda puts its own node first (/var/lang/bin); here that is the lab's node.
    PATH: [...(node ? [i.nodeBinDir] : []), "/usr/local/bin", "/usr/bin", "/bin", `${paths.opt}/bin`].join(
      ":",
    ),
    LD_LIBRARY_PATH: ["/lib64", "/usr/lib64", paths.task, `${paths.task}/lib`, `${paths.opt}/lib`].join(":"),
  };
  if (node) {
    env.NODE_PATH = [
      `${paths.opt}/nodejs/node${major}/node_modules`,
      `${paths.opt}/nodejs/node_modules`,
      paths.task,
    ].join(":");
  }
  if (i.services.s3Endpoint) env.AWS_ENDPOINT_URL_S3 = i.services.s3Endpoint;
  Object.assign(env, i.services.extraEnvironment, spec.environment);
  return env;
}

/** Where `/opt/...` or `/var/task/...` given in configuration points on this sandbox. */
export function mapPath(p: string, paths: SandboxMounts): string {
  if (p === "/opt" || p.startsWith("/opt/")) return paths.opt + p.slice(4);
  if (p === "/var/task" || p.startsWith("/var/task/")) return paths.task + p.slice(9);
  return p;
}
