/**
 * `faultline test` runs as users run them, on one small lab config (a function that answers at once, with the layer):
 * - the `endpoints` mode against a running `faultline up` (started here), with Invoke load on the function (not
 *   an API route) and the named-metric assertions read from the lab's CloudWatch, through @faultline/cli/resilience;
 * - SIGTERM to the `faultline test` process (as a CI job timeout sends it): the experiment ends stopped, the JUnit
 *   says interrupted, the exit code is 143 and none of the lab's processes is left.
 * The SIGTERM test runs first, while `faultline up` starts beside it: the two process starts dominate the time.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { FisClient, GetExperimentCommand } from "@aws-sdk/client-fis";
import { parseTestSpec, runResilienceTest } from "@faultline/cli/resilience";
import { buildLayer } from "@faultline/extension/layer";
import { labOwnedProcesses } from "@faultline/testing";
import { stringify } from "yaml";
import { firstLine } from "./processes.ts";

const CLI = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const FN = fileURLToPath(new URL("../../api/test/fixtures/fn/", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "faultline-resilience-run-"));
const ENV = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" };
let up: ChildProcess | undefined;
/** What `faultline up --json` prints; awaited by the test that needs it, so its start overlaps the other test. */
let upEndpoints: Promise<{ lambda: string; cloudwatch: string; fis: string }>;

const cli = (...args: string[]) =>
  spawn(process.execPath, ["--import", "tsx", CLI, ...args], { stdio: ["ignore", "pipe", "pipe"], env: ENV });

before(async () => {
  const layer = await buildLayer({ out: join(dir, "faultline-layer.zip") });
  writeFileSync(
    join(dir, "lab.json"),
    JSON.stringify({
      ports: { lambda: 0, s3: 0, cloudwatch: 0, fis: 0 },
      buckets: ["faultline-faults"],
      functions: [
        {
          name: "fn",
          runtime: "nodejs20.x",
          handler: "index.handler",
          code: FN,
          layers: [layer.zipPath],
          tags: { FISExperimentReady: "Yes" },
          environment: {
            AWS_LAMBDA_EXEC_WRAPPER: "/opt/faultline/bootstrap",
            AWS_FIS_CONFIGURATION_LOCATION: "arn:aws:s3:::faultline-faults/FisConfigs/",
            AWS_FIS_SLOW_POLL_INTERVAL_SECONDS: "1",
            FAULTLINE_HOT_POLL_INTERVAL_SECONDS: "1",
            AWS_FIS_EXTENSION_METRICS: "all",
          },
        },
      ],
    }),
  );
  up = cli("up", "--json", "-c", join(dir, "lab.json"), "--data-dir", join(dir, "engine"));
  up.stderr!.resume(); // the engine's log: read, or a full pipe would block it
  upEndpoints = firstLine(up).then((line) => JSON.parse(line));
  upEndpoints.catch(() => {}); // a failed start is reported by the test that awaits it
});

after(async () => {
  if (up && up.exitCode === null) {
    up.kill("SIGTERM");
    await once(up, "exit");
  }
  rmSync(dir, { recursive: true, force: true });
});

/** 300 ms more per Invoke of fn while the fault lasts: seen in the latency, in FaultInjected, never as an error. */
const slowdown = {
  scenario: "partial-slowdown",
  parameters: { functionPercentage: 100, invocationPercentage: 100, delayMilliseconds: 300 },
};

