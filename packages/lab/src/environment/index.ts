/**
 * The lab's execution-environment side: `createEnvironmentFactory()` builds environments of real processes.
 */
import { realpathSync } from "node:fs";
import type { EnvironmentFactory, FunctionSpec, LabServices, LogSink } from "../contract.ts";
import { resolveSandboxMode, type SandboxMode } from "../sandbox/index.ts";
import { LabEnvironment } from "./environment.ts";
import { defaultRicEntry } from "./lambda-env.ts";

export interface EnvironmentFactoryOptions {
  /** "auto" (default): namespaces when running as root and allowed, else the plain fallback (see sandbox/). */
  sandbox?: "auto" | SandboxMode;
  /** Lambda's init limit; default 10 000 ms. */
  initTimeoutMs?: number;
  /** SHUTDOWN grace for extensions before SIGKILL; default 2000 ms (Lambda's, with external extensions). */
  shutdownGraceMs?: number;
  /** Path of aws-lambda-ric's bin/index.mjs; default: the installed package's. */
  ricEntry?: string;
  /** Node binary for nodejs* runtimes; default: the lab's own (process.execPath). */
  nodeBinary?: string;
}

export function createEnvironmentFactory(options: EnvironmentFactoryOptions = {}): EnvironmentFactory & {
  readonly sandbox: SandboxMode;
} {
  const settings = {
    sandbox: resolveSandboxMode(options.sandbox),
    initTimeoutMs: options.initTimeoutMs ?? 10_000,
    shutdownGraceMs: options.shutdownGraceMs ?? 2000,
    ricEntry: options.ricEntry ?? defaultRicEntry(),
    // Its real path: its directory is mounted as /var/lang/bin, where a symlink to elsewhere would not resolve.
    nodeBinary: realPath(options.nodeBinary ?? process.execPath),
  };
  return {
    sandbox: settings.sandbox,
    create(spec: FunctionSpec, services: LabServices, logSink: LogSink): LabEnvironment {
      return new LabEnvironment(spec, services, logSink, settings);
    },
  };
}

export { LabEnvironment } from "./environment.ts";
export * from "./errors.ts";
export { defaultRicEntry, lambdaEnvironment } from "./lambda-env.ts";

function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path; // missing: the spawn says so, naming it
  }
}
