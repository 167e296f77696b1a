import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { FAULTLINE_VERSION, serializeFaultConfig } from "@faultline/protocol";
import { ExtensionsApi } from "../../lab/src/extensions-api/index.ts";
import { startRuntimeApi } from "../../lab/src/runtime-api/index.ts";
import { buildLayer } from "../src/layer.ts";
import { error, faultConfig } from "./helpers/faults.ts";
import { ARN_BASE, FIXTURE_DIR } from "./helpers/harness.ts";
import { testLayer } from "./helpers/layer.ts";
import { CREDENTIALS, startS3 } from "./helpers/s3.ts";

const RIC = new URL("../../../node_modules/aws-lambda-ric/bin/index.mjs", import.meta.url).pathname;

describe("the built layer zip, unmodified: launcher, exec wrapper, bundled extension", () => {
  const dir = mkdtempSync(join(tmpdir(), "faultline-layer-test-"));
  const opt = join(dir, "opt");
  let zip: Awaited<ReturnType<typeof buildLayer>>;
  before(async () => {
    zip = await buildLayer({ out: join(dir, "layer.zip") });
    execFileSync("unzip", ["-q", zip.zipPath, "-d", opt]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("has the documented layout, executable bits and version marker", () => {
    const listing = execFileSync("unzip", ["-Z", zip.zipPath]).toString();
    assert.match(listing, /-rwxr-xr-x .* extensions\/faultline\n/);
    assert.match(listing, /-rwxr-xr-x .* faultline\/bootstrap\n/);
    assert.match(listing, / faultline\/extension\.cjs\n/);
    assert.match(listing, / faultline\/in-process\.cjs\n/);
    assert.match(listing, / faultline\/in-process-faults\.cjs\n/);
    assert.match(listing, /-rwxr-xr-x .* faultline\/lifecycle\n/);
    assert.equal(readFileSync(join(opt, "faultline/VERSION"), "utf8").trim(), FAULTLINE_VERSION);
    assert.ok(zip.bundleBytes < 100_000, `bundle ${zip.bundleBytes} bytes`);
    // The preload runs during the runtime's init: the hooks only; the poller and S3 client are the fault side's.
    const preload = readFileSync(join(opt, "faultline/in-process.cjs"), "utf8");
    assert.ok(!preload.includes("list-type"), "the preload carries no S3 client");
    assert.ok(readFileSync(join(opt, "faultline/in-process-faults.cjs"), "utf8").includes("list-type"));
  });

  it("--standalone carries an executable node that the launcher prefers", async () => {
    // Memoised (a minute's strip and zip on a busy machine): lab.standalone.acceptance starts its lab from the same.
    const standalone = await testLayer(join(dir, "standalone.zip"), { standalone: true });
    const listing = execFileSync("unzip", ["-Z", standalone.zipPath]).toString();
    assert.match(listing, /-rwxr-xr-x .* faultline\/node\n/);
    assert.match(readFileSync(join(opt, "extensions/faultline"), "utf8"), /if \[ -x "\$dir\/node" \]/);
  });

  it("the wrapper leaves AWS_LAMBDA_RUNTIME_API alone when the extension wrote no port", () => {
    const out = execFileSync(join(opt, "faultline/bootstrap"), ["sh", "-c", "echo $AWS_LAMBDA_RUNTIME_API"], {
      env: { AWS_LAMBDA_RUNTIME_API: "127.0.0.1:9001", FAULTLINE_PORT_FILE: join(dir, "missing") },
    });
    assert.equal(out.toString().trim(), "127.0.0.1:9001");
  });

  it("the wrapper preloads the in-process hook when the launcher chose in-process, keeping NODE_OPTIONS", () => {
    const modeFile = join(dir, "mode");
    writeFileSync(modeFile, "in-process\n");
    const out = execFileSync(join(opt, "faultline/bootstrap"), ["sh", "-c", "echo $NODE_OPTIONS"], {
      env: { NODE_OPTIONS: "--max-old-space-size=100", FAULTLINE_PORT_FILE: modeFile },
    });
    assert.equal(
      out.toString().trim(),
      `--require "${join(opt, "faultline/in-process.cjs")}" --max-old-space-size=100`,
    );
  });

  it("registers, injects through the wrapper-pointed runtime, and exits promptly on SHUTDOWN", async () => {
    const s3 = await startS3();
    const functionName = "layered";
    const now = Date.now();
    await s3.put(
      `fis/${functionName}/EXP1/err.json`,
      serializeFaultConfig(faultConfig({ ...error(true), actionName: "err" }, now - 1000, 60_000)),
    );
    const extensions = new ExtensionsApi({
      functionName,
      functionVersion: "$LATEST",
      handler: "index.handler",
    });
    const api = await startRuntimeApi({ routes: extensions.routes });
    api.onDispatch((inv) => extensions.dispatchInvoke(inv));
    const portFile = join(dir, "proxy-port");
    const common = {
      PATH: process.env.PATH,
      AWS_LAMBDA_RUNTIME_API: api.address,
      AWS_LAMBDA_FUNCTION_NAME: functionName,
      FAULTLINE_PORT_FILE: portFile,
      FAULTLINE_LAB_OWNER: "extension-layer-test",
      FAULTLINE_TEST_RUN: process.env.FAULTLINE_TEST_RUN,
    };
    const children: ChildProcess[] = [];
    let output = "";
    try {
      const registered = new Promise((resolve) => extensions.onRegister(resolve));
      const extension = spawn(join(opt, "extensions/faultline"), [], {
        env: {
          ...common,
          AWS_FIS_CONFIGURATION_LOCATION: "arn:aws:s3:::faults/fis/",
          AWS_ENDPOINT_URL_S3: s3.endpoint,
          AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
          AWS_REGION: "us-east-1",
        },
        stdio: ["ignore", "pipe", "inherit"],
      });
      children.push(extension);
      extension.stdout?.on("data", (chunk: Buffer) => {
        output += chunk.toString();
      });
      const extensionExit = new Promise<number | null>((resolve) => extension.once("exit", resolve));
      await registered;
      await extensions.whenAllReady();
      assert.match(readFileSync(portFile, "utf8"), /^\d+\n$/);

      const runtime = spawn(join(opt, "faultline/bootstrap"), [process.execPath, RIC, "index.handler"], {
        cwd: FIXTURE_DIR,
        env: common,
        stdio: "ignore",
      });
      children.push(runtime);
      await api.whenReady();
      const out = await api.invoke({
        requestId: randomUUID(),
        payload: Buffer.from("{}"),
        invokedFunctionArn: ARN_BASE + functionName,
        traceId: "Root=1-5759e988-bd862e3fe1be46a994272793",
        acceptStreaming: false,
      });
      assert.equal(out.kind, "function-error");
      if (out.kind === "function-error") assert.equal(out.errorType, "FaultInjectionError");
      assert.match(output, /INFO FAULTLINE EXTENSION - extension enabled 0\.1\.0/);
      assert.match(output, /found active faults: aws:lambda:invocation-error/);

      const started = performance.now();
      extensions.dispatchShutdown("spindown", Date.now() + 2000);
      assert.equal(await extensionExit, 0);
      assert.ok(performance.now() - started < 1000, "exits promptly");
    } finally {
      for (const child of children) {
        if (child.exitCode === null && child.signalCode === null) {
          const gone = new Promise((resolve) => child.once("exit", resolve));
          child.kill("SIGKILL");
          await gone;
        }
      }
      await api.close();
      await s3.close();
    }
  });
});
