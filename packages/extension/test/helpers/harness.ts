import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type RuntimeApiServer, startRuntimeApi } from "../../../lab/src/runtime-api/index.ts";
import type { Clock, RandomSource } from "../../src/clock.ts";
import { type RunningExtension, startExtension } from "../../src/extension.ts";
import { CREDENTIALS } from "./s3.ts";

const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
export const FIXTURE_DIR = fileURLToPath(new URL("../fixtures/fn/", import.meta.url));
const RIC = join(ROOT, "node_modules/aws-lambda-ric/bin/index.mjs");
export const ARN_BASE = "arn:aws:lambda:us-east-1:123456789012:function:";

export interface HarnessOptions {
  functionName: string;
  handler?: string;
  s3Endpoint: string;
  clock?: Clock;
  random?: RandomSource;
  env?: Record<string, string>;
}

/**
 * The lab's Runtime API server (the platform) ← the extension's proxy, in process ← the official runtime
 * client in its own process. `invoke` acts as Lambda's Invoke.
 */
export async function startHarness(options: HarnessOptions) {
  const api: RuntimeApiServer = await startRuntimeApi();
  const dir = mkdtempSync(join(tmpdir(), "faultline-ext-"));
  const lines: string[] = [];
  const extension: RunningExtension = await startExtension({
    env: {
      AWS_LAMBDA_RUNTIME_API: api.address,
      AWS_LAMBDA_FUNCTION_NAME: options.functionName,
      AWS_FIS_CONFIGURATION_LOCATION: "arn:aws:s3:::faults/fis/",
      AWS_ENDPOINT_URL_S3: options.s3Endpoint,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      FAULTLINE_PORT_FILE: join(dir, "proxy-port"),
      ...options.env,
    },
    register: false,
    clock: options.clock,
    random: options.random,
    write: (line) => lines.push(line),
  });
  let runtime: ChildProcess | undefined;
  const exits: number[] = [];

  function startRuntime(): Promise<void> {
    runtime = spawn(process.execPath, [RIC, options.handler ?? "index.handler"], {
      cwd: FIXTURE_DIR,
      env: {
        PATH: process.env.PATH,
        AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${extension.port}`,
        AWS_LAMBDA_FUNCTION_NAME: options.functionName,
        FAULTLINE_LAB_OWNER: "extension-test",
        FAULTLINE_TEST_RUN: process.env.FAULTLINE_TEST_RUN,
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    const child = runtime;
    child.stderr?.resume();
    child.once("exit", (code) => {
      exits.push(code ?? -1);
      // What the lab does when the runtime dies: forget it, fail what was in flight.
      api.reset("runtime exited");
    });
    return api.whenReady();
  }
  await startRuntime();

  return {
    api,
    extension,
    lines,
    dir,
    exits,
    startRuntime,
    runtime: () => runtime,
    invoke(payload: unknown, opts: { qualifier?: string; acceptStreaming?: boolean; raw?: Buffer } = {}) {
      const arn = ARN_BASE + options.functionName + (opts.qualifier ? `:${opts.qualifier}` : "");
      return api.invoke({
        requestId: randomUUID(),
        payload: opts.raw ?? Buffer.from(JSON.stringify(payload)),
        invokedFunctionArn: arn,
        traceId: "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        acceptStreaming: opts.acceptStreaming ?? false,
      });
    },
    async close() {
      if (runtime && runtime.exitCode === null && runtime.signalCode === null) {
        const gone = new Promise((resolve) => runtime?.once("exit", resolve));
        runtime.kill("SIGKILL");
        await gone;
      }
      await extension.stop();
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type Harness = Awaited<ReturnType<typeof startHarness>>;
