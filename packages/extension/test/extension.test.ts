import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { rawRequest } from "../../testing/src/index.ts";
import { Logger, startExtension } from "../src/index.ts";
import { manualClock } from "./helpers/faults.ts";

describe("startExtension settings handling", () => {
  it("an invalid setting is logged by name and the extension passes everything through", async () => {
    const dir = mkdtempSync(join(tmpdir(), "faultline-ext-"));
    const lines: string[] = [];
    const ext = await startExtension({
      env: {
        AWS_LAMBDA_RUNTIME_API: "127.0.0.1:9",
        AWS_LAMBDA_FUNCTION_NAME: "demo",
        AWS_FIS_CONFIGURATION_LOCATION: "s3://faults/fis/",
        AWS_FIS_SLOW_POLL_INTERVAL_SECONDS: "often",
        FAULTLINE_PORT_FILE: join(dir, "port"),
      },
      register: false,
      write: (l) => lines.push(l),
    });
    try {
      assert.equal(ext.poller, undefined, "no fault source");
      assert.ok(ext.port !== undefined, "the proxy still runs");
      assert.equal(readFileSync(join(dir, "port"), "utf8"), `${ext.port}\n`);
      assert.match(
        lines.join("\n"),
        /ERROR FAULTLINE EXTENSION - invalid setting, passing every invocation through: AWS_FIS_SLOW_POLL_INTERVAL_SECONDS: must be a whole number/,
      );
    } finally {
      await ext.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("an explicit listener port that is taken: no port file, so the wrapper leaves the runtime alone", async () => {
    const dir = mkdtempSync(join(tmpdir(), "faultline-ext-"));
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const taken = (blocker.address() as net.AddressInfo).port;
    const lines: string[] = [];
    const ext = await startExtension({
      env: {
        AWS_LAMBDA_RUNTIME_API: "127.0.0.1:9",
        AWS_FIS_PROXY_LISTENER_PORT: String(taken),
        FAULTLINE_PORT_FILE: join(dir, "port"),
      },
      register: false,
      write: (l) => lines.push(l),
    });
    try {
      assert.equal(ext.port, undefined);
      assert.throws(() => readFileSync(join(dir, "port")), /ENOENT/);
      assert.match(lines.join("\n"), /the runtime API proxy could not start.*EADDRINUSE/);
    } finally {
      await ext.stop();
      blocker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("proxy upstream failure", () => {
  it("an unreachable Runtime API is a clear 502 to the runtime, and the proxy keeps serving", async () => {
    const dir = mkdtempSync(join(tmpdir(), "faultline-ext-"));
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const deadPort = (closed.address() as net.AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const lines: string[] = [];
    const ext = await startExtension({
      env: { AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${deadPort}`, FAULTLINE_PORT_FILE: join(dir, "port") },
      register: false,
      write: (l) => lines.push(l),
    });
    try {
      for (const [method, path] of [
        ["GET", "/2018-06-01/runtime/invocation/next"],
        ["POST", "/2018-06-01/runtime/invocation/abc/response"],
        ["POST", "/2018-06-01/runtime/init/error"],
      ] as const) {
        const answer = await rawRequest(
          `127.0.0.1:${ext.port}`,
          method,
          path,
          method === "POST" ? "{}" : undefined,
        );
        assert.equal(answer.status, 502, path);
        const body = JSON.parse(answer.body.toString());
        assert.equal(body.errorType, "Faultline.UpstreamError");
        assert.match(body.errorMessage, /ECONNREFUSED/);
      }
      assert.ok(lines.some((l) => l.includes("runtime API proxy: GET /2018-06-01/runtime/invocation/next")));
    } finally {
      await ext.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("Logger", () => {
  it("writes text or the function's JSON format, filters by level, logs `once` keys once", () => {
    const clock = manualClock(Date.parse("2026-11-26T12:00:00.000Z"));
    const text: string[] = [];
    const log = new Logger({
      level: "WARN",
      format: "text",
      metrics: false,
      functionName: "f",
      clock,
      write: (l) => text.push(l),
    });
    log.info("hidden");
    log.warn("shown", "req-1");
    log.once("ERROR", "k", "first");
    log.once("ERROR", "k", "second");
    log.metric("FaultInjected", 1, "Count", { FaultId: "x", Invocation: "f" });
    assert.deepEqual(text, [
      "2026-11-26T12:00:00.000Z WARN FAULTLINE EXTENSION - shown (requestId req-1)",
      "2026-11-26T12:00:00.000Z ERROR FAULTLINE EXTENSION - first",
    ]);
    const json: string[] = [];
    const jlog = new Logger({
      level: "INFO",
      format: "json",
      metrics: true,
      functionName: "f",
      clock,
      write: (l) => json.push(l),
    });
    jlog.info("adding 5 milliseconds of latency to function invocation", "req-2");
    jlog.metric("FaultInjected", 1, "Count", { FaultId: "aws:lambda:invocation-add-delay", Invocation: "f" });
    assert.deepEqual(JSON.parse(json[0] ?? ""), {
      timestamp: "2026-11-26T12:00:00.000Z",
      level: "INFO",
      message: "FAULTLINE EXTENSION - adding 5 milliseconds of latency to function invocation",
      requestId: "req-2",
    });
    assert.deepEqual(JSON.parse(json[1] ?? ""), {
      _aws: {
        Timestamp: clock.now(),
        CloudWatchMetrics: [
          {
            Namespace: "aws-fis-extension",
            Dimensions: [["FaultId", "Invocation"]],
            Metrics: [{ Name: "FaultInjected", Unit: "Count" }],
          },
        ],
      },
      FaultId: "aws:lambda:invocation-add-delay",
      Invocation: "f",
      FaultInjected: 1,
    });
  });
});