describe("faultline test on a small lab", () => {
  /** Resolves with the line of `child`'s stderr that matches, rejecting if it exits first. */
  async function stderrLine(child: ChildProcess, pattern: RegExp, seen: string[]): Promise<string> {
    const lines = createInterface({ input: child.stderr! });
    return new Promise((resolve, reject) => {
      lines.on("line", (line) => {
        seen.push(line);
        if (pattern.test(line)) resolve(line);
      });
      child.once("exit", (code) => reject(new Error(`exited ${code} first:\n${seen.join("\n")}`)));
    });
  }

  test("SIGTERM to `faultline test` mid-experiment: stopped, JUnit interrupted, exit 143, no lab process left", {
    timeout: 90_000,
  }, async () => {
    const file = join(dir, "long.yaml");
    writeFileSync(
      file,
      stringify({
        name: "a long fault, cut short",
        lab: "lab.json",
        load: { rate: 4, invoke: { function: "fn" } },
        experiment: slowdown,
        windows: { warmup: 1, pre: 1, during: 120, post: 5 },
        assertions: {
          pre: { errorRate: { max: 0 } },
          during: { timeToEffect: { maxMs: 3000 } },
          after: { timeToRecover: { maxMs: 3000 } },
        },
      }),
    );
    const junit = join(dir, "interrupted.xml");
    const child = cli("test", file, "--junit", junit);
    let stdout = "";
    child.stdout!.on("data", (d) => {
      stdout += d;
    });
    const seen: string[] = [];
    try {
      await stderrLine(child, /experiment \S+ started/, seen);
      assert.ok(labOwnedProcesses(child.pid!).length > 0, "the lab it started runs the function");
      child.kill("SIGTERM");
      const [code] = await once(child, "exit");
      assert.equal(code, 143, `${stdout}\n${seen.join("\n")}`);
      assert.deepEqual(labOwnedProcesses(child.pid!), []);
      const xml = readFileSync(junit, "utf8");
      assert.match(xml, /<property name="interrupted" value="SIGTERM"\/>/);
      assert.match(
        xml,
        /name="during: run completed">\s*<error message="[^"]*interrupted by SIGTERM during the experiment/,
      );
      // StopExperiment went through the API: the experiment ended stopped, not completed or left running.
      assert.match(xml, /name="during: experiment completed">\s*<failure [^>]*>measured: stopped/);
      // The pre window was complete: its check was measured, not skipped.
      assert.match(xml, /name="pre: errorRate">\s*<(system-out|failure)[ >]/);
      assert.match(xml, /name="after: timeToRecover">\s*<skipped /);
      assert.match(stdout, /^INTERRUPTED \(SIGTERM\) {2}a long fault, cut short/m);
      assert.match(stdout, /^0 passed, 0 failed, 1 interrupted$/m);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });

  test("endpoints of a running `faultline up`, Invoke load on a function: the fault is seen, metrics read", {
    timeout: 90_000,
  }, async () => {
    const endpoints = await upEndpoints;
    const spec = parseTestSpec(
      {
        name: "fn stays up while it starts 300 ms late",
        // What `faultline up --json` printed.
        endpoints: { fis: endpoints.fis, lambda: endpoints.lambda, cloudwatch: endpoints.cloudwatch },
        load: { rate: 5, invoke: { function: "fn", payload: { n: 1 } } },
        experiment: slowdown,
        windows: { warmup: 1, pre: 2, during: 3, post: 2 },
        assertions: {
          pre: {
            errorRate: { max: 0 },
            // Nothing is injected before the fault: the extension's FaultInjected over the pre window reads 0.
            metrics: [
              {
                namespace: "aws-fis-extension",
                name: "FaultInjected",
                dimensions: { FaultId: "aws:lambda:invocation-add-delay", Invocation: "fn" },
                max: 0,
              },
            ],
          },
          during: {
            errorRate: { max: 0 },
            // (Time to effect is left out: on a loaded 2-core machine a 2 s pre window's p99 is too loose to judge.)
            metrics: [
              {
                namespace: "aws-fis-extension",
                name: "FaultInjected",
                dimensions: { FaultId: "aws:lambda:invocation-add-delay", Invocation: "fn" },
                min: 1,
              },
              { namespace: "AWS/Lambda", name: "Invocations", dimensions: { FunctionName: "fn" }, min: 5 },
            ],
          },
        },
      },
      join(dir, "invoke.yaml"),
      dir,
    );
    const result = await runResilienceTest(spec);
    const failed = result.verdicts.filter((v) => !v.passed).map((v) => v.message);
    const latencies = () =>
      result.records
        .map((r) => `${r.startMs - result.timeline!.faultStartMs}:${r.endMs - r.startMs}`)
        .join(" ");
    assert.deepEqual(failed, [], `${failed.join("\n")}\n(start from the fault: latency) ${latencies()}`);
    // Every request was an Invoke of fn, recorded with its status; the delay shows in their latency.
    assert.ok(result.records.length >= 5 * 7 * 0.8, `${result.records.length} requests`);
    assert.ok(result.records.every((r) => r.name === "fn" && r.status === 200));
    const t = result.timeline!;
    // From 1.5 s in (the extension's poll) to 0.5 s before the end (faults end exactly at endTime): all delayed.
    const during = result.records.filter(
      (r) => r.startMs >= t.faultStartMs + 1500 && r.startMs < t.faultEndMs - 500,
    );
    assert.ok(during.length > 0 && during.every((r) => r.endMs - r.startMs >= 300), latencies());
    const injected = result.verdicts.find((v) => v.name.startsWith("during: metric aws-fis-extension"))!;
    assert.match(injected.measured, /^[1-9]\d* over \d+\.\d s$/);
    // The experiment ran on the running `faultline up` (its FIS API knows it), and nothing was started here.
    const fis = new FisClient({
      endpoint: endpoints.fis,
      region: "us-east-1",
      credentials: { accessKeyId: "x", secretAccessKey: "x" },
    });
    const { experiment } = await fis.send(new GetExperimentCommand({ id: result.experimentId! }));
    fis.destroy();
    assert.equal(experiment?.state?.status, "completed");
    assert.deepEqual(labOwnedProcesses(process.pid), []);
  });
});
