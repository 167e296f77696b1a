/**
 * Engine + FIS API figures: 1000 functions declared in the lab (never invoked), start → every fault object
 * written, stop → every one removed, and GetExperiment latency through @aws-sdk/client-fis.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  FisClient,
  GetExperimentCommand,
  StartExperimentCommand,
  StopExperimentCommand,
} from "@aws-sdk/client-fis";
import { DeleteObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { startApi } from "../../packages/api/src/index.ts";
import { Engine, mapLimit } from "../../packages/engine/src/index.ts";
import { buildLayer } from "../../packages/extension/src/layer.ts";
import { startLab } from "../../packages/lab/src/index.ts";
import { benchTemplate, BENCH_CREDENTIALS as creds, FN_DIR, labSdkClients } from "./shared.ts";

function percentile(sorted: number[], p: number): number {
  return Number(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!.toFixed(3));
}

export async function benchEngine(log: (line: string) => void, functions = 1000) {
  const dir = mkdtempSync(join(tmpdir(), "faultline-bench-engine-"));
  // The real layer: readiness reads its faultline/VERSION (once: the 1000 functions share it); nothing runs.
  const layer = (await buildLayer({ out: join(dir, "faultline-layer.zip") })).zipPath;
  const lab = await startLab({
    buckets: ["faults"],
    functions: Array.from({ length: functions }, (_, i) => ({
      name: `fn-${i}`,
      runtime: "nodejs20.x" as const,
      handler: "index.handler",
      code: FN_DIR,
      layers: [layer],
      tags: { bench: "yes" },
      environment: {
        AWS_LAMBDA_EXEC_WRAPPER: "/opt/faultline/bootstrap",
        AWS_FIS_CONFIGURATION_LOCATION: "arn:aws:s3:::faults/FisConfigs/",
      },
    })),
  });
  const clients = labSdkClients(lab);
  const { lambda, tagging, s3 } = clients;
  const engine = await Engine.open({ dataDir: join(dir, "data"), lambda, s3, tagging, concurrency: 32, log });
  const api = await startApi(engine);
  const fis = new FisClient({ region: "us-east-1", endpoint: api.url, credentials: creds });
  try {
    const t = await benchTemplate(
      engine,
      { bench: "yes" },
      { name: "lat", actionId: "aws:lambda:invocation-add-delay", parameters: { duration: "PT10M" } },
    );
    let t0 = performance.now();
    let written = 0;
    let removed = 0;
    let allWritten!: () => void;
    let allRemoved!: () => void;
    const writtenP = new Promise<void>((r) => (allWritten = r));
    const removedP = new Promise<void>((r) => (allRemoved = r));
    engine.events.on("fault-object", (e) => {
      if (e.change === "written" && ++written === functions) allWritten();
      if (e.change === "deleted" && ++removed === functions) allRemoved();
    });
    engine.events.on("experiment", (e) =>
      log(`${(performance.now() - t0).toFixed(0)} ms: ${e.detail["new-state"].status}`),
    );
    // Baseline, same run: the floor for the engine's write phase — the same number of fault-object-sized
    // PutObject (then DeleteObject) calls issued straight through the SDK at the engine's concurrency.
    const keys = Array.from({ length: functions }, (_, i) => `baseline/fn-${i}/EXP/lat.json`);
    const body = JSON.stringify({ version: 1, pad: "x".repeat(240) });
    // Warm the client (sockets, JIT) first, as the engine's has been by the time it writes.
    await mapLimit(keys.slice(0, 64), 32, (Key) =>
      s3.send(new PutObjectCommand({ Bucket: "faults", Key, Body: body })),
    );
    const b0 = performance.now();
    await mapLimit(keys, 32, (Key) =>
      s3.send(new PutObjectCommand({ Bucket: "faults", Key, Body: body, ContentType: "application/json" })),
    );
    const baselinePutMs = performance.now() - b0;
    const b1 = performance.now();
    await mapLimit(keys, 32, (Key) => s3.send(new DeleteObjectCommand({ Bucket: "faults", Key })));
    const baselineDeleteMs = performance.now() - b1;

    log(`engine bench: starting an experiment over ${functions} functions`);
    t0 = performance.now();
    const x = (await fis.send(new StartExperimentCommand({ experimentTemplateId: t.id }))).experiment!;
    await writtenP;
    const startMs = performance.now() - t0;

    const samples: number[] = [];
    for (let i = 0; i < 2200; i++) {
      const s = performance.now();
      await fis.send(new GetExperimentCommand({ id: x.id }));
      if (i >= 200) samples.push(performance.now() - s);
    }
    samples.sort((a, b) => a - b);

    const t1 = performance.now();
    await fis.send(new StopExperimentCommand({ id: x.id }));
    await removedP;
    await engine.settled(x.id!);
    const stopMs = performance.now() - t1;
    return {
      functions,
      startToAllFaultObjectsWrittenMs: Math.round(startMs),
      stopToAllFaultObjectsRemovedMs: Math.round(stopMs),
      baseline: {
        sdkPutsMs: Math.round(baselinePutMs),
        sdkDeletesMs: Math.round(baselineDeleteMs),
        startVsSdkPuts: Number((startMs / baselinePutMs).toFixed(2)),
        stopVsSdkDeletes: Number((stopMs / baselineDeleteMs).toFixed(2)),
      },
      getExperiment: {
        p50Ms: percentile(samples, 50),
        p99Ms: percentile(samples, 99),
        requests: samples.length,
      },
    };
  } finally {
    fis.destroy();
    await api.close();
    await engine.close();
    clients.destroy();
    await lab.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
