/**
 * Acceptance on the lab: real function processes (official aws-lambda-ric) with the built faultline layer,
 * the lab's Lambda API and S3, the engine behind the FIS API, driven by @aws-sdk/client-fis and the AWS CLI.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  CreateExperimentTemplateCommand,
  type FisClient,
  GetExperimentCommand,
  ListExperimentResolvedTargetsCommand,
  StartExperimentCommand,
  StopExperimentCommand,
} from "@aws-sdk/client-fis";
import { InvokeCommand, type LambdaClient } from "@aws-sdk/client-lambda";
import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import type { Engine } from "@faultline/engine";
import { FAULTLINE_VERSION } from "@faultline/protocol";
import { seedTemplate } from "../../engine/test/seed.ts";
import { testLayer } from "../../extension/test/helpers/layer.ts";
import { type Lab, startLab } from "../../lab/src/index.ts";
import { awsCliV1, awsCliV2 } from "../../testing/src/index.ts";
import type { RunningApi } from "../src/index.ts";
import { awsCli, faultlineFunction, fisOnLab } from "./kit.ts";

describe("engine + API on the lab (real functions with the faultline layer)", () => {
  const dir = mkdtempSync(join(tmpdir(), "faultline-engine-lab-"));
  let lab: Lab;
  let engine: Engine;
  let api: RunningApi;
  let fis: FisClient;
  let lambda: LambdaClient;
  let s3: S3Client;
  let onLab: Awaited<ReturnType<typeof fisOnLab>>;
  const engineSays: string[] = [];

  before(async () => {
    const layer = await testLayer(join(dir, "faultline-layer.zip"));
    // Two layers that pass for faultline's by name but would inject nothing new: an older extension, and
    // a layer without the version file `faultline layer build` writes.
    const legacy = join(dir, "faultline-legacy");
    mkdirSync(join(legacy, "faultline"), { recursive: true });
    writeFileSync(join(legacy, "faultline", "VERSION"), "0.0.9\n");
    const impostor = join(dir, "faultline-impostor");
    mkdirSync(impostor, { recursive: true });
    writeFileSync(join(impostor, "README"), "not an extension\n");
    const fn = (name: string, tags: Record<string, string>, layerPath = layer.zipPath) =>
      faultlineFunction(name, { layer: layerPath, tags });
    lab = await startLab({
      buckets: ["faults"],
      functions: [
        { ...fn("orders", { FISExperimentReady: "Yes" }), aliases: ["live"] },
        fn("payments", { team: "pay" }),
        fn("legacy", { stale: "yes" }, legacy),
        fn("impostor", { stale: "yes" }, impostor),
      ],
    });
    onLab = await fisOnLab(lab, join(dir, "data"), (m) => engineSays.push(m));
    ({ lambda, s3, engine, api, fis } = onLab);
  });
  after(async () => {
    await onLab?.close();
    await lab?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const timedInvoke = async (name: string) => {
    const started = performance.now();
    const out = await lambda.send(
      new InvokeCommand({ FunctionName: name, Payload: JSON.stringify({ n: 1 }) }),
    );
    return { ms: performance.now() - started, out };
  };
  /** Invokes until `done` holds (the extension polls every second), for at most `limitMs`. */
  const invokeUntil = async (
    name: string,
    done: (r: Awaited<ReturnType<typeof timedInvoke>>) => boolean,
    limitMs = 8000,
  ) => {
    const deadline = performance.now() + limitMs;
    while (performance.now() < deadline) {
      const r = await timedInvoke(name);
      if (done(r)) return r;
    }
    assert.fail(`${name}: condition never held within ${limitMs} ms`);
  };
  const faultKeys = async () =>
    ((await s3.send(new ListObjectsV2Command({ Bucket: "faults" }))).Contents ?? [])
      .map((o) => o.Key!)
      .filter((k) => !k.includes("/.faultline/markers/")); // the change markers stay (not fault objects)

  test("SDK: the seed template delays invocations by 2000 ms until it completes", async () => {
    const tpl = seedTemplate();
    tpl.actions.lat.parameters.duration = "PT6S";
    const t = (await fis.send(new CreateExperimentTemplateCommand(tpl as never))).experimentTemplate!;
    const before = await timedInvoke("orders");
    assert.ok(before.ms < 1000, `baseline ${before.ms} ms`);
    const x = (await fis.send(new StartExperimentCommand({ experimentTemplateId: t.id }))).experiment!;
    const delayed = await invokeUntil("orders", (r) => r.ms >= 2000);
    assert.equal(delayed.out.FunctionError, undefined);
    // Only the tagged function was targeted.
    assert.ok((await timedInvoke("payments")).ms < 1000);
    const done = await engine.settled(x.id!);
    assert.equal(done.state.status, "completed");
    assert.equal(
      (await fis.send(new GetExperimentCommand({ id: x.id }))).experiment!.state!.status,
      "completed",
    );
    assert.deepEqual(await faultKeys(), []);
    await invokeUntil("orders", (r) => r.ms < 1000);
  });

  test("AWS CLI v1: two actions ordered by startAfter (delay, then error) on the seed's tag-selected target", async () => {
    const cli = awsCli(awsCliV1, "fis", api.url);
    const tpl = seedTemplate();
    tpl.actions.lat.parameters.duration = "PT4S";
    tpl.actions.err = {
      actionId: "aws:lambda:invocation-error",
      parameters: { duration: "PT4S", preventExecution: "true" },
      targets: { Functions: "fns" },
      startAfter: ["lat"],
    };
    const file = join(dir, "ordered.json");
    writeFileSync(file, JSON.stringify(tpl));
    const t = (await cli("create-experiment-template", "--cli-input-json", `file://${file}`))
      .experimentTemplate;
    const x = (await cli("start-experiment", "--experiment-template-id", t.id)).experiment;
    const delayed = await invokeUntil("orders", (r) => r.ms >= 2000);
    assert.equal(delayed.out.FunctionError, undefined);
    await invokeUntil("orders", (r) => r.out.FunctionError !== undefined);
    const done = await engine.settled(x.id);
    assert.equal(done.state.status, "completed");
    assert.ok(done.actions.lat!.endTime! <= done.actions.err!.startTime!);
    assert.equal((await cli("get-experiment", "--id", x.id)).experiment.state.status, "completed");
    assert.deepEqual(await faultKeys(), []);
    await invokeUntil("orders", (r) => r.out.FunctionError === undefined && r.ms < 1000);
  });

  test("AWS CLI v2: an error fault, stopped mid-experiment, stops failing", async () => {
    const cli = awsCli(awsCliV2, "fis", api.url);
    const tpl = seedTemplate();
    tpl.targets.fns.resourceTags = { team: "pay" };
    tpl.actions = {
      err: {
        actionId: "aws:lambda:invocation-error",
        parameters: { duration: "PT10M", preventExecution: "true" },
        targets: { Functions: "fns" },
      },
    };
    const file = join(dir, "err.json");
    writeFileSync(file, JSON.stringify(tpl));
    const t = (await cli("create-experiment-template", "--cli-input-json", `file://${file}`))
      .experimentTemplate;
    const x = (await cli("start-experiment", "--experiment-template-id", t.id)).experiment;
    await invokeUntil("payments", (r) => r.out.FunctionError !== undefined);
    await cli("stop-experiment", "--id", x.id);
    const done = await engine.settled(x.id);
    assert.equal(done.state.status, "stopped");
    assert.deepEqual(await faultKeys(), []);
    await invokeUntil("payments", (r) => r.out.FunctionError === undefined);
  });

  test("readiness reads each layer's extension version: older or unversioned layers are refused in words", async () => {
    const targetsOf = async (tags: Record<string, string>, actionsMode?: "skip-all") => {
      const tpl = seedTemplate();
      tpl.targets.fns.resourceTags = tags;
      const t = (await fis.send(new CreateExperimentTemplateCommand(tpl as never))).experimentTemplate!;
      // client-fis 3.523 predates StartExperiment's experimentOptions: a preview starts in-process.
      const x = actionsMode
        ? await engine.startExperiment({ experimentTemplateId: t.id, experimentOptions: { actionsMode } })
        : (await fis.send(new StartExperimentCommand({ experimentTemplateId: t.id }))).experiment!;
      const done = await engine.settled(x.id!);
      const listed = await fis.send(new ListExperimentResolvedTargetsCommand({ experimentId: x.id }));
      const byName = Object.fromEntries(
        (listed.resolvedTargets ?? []).map((r) => [r.targetInformation!.functionName!, r.targetInformation!]),
      );
      return { done, byName };
    };

    const ready = await targetsOf({ FISExperimentReady: "Yes" }, "skip-all");
    assert.deepEqual(Object.keys(ready.byName), ["orders"]);
    assert.equal(ready.byName.orders!.ready, "true");
    assert.equal(ready.byName.orders!.extensionVersion, FAULTLINE_VERSION);
    assert.equal(ready.byName.orders!.extension, `faultline ${FAULTLINE_VERSION}`);

    const preview = await targetsOf({ stale: "yes" }, "skip-all");
    assert.deepEqual(Object.keys(preview.byName).sort(), ["impostor", "legacy"]);
    assert.equal(preview.byName.legacy!.ready, "false");
    assert.equal(preview.byName.legacy!.extensionVersion, "0.0.9");
    assert.match(
      preview.byName.legacy!.problems!,
      new RegExp(
        `faultline extension 0\\.0\\.9 .*older than this engine's ${FAULTLINE_VERSION.replaceAll(".", "\\.")}`,
      ),
    );
    assert.equal(preview.byName.impostor!.ready, "false");
    // Named like faultline's layer, but without faultline/VERSION: readiness goes by content, not by name.
    assert.match(preview.byName.impostor!.problems!, /none of its layers .* contains faultline\/VERSION/);

    // Started for real, the same targets fail the action with those words, and nothing is written.
    const started = await targetsOf({ stale: "yes" });
    assert.equal(started.done.state.status, "failed");
    assert.match(
      started.done.state.reason ?? "",
      /Targets are not ready for faultline: .*older than this engine's/,
    );
    assert.deepEqual(await faultKeys(), []);
    // Tags were resolved with tag:GetResources; a fallback to ListTags would have been logged.
    assert.deepEqual(
      engineSays.filter((m) => m.includes("GetResources")),
      [],
    );
  });

  test("SDK: functionQualifier — a fault on alias live reaches orders:live, not the unqualified orders", async () => {
    const tpl = seedTemplate();
    tpl.targets.fns = {
      resourceType: "aws:lambda:function",
      resourceArns: ["arn:aws:lambda:us-east-1:123456789012:function:orders"],
      selectionMode: "ALL",
      parameters: { functionQualifier: "live" },
    };
    const t = (await fis.send(new CreateExperimentTemplateCommand(tpl as never))).experimentTemplate!;
    const x = (await fis.send(new StartExperimentCommand({ experimentTemplateId: t.id }))).experiment!;
    const delayed = await invokeUntil("orders:live", (r) => r.ms >= 2000);
    assert.equal(delayed.out.ExecutedVersion, "$LATEST");
    // The same function invoked unqualified ($LATEST) is not the target: several tries, none delayed.
    for (let i = 0; i < 3; i++) assert.ok((await timedInvoke("orders")).ms < 1000);
    await fis.send(new StopExperimentCommand({ id: x.id }));
    assert.equal((await engine.settled(x.id!)).state.status, "stopped");
    assert.deepEqual(await faultKeys(), []);
  });
});
