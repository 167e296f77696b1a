/**
 * The change marker end to end on the lab: real functions (official aws-lambda-ric, the built layer, DEFAULT
 * polling settings: 60 s list poll, 1 s marker), the engine behind the FIS API driven by @aws-sdk/client-fis.
 * A function invoked every second sees a fault, and a stop, on the second invocation after the engine's write
 * (≤ 2 s at that rate) — in the external proxy and in the in-process mode. Objects written without a marker (as
 * AWS FIS writes them) still arrive on the list poll. Waits are on engine events and invocations, not on time;
 * the only timer paces the function at one invocation a second.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import {
  CreateExperimentTemplateCommand,
  type FisClient,
  StartExperimentCommand,
  StopExperimentCommand,
} from "@aws-sdk/client-fis";
import { InvokeCommand, type LambdaClient } from "@aws-sdk/client-lambda";
import { HeadObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { Engine } from "@faultline/engine";
import { serializeFaultConfig } from "@faultline/protocol";
import { error, faultConfig } from "../../extension/test/helpers/faults.ts";
import { testLayer } from "../../extension/test/helpers/layer.ts";
import { type Lab, startLab } from "../../lab/src/index.ts";
import { faultlineFunction, fisOnLab } from "./kit.ts";

/** faultline's defaults: the kit's 1 s list poll taken out again. */
function withDefaults(name: string, layer: string, environment: Record<string, string>) {
  const fn = faultlineFunction(name, { layer, environment });
  const { AWS_FIS_SLOW_POLL_INTERVAL_SECONDS, FAULTLINE_HOT_POLL_INTERVAL_SECONDS, ...env } = fn.environment;
  return { ...fn, environment: { ...env, ...environment } };
}

interface Invocation {
  startedMs: number;
  faulted: boolean;
}

/** Invokes `name` once a second (1 s from one's answer to the next call) until stopped; waitable per call. */
function pace(lambda: LambdaClient, name: string) {
  const seen: Invocation[] = [];
  const waiters = new Set<() => void>();
  let running = true;
  const loop = (async () => {
    while (running) {
      const startedMs = performance.now();
      const out = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: "{}" }));
      seen.push({ startedMs, faulted: out.FunctionError !== undefined });
      for (const wake of [...waiters]) wake();
      if (running) await sleep(1000);
    }
  })();
  return {
    /** The invocations started after `sinceMs`, once there are `count` of them. */
    async after(sinceMs: number, count: number): Promise<Invocation[]> {
      for (;;) {
        const later = seen.filter((i) => i.startedMs > sinceMs);
        if (later.length >= count) return later.slice(0, count);
        await new Promise<void>((resolve) => {
          const wake = () => {
            waiters.delete(wake);
            resolve();
          };
          waiters.add(wake);
        });
      }
    },
    async stop() {
      running = false;
      await loop;
    },
  };
}

