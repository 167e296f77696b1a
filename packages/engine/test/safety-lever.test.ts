// The safety lever (FIS user guide, "Safety levers for AWS FIS"): engaged, it stops every running experiment
// (they end `stopped`) and experiments started while it is engaged end `cancelled`; disengaged by default.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  ConflictException,
  Engine,
  ManualClock,
  ResourceNotFoundException,
  type SafetyLever,
  ValidationException,
} from "../src/index.ts";
import { Moto, readyEnv } from "./moto.ts";
import { seedTemplate } from "./seed.ts";

let moto: Moto;
let dir: string;
const BUCKET = "faults";

before(async () => {
  moto = await Moto.start();
  dir = mkdtempSync(join(tmpdir(), "faultline-lever-"));
  await moto.bucket(BUCKET);
  const layer = await moto.layer();
  for (const name of ["l1", "l2"]) {
    await moto.fn(name, { tags: { FISExperimentReady: "Yes" }, layer, env: readyEnv(BUCKET) });
  }
});
after(async () => {
  await moto?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const open = (dataDir: string) =>
  Engine.open({ dataDir, lambda: moto.lambda(), s3: moto.s3(), clock: new ManualClock(), log: () => {} });
const engage = (reason: string) => ({ state: { status: "engaged", reason } });
const disengage = (reason: string) => ({ state: { status: "disengaged", reason } });

describe("safety lever", () => {
  test("GetSafetyLever: id default, disengaged; other ids are not found; bad updates name the field", async () => {
    const e = await open(join(dir, "get"));
    try {
      const lever = e.getSafetyLever("default");
      assert.equal(lever.id, "default");
      assert.equal(lever.arn, "arn:aws:fis:us-east-1:123456789012:safety-lever/default");
      assert.equal(lever.state.status, "disengaged");
      assert.throws(() => e.getSafetyLever("SL123"), ResourceNotFoundException);
      assert.throws(() => e.updateSafetyLeverState("SL123", engage("x")), ResourceNotFoundException);
      assert.throws(
        () => e.updateSafetyLeverState("default", {}),
        /^ValidationException: state: is required/,
      );
      for (const [body, message] of [
        [{ state: { status: "engaging", reason: "x" } }, /state\.status: must be "engaged" or "disengaged"/],
        [{ state: { status: "engaged" } }, /state\.reason: is required/],
        [{ state: { status: "engaged", reason: "x", colour: "red" } }, /state\.colour: is not a known field/],
      ] as const) {
        assert.throws(
          () => e.updateSafetyLeverState("default", body),
          (err: unknown) => err instanceof ValidationException && message.test(err.message),
        );
      }
    } finally {
      await e.close();
    }
  });

  test("engaging stops every running experiment (faults removed), then the lever is engaged", async () => {
    const e = await open(join(dir, "engage"));
    try {
      const t = await e.createExperimentTemplate(seedTemplate());
      const x = await e.startExperiment({ experimentTemplateId: t.id });
      await e.idle(x.id);
      assert.equal(e.getExperiment(x.id).state.status, "running");
      assert.equal((await moto.keys(BUCKET)).length, 2);
      const levers: SafetyLever[] = [];
      e.events.on("safety-lever", (l) => levers.push(l));

      const answer = e.updateSafetyLeverState("default", engage("game day over"));
      assert.deepEqual(answer.state, { status: "engaging", reason: "game day over" });
      assert.equal(e.getExperiment(x.id).state.status, "stopping");
      const engaged = await e.safetyLeverSettled();
      assert.deepEqual(engaged.state, { status: "engaged", reason: "game day over" });
      // engaging → engaged only once the stop is done: the experiment has ended and its faults are gone.
      const stopped = e.getExperiment(x.id);
      assert.deepEqual(stopped.state, {
        status: "stopped",
        reason: "Experiment stopped: the safety lever was engaged (game day over).",
      });
      assert.equal(stopped.actions.lat!.state.status, "stopped");
      assert.deepEqual(await moto.keys(BUCKET), []);
      assert.deepEqual(
        levers.map((l) => l.state.status),
        ["engaging", "engaged"],
      );
    } finally {
      await e.close();
    }
  });

  test("while engaged StartExperiment gives a cancelled experiment that writes nothing; disengaged, it runs", async () => {
    const e = await open(join(dir, "cancel"));
    try {
      const t = await e.createExperimentTemplate(seedTemplate());
      e.updateSafetyLeverState("default", engage("freeze"));
      await e.safetyLeverSettled();
      const x = await e.startExperiment({ experimentTemplateId: t.id });
      assert.deepEqual(x.state, {
        status: "cancelled",
        reason: "Experiment cancelled: the safety lever is engaged (freeze).",
      });
      assert.equal(x.actions.lat!.state.status, "cancelled");
      await e.idle();
      assert.deepEqual(await moto.keys(BUCKET), []);
      assert.deepEqual(e.listExperimentResolvedTargets(x.id).resolvedTargets, []);
      // Same state, same reason: unchanged. Same state, another reason: ConflictException (as FIS answers).
      assert.equal(e.updateSafetyLeverState("default", engage("freeze")).state.status, "engaged");
      assert.throws(() => e.updateSafetyLeverState("default", engage("other")), ConflictException);
      const off = e.updateSafetyLeverState("default", disengage("thaw"));
      assert.deepEqual(off.state, { status: "disengaged", reason: "thaw" });
      const y = await e.startExperiment({ experimentTemplateId: t.id });
      await e.idle(y.id);
      assert.equal(e.getExperiment(y.id).state.status, "running");
      e.stopExperiment(y.id);
      await e.settled(y.id);
    } finally {
      await e.close();
    }
  });

  test("an engaged lever stays engaged across a restart", async () => {
    const dataDir = join(dir, "durable");
    const first = await open(dataDir);
    const t = await first.createExperimentTemplate(seedTemplate());
    first.updateSafetyLeverState("default", engage("incident 42"));
    await first.safetyLeverSettled();
    await first.close();
    const second = await open(dataDir);
    try {
      assert.deepEqual(second.getSafetyLever("default").state, { status: "engaged", reason: "incident 42" });
      const x = await second.startExperiment({ experimentTemplateId: t.id });
      assert.equal(x.state.status, "cancelled");
    } finally {
      await second.close();
    }
  });
});
