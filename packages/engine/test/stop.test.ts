// Issue 9 item 2: a stop removes the faults whatever S3 does. S3 here is moto_server behind a real HTTP proxy
// that stalls chosen requests (an upload that never returns, deletes that hang).
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { S3Client } from "@aws-sdk/client-s3";
import { Engine, type EngineOptions, ManualClock } from "../src/index.ts";
import { credentials, Moto, readyEnv } from "./moto.ts";
import { seedTemplate } from "./seed.ts";
import { isDelete, isPut, type StalledRequest, StallingS3 } from "./stalling-s3.ts";

let moto: Moto;
let proxy: StallingS3;
let dir: string;
const BUCKET = "faults";

before(async () => {
  moto = await Moto.start();
  proxy = await StallingS3.start(moto.endpoint);
  dir = mkdtempSync(join(tmpdir(), "faultline-stop-"));
  await moto.bucket(BUCKET);
  const layer = await moto.layer();
  for (let i = 1; i <= 4; i++) {
    await moto.fn(`f${i}`, { tags: { FISExperimentReady: "Yes" }, layer, env: readyEnv(BUCKET) });
  }
});
after(async () => {
  await proxy?.close();
  await moto?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The S3 client a user would build, pointed at the stalling proxy (SDK retries off to keep counts exact). */
const proxiedS3 = () =>
  new S3Client({
    region: "us-east-1",
    endpoint: proxy.endpoint,
    credentials,
    forcePathStyle: true,
    maxAttempts: 1,
  });

let n = 0;
async function engine(options: Partial<EngineOptions> = {}) {
  const lines: string[] = [];
  const logged = new EventTarget();
  const clock = new ManualClock();
  const e = await Engine.open({
    dataDir: join(dir, `e${n++}`),
    lambda: moto.lambda(),
    s3: proxiedS3(),
    clock,
    log: (line) => {
      lines.push(line);
      logged.dispatchEvent(new Event("line"));
    },
    ...options,
  });
  /** Resolves once a log line matches. */
  const logLine = async (pattern: RegExp) => {
    while (!lines.some((l) => pattern.test(l))) await once(logged, "line");
    return lines.find((l) => pattern.test(l))!;
  };
  return { e, clock, lines, logLine };
}

/** An engine on `dataDir` (S3 through the proxy) with one experiment started and its faults written. */
async function startedExperiment(dataDir: string, shutdownTimeoutMs: number) {
  const first = await engine({ dataDir, callTimeoutMs: 60_000, shutdownTimeoutMs });
  const t = await first.e.createExperimentTemplate(seedTemplate());
  const x = await first.e.startExperiment({ experimentTemplateId: t.id });
  await first.e.idle(x.id);
  return { first, x };
}

/** The next engine on `dataDir`, as after a restart (S3 direct, no proxy). */
const reopen = (dataDir: string) =>
  Engine.open({ dataDir, lambda: moto.lambda(), s3: moto.s3(), log: () => {} });

/** A hang must fail the test, not stall the suite. */
const BOUND = { timeout: 20_000 };
const onF2 = (r: StalledRequest) => r.path.includes("/f2/");

describe("stop removes the faults whatever S3 does", () => {
  test(
    "a stop does not wait for a PutObject that never returns: it aborts the upload, then deletes",
    BOUND,
    async () => {
      // S3 stores f2's object but never answers; the engine's own call timeout (default) is far away.
      proxy.rule = (r) => (isPut(r) && onF2(r) ? "forward-then-hang" : "pass");
      const { e } = await engine();
      try {
        const t = await e.createExperimentTemplate(seedTemplate());
        const stalled = proxy.nextStall(onF2);
        const x = await e.startExperiment({ experimentTemplateId: t.id });
        await stalled;
        assert.equal((await moto.keys(BUCKET)).length, 4, "f2's object reached S3 although its PUT hangs");
        assert.equal(e.stopExperiment(x.id).state.status, "stopping");
        const done = await e.settled(x.id);
        assert.deepEqual(done.state, { status: "stopped", reason: "Experiment stopped by user." });
        assert.equal(done.actions.lat!.state.status, "stopped");
        assert.deepEqual(await moto.keys(BUCKET), []);
        assert.deepEqual(e.recordedFaultObjects(), []);
      } finally {
        proxy.rule = () => "pass";
        await e.close();
      }
    },
  );

  test(
    "an AWS call that never answers times out: the action fails saying so, and its objects are removed",
    BOUND,
    async () => {
      proxy.rule = (r) => (isPut(r) && onF2(r) ? "forward-then-hang" : "pass");
      const { e } = await engine({ callTimeoutMs: 300 });
      try {
        const t = await e.createExperimentTemplate(seedTemplate());
        const x = await e.startExperiment({ experimentTemplateId: t.id });
        const done = await e.settled(x.id);
        assert.equal(done.state.status, "failed");
        assert.match(
          done.actions.lat!.state.reason,
          /Could not write fault objects to S3: PutObject did not answer within 300 ms/,
        );
        assert.deepEqual(await moto.keys(BUCKET), []);
      } finally {
        proxy.rule = () => "pass";
        await e.close();
      }
    },
  );

  test(
    "deletes that S3 refuses are retried with backoff until the objects are gone; the experiment stays stopping until then; a second stop retries at once",
    BOUND,
    async () => {
      const { e, clock, lines, logLine } = await engine();
      try {
        const t = await e.createExperimentTemplate(seedTemplate());
        const x = await e.startExperiment({ experimentTemplateId: t.id });
        await e.idle(x.id);
        assert.equal((await moto.keys(BUCKET)).length, 4);
        proxy.rule = (r) => (isDelete(r) ? "refuse" : "pass");
        e.stopExperiment(x.id);
        assert.match(
          await logLine(/4 fault objects not deleted yet \(attempt 1\); retrying in 1000 ms/),
          new RegExp(`experiment ${x.id}: .*Please reduce your request rate`),
        );
        // Faults may still apply, so the experiment does not claim to be stopped.
        assert.equal(e.getExperiment(x.id).state.status, "stopping");
        assert.equal(e.recordedFaultObjects().length, 4);
        assert.ok(lines.some((l) => /^cannot delete s3:\/\/faults\/FisConfigs\/f\d\//.test(l)));
        // The backoff runs on the engine's clock: the next attempt comes when it is due, and waits longer.
        clock.advance(1000);
        await logLine(/not deleted yet \(attempt 2\); retrying in 2000 ms/);
        // S3 recovers; StopExperiment again does the work now rather than at the next backoff step.
        proxy.rule = () => "pass";
        assert.equal(e.stopExperiment(x.id).state.status, "stopping");
        const done = await e.settled(x.id);
        assert.deepEqual(done.state, { status: "stopped", reason: "Experiment stopped by user." });
        assert.deepEqual(await moto.keys(BUCKET), []);
        assert.deepEqual(e.recordedFaultObjects(), []);
      } finally {
        proxy.rule = () => "pass";
        await e.close();
      }
    },
  );

  test(
    "close() with an S3 that answers nothing returns within its shutdown budget; the next engine finishes the stop as stopped",
    BOUND,
    async () => {
      const dataDir = join(dir, "shutdown");
      const { first, x } = await startedExperiment(dataDir, 300);
      proxy.rule = () => "hang";
      try {
        await first.e.close();
        assert.ok(
          first.lines.some((l) => /4 fault objects are still recorded/.test(l)),
          first.lines.join("\n"),
        );
      } finally {
        proxy.rule = () => "pass";
      }
      assert.equal((await moto.keys(BUCKET)).length, 4);
      // The next engine on this data directory honours the recorded stop: stopped, not failed.
      const second = await reopen(dataDir);
      try {
        const done = await second.settled(x.id);
        assert.deepEqual(done.state, {
          status: "stopped",
          reason: "Experiment stopped: the faultline engine shut down.",
        });
        assert.equal(done.actions.lat!.state.status, "stopped");
        assert.deepEqual(await moto.keys(BUCKET), []);
      } finally {
        await second.close();
      }
    },
  );

  test(
    "the safety lever stays engaging while S3 swallows the deletes, through a shutdown; the next engine stops the experiment and engages it",
    BOUND,
    async () => {
      const dataDir = join(dir, "lever");
      const { first, x } = await startedExperiment(dataDir, 300);
      proxy.rule = (r) => (isDelete(r) ? "hang" : "pass");
      try {
        const deleting = proxy.nextStall(isDelete);
        const engaging = first.e.updateSafetyLeverState("default", {
          state: { status: "engaged", reason: "incident 7" },
        });
        assert.equal(engaging.state.status, "engaging");
        await deleting;
        // Not engaged while a fault object it is stopping may still be in S3.
        assert.equal(first.e.getSafetyLever("default").state.status, "engaging");
        await first.e.close();
      } finally {
        proxy.rule = () => "pass";
      }
      const second = await reopen(dataDir);
      try {
        const done = await second.settled(x.id);
        assert.deepEqual(done.state, {
          status: "stopped",
          reason: "Experiment stopped: the safety lever was engaged (incident 7).",
        });
        assert.deepEqual((await second.safetyLeverSettled()).state, {
          status: "engaged",
          reason: "incident 7",
        });
        assert.deepEqual(await moto.keys(BUCKET), []);
      } finally {
        await second.close();
      }
    },
  );

  test(
    "an experiment stopped just before a crash ends stopped after the restart, its faults removed",
    BOUND,
    async () => {
      const dataDir = join(dir, "crashed");
      const { first, x } = await startedExperiment(dataDir, 100);
      // The crash comes while the stop's deletes are in flight: S3 swallows them.
      proxy.rule = (r) => (isDelete(r) ? "hang" : "pass");
      const deleting = proxy.nextStall(isDelete);
      first.e.stopExperiment(x.id);
      await deleting;
      proxy.rule = () => "pass";
      // The first engine is abandoned here, as if killed; the next one opens its data directory.
      const second = await reopen(dataDir);
      try {
        const done = await second.settled(x.id);
        assert.deepEqual(done.state, { status: "stopped", reason: "Experiment stopped by user." });
        assert.equal(done.actions.lat!.state.status, "stopped");
        assert.deepEqual(await moto.keys(BUCKET), []);
      } finally {
        await second.close();
        await first.e.close(); // only to end its hung delete
      }
    },
  );
});