describe("change marker on the lab: faults and stops reach a function invoked every second, default settings", () => {
  const dir = mkdtempSync(join(tmpdir(), "faultline-marker-lab-"));
  let lab: Lab;
  let engine: Engine;
  let fis: FisClient;
  let lambda: LambdaClient;
  let s3: S3Client;
  let onLab: Awaited<ReturnType<typeof fisOnLab>>;

  before(async () => {
    const layer = (await testLayer(join(dir, "faultline-layer.zip"))).zipPath;
    lab = await startLab({
      buckets: ["faults"],
      functions: [
        withDefaults("proxied", layer, { FAULTLINE_MODE: "external" }),
        withDefaults("inproc", layer, { FAULTLINE_MODE: "in-process" }),
        // AWS FIS's own objects carry no marker: only the list poll finds them (2 s here to keep the test short).
        withDefaults("fis-written", layer, { AWS_FIS_SLOW_POLL_INTERVAL_SECONDS: "2" }),
      ],
    });
    onLab = await fisOnLab(lab, join(dir, "data"));
    ({ lambda, s3, engine, fis } = onLab);
  });
  after(async () => {
    await onLab?.close();
    await lab?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** When the engine's `change` of a fault object of `fn` happened and its marker write ended. */
  function changed(fn: string, change: "written" | "deleted"): Promise<number> {
    return new Promise((resolve) => {
      const on = (e: { key: string; change: string }) => {
        if (e.change !== change || !e.key.includes(`/${fn}/`)) return;
        engine.events.off("fault-object", on);
        void engine.markers.settled().then(() => resolve(performance.now()));
      };
      engine.events.on("fault-object", on);
    });
  }

  test("external proxy and in-process: the 2nd invocation after the write is faulted, the 2nd after the stop is not", async () => {
    const names = ["proxied", "inproc"];
    const arn = (n: string) => `arn:aws:lambda:us-east-1:123456789012:function:${n}`;
    const template = (
      await fis.send(
        new CreateExperimentTemplateCommand({
          description: "marker",
          roleArn: "arn:aws:iam::123456789012:role/fis",
          stopConditions: [{ source: "none" }],
          targets: {
            fns: { resourceType: "aws:lambda:function", resourceArns: names.map(arn), selectionMode: "ALL" },
          },
          actions: {
            err: {
              actionId: "aws:lambda:invocation-error",
              parameters: { duration: "PT5M", preventExecution: "true" },
              targets: { Functions: "fns" },
            },
          },
        }),
      )
    ).experimentTemplate!;
    const loops = names.map((n) => pace(lambda, n));
    try {
      // Warm: past the cold start and its first list, into the steady one-check-a-second rhythm.
      await Promise.all(loops.map((l) => l.after(0, 2)));
      const written = Promise.all(names.map((n) => changed(n, "written")));
      const x = (await fis.send(new StartExperimentCommand({ experimentTemplateId: template.id })))
        .experiment!;
      const writtenAt = await written;
      for (const [i, name] of names.entries()) {
        const [first, second] = await loops[i]!.after(writtenAt[i]!, 2);
        assert.equal(
          second!.faulted,
          true,
          `${name}: faulted by the 2nd invocation after the write\n${lab.logs
            .events(name)
            .map((e) => e.message)
            .join("")}`,
        );
        void first;
      }
      const marker = await s3.send(
        new HeadObjectCommand({ Bucket: "faults", Key: "FisConfigs/.faultline/markers/proxied" }),
      );
      assert.ok(marker.ETag, "the engine wrote the function's marker");
      const deleted = Promise.all(names.map((n) => changed(n, "deleted")));
      await fis.send(new StopExperimentCommand({ id: x.id }));
      const deletedAt = await deleted;
      for (const [i, name] of names.entries()) {
        const later = await loops[i]!.after(deletedAt[i]!, 3);
        assert.deepEqual(
          later.slice(1).map((v) => v.faulted),
          [false, false],
          `${name}: not faulted from the 2nd invocation after the stop on\n${lab.logs
            .events(name)
            .map((e) => e.message)
            .join("")}`,
        );
      }
    } finally {
      await Promise.all(loops.map((l) => l.stop()));
    }
  });

  test("an object written without a marker (as AWS FIS writes) is still found by the list poll", async () => {
    const loop = pace(lambda, "fis-written");
    try {
      await loop.after(0, 1);
      await s3.send(
        new PutObjectCommand({
          Bucket: "faults",
          Key: "FisConfigs/fis-written/EXPFIS/err.json",
          Body: serializeFaultConfig(
            faultConfig({ ...error(true), experimentId: "EXPFIS", actionName: "err" }, Date.now() - 1000),
          ),
        }),
      );
      const writtenAt = performance.now();
      await assert.rejects(
        s3.send(
          new HeadObjectCommand({ Bucket: "faults", Key: "FisConfigs/.faultline/markers/fis-written" }),
        ),
        "no marker: nothing but the list poll can find it",
      );
      // List poll every 2 s, due on the invocation that finds it stale (held for it): within 3 invocations.
      const later = await loop.after(writtenAt, 3);
      assert.ok(
        later.some((v) => v.faulted),
        `picked up by the list poll: ${JSON.stringify(later)}`,
      );
    } finally {
      await loop.stop();
    }
  });
});
