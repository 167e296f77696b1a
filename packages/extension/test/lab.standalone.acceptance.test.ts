/**
 * The standalone layer (`faultline layer build --standalone`, its default build) on an OS-only runtime under the
 * lab: a provided.al2023 function whose bootstrap is bash + curl, with no node anywhere it can look (the lab hides
 * the host's node from provided.* runtimes, as Lambda's runtimes-provided describes "an OS environment" with no
 * language runtime: packages/lab/test/env-isolation.test.ts). So the extension can only be running on the
 * layer's own node. The BUILT LAYER ZIP unmodified; fault objects by @aws-sdk/client-s3; invocations by
 * @aws-sdk/client-lambda.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createEnvironmentFactory } from "../../lab/src/environment/index.ts";
import { assertDelayed, assertInvocationError, type FaultLab, startFaultLab } from "./helpers/fault-lab.ts";
import { delay, error } from "./helpers/faults.ts";

const BOOTSTRAP_DIR = join(import.meta.dirname, "fixtures", "provided");
const namespaced = createEnvironmentFactory().sandbox === "namespace";
// Only the namespace sandbox can hide the host's node; under CI (root) it must be there.
const needsNamespace =
  namespaced || process.env.CI === "true" ? {} : { skip: "needs the namespace sandbox (root)" };
// Long enough that a lab stop finishing at all proves the extension left on SHUTDOWN (it is SIGKILLed after it).
const SHUTDOWN_GRACE_MS = 60_000;

describe(
  "standalone layer on provided.al2023 (bash bootstrap, no node in the environment)",
  needsNamespace,
  () => {
    let t: FaultLab;
    let stopped = false;

    before(async () => {
      t = await startFaultLab({
        standalone: true,
        functions: ["plain", "delayed", "failing", "failing-late"].map((name) => ({
          name,
          runtime: "provided.al2023" as const,
          handler: "function.handler",
          code: BOOTSTRAP_DIR,
        })),
        labOptions: { environmentOptions: { shutdownGraceMs: SHUTDOWN_GRACE_MS } },
      });
    });
    after(async () => {
      if (!stopped) await t?.stop();
    });

    const payload = (out: { Payload?: Uint8Array }) => JSON.parse(Buffer.from(out.Payload ?? []).toString());

    it("passes through, with no node on the function's PATH, and the extension announces itself", async () => {
      const out = await t.invoke("plain", { n: 1 });
      assert.equal(out.FunctionError, undefined);
      assert.deepEqual(payload(out), { ok: true, n: 1, node: "" }, "no node for the function");
      assert.ok(
        t.lab.logs.events("plain").some((e) => e.message.includes("FAULTLINE EXTENSION - extension enabled")),
        "the extension started, so on the layer's own node",
      );
    });

    it("add-delay is observed by the caller", async () => {
      await t.putFault("delayed", { ...delay(700), actionName: "lat" });
      const out = await assertDelayed(t, "delayed", 700, { n: 2 });
      assert.deepEqual(payload(out), { ok: true, n: 2, node: "" });
      assert.ok(
        t.lab.logs.events("delayed").some((e) => e.message.includes("adding 700 milliseconds of latency")),
      );
    });

    it("invocation-error with preventExecution: FunctionError, and the bootstrap provably did not run", async () => {
      await t.putFault("failing", { ...error(true), actionName: "err" });
      const out = await assertInvocationError(t, "failing", false);
      assert.equal(payload(out).errorType, "FaultInjectionError");
    });

    it("invocation-error without preventExecution: FunctionError after the bootstrap ran", async () => {
      await t.putFault("failing-late", { ...error(false), actionName: "err" });
      await assertInvocationError(t, "failing-late", true);
    });

    // Extensions API docs: on SHUTDOWN an extension cleans up and exits; Lambda SIGKILLs it after the deadline.
    it("SHUTDOWN: the extension exits by itself (the lab stops long before the 60 s grace)", {
      timeout: 30_000,
    }, async () => {
      stopped = true;
      // A stop this slow is failing: print what the functions logged, so a CI log shows which part hung.
      const dump = setTimeout(() => {
        for (const fn of ["plain", "delayed", "failing", "failing-late"])
          for (const e of t.lab.logs.events(fn))
            process.stderr.write(`slow stop, ${fn} logged: ${e.message}\n`);
      }, 20_000);
      await t.stop();
      clearTimeout(dump);
    });
  },
);
