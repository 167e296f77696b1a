import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { serializeFaultConfig } from "@faultline/protocol";
import { FaultPoller, planInvocation, S3ObjectStore } from "../src/index.ts";
import { delay, error, faultConfig, manualClock, testLogger } from "./helpers/faults.ts";
import { BUCKET, CREDENTIALS, startS3 } from "./helpers/s3.ts";

const PREFIX = "fis/demo/";
const identity = {
  invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:demo",
  functionVersion: "$LATEST",
};

describe("FaultPoller against a real S3 server (s3rver)", () => {
  let s3: Awaited<ReturnType<typeof startS3>>;
  let n = 0;
  before(async () => {
    s3 = await startS3();
  });
  after(async () => {
    await s3.close();
  });

  function setup() {
    const clock = manualClock();
    const lines: string[] = [];
    const store = new S3ObjectStore(BUCKET, { endpoint: s3.endpoint, region: "us-east-1", ...CREDENTIALS });
    const prefix = `run${++n}/${PREFIX}`;
    const log = testLogger(clock, (l) => lines.push(l), { metrics: true });
    const poller = new FaultPoller({
      store,
      prefix,
      functionName: "demo",
      clock,
      log,
      slowPollMs: 60_000,
      hotPollMs: 5000,
    });
    return { clock, lines, store, prefix, poller };
  }
  let ctx: ReturnType<typeof setup>;
  beforeEach(() => {
    ctx = setup();
  });

  it("lists once per poll and fetches only new or changed objects", async () => {
    const { clock, store, prefix, poller } = ctx;
    await s3.put(`${prefix}EXP1/a.json`, serializeFaultConfig(faultConfig(delay(100), clock.now())));
    await s3.put(`${prefix}EXP1/b.json`, serializeFaultConfig(faultConfig(error(true), clock.now())));
    await s3.put(
      `run${n}/fis/other/EXP1/a.json`,
      serializeFaultConfig(faultConfig(error(true), clock.now())),
    );
    await poller.poll();
    assert.equal(store.requestCount, 3, "1 list + 2 gets");
    assert.equal(poller.faults().length, 2);
    await poller.poll();
    assert.equal(store.requestCount, 4, "unchanged: 1 list only");
    await s3.put(`${prefix}EXP1/a.json`, serializeFaultConfig(faultConfig(delay(300), clock.now())));
    await poller.poll();
    assert.equal(store.requestCount, 6, "changed ETag: 1 list + 1 get");
    assert.equal(planInvocation(poller.faults(), clock.now(), identity, () => 0).delay?.milliseconds, 300);
    await s3.delete(`${prefix}EXP1/b.json`);
    await poller.poll();
    assert.deepEqual(
      poller.faults().map((f) => f.actionId),
      ["aws:lambda:invocation-add-delay"],
    );
    store.close();
  });

  it("ignores malformed and unknown-version objects, logging each once", async () => {
    const { clock, lines, prefix, poller, store } = ctx;
    await s3.put(`${prefix}EXP2/bad.json`, "{not json");
    await s3.put(
      `${prefix}EXP2/v9.json`,
      JSON.stringify({ ...faultConfig(delay(1), clock.now()), version: 9 }),
    );
    await s3.put(`${prefix}EXP2/good.json`, serializeFaultConfig(faultConfig(delay(5), clock.now())));
    await poller.poll();
    await poller.poll();
    assert.equal(poller.faults().length, 1);
    const ignored = lines.filter((l) => l.includes("ignoring fault configuration"));
    assert.equal(ignored.length, 2, ignored.join("\n"));
    assert.match(ignored.join("\n"), /v9\.json: version: unsupported version 9/);
    store.close();
  });

  it("polls hot while a fault is active or scheduled, slow otherwise", async () => {
    const { clock, prefix, poller, store } = ctx;
    await poller.poll();
    assert.equal(poller.intervalMs(), 60_000);
    await s3.put(
      `${prefix}EXP3/later.json`,
      serializeFaultConfig(faultConfig(delay(5), clock.now() + 90_000, 10_000)),
    );
    clock.advance(60_000);
    assert.ok(poller.isStale());
    await poller.refreshIfStale(1000);
    assert.equal(poller.intervalMs(), 5000, "scheduled → hot");
    clock.advance(4999);
    assert.ok(!poller.isStale());
    clock.advance(100_000);
    assert.equal(poller.intervalMs(), 60_000, "ended → slow");
    store.close();
  });

  it("fails open when S3 is down: keeps known faults until their endTime, logs the error once", async () => {
    const down = await startS3();
    const clock = manualClock();
    const lines: string[] = [];
    const store = new S3ObjectStore(BUCKET, { endpoint: down.endpoint, region: "us-east-1", ...CREDENTIALS });
    const log = testLogger(clock, (l) => lines.push(l));
    const poller = new FaultPoller({
      store,
      prefix: PREFIX,
      functionName: "demo",
      clock,
      log,
      slowPollMs: 60_000,
      hotPollMs: 5000,
    });
    await down.put(
      `${PREFIX}EXP4/e.json`,
      serializeFaultConfig(faultConfig(error(true), clock.now(), 10_000)),
    );
    await poller.poll();
    await down.stop();
    for (let i = 0; i < 3; i++) {
      clock.advance(3000);
      await poller.poll();
    }
    const failures = lines.filter((l) => l.includes("failed to retrieve active fault configurations"));
    assert.equal(failures.length, 1, lines.join("\n"));
    assert.match(failures[0] ?? "", /ListObjectsV2 on S3: ECONNREFUSED/);
    assert.equal(
      planInvocation(poller.faults(), clock.now(), identity, () => 0).outcome?.preventExecution,
      true,
    );
    clock.advance(1000);
    assert.deepEqual(
      planInvocation(poller.faults(), clock.now(), identity, () => 0),
      {},
      "ended on time",
    );
    store.close();
    await down.close();
  });

  it("emits EMF poll-duration metrics when metrics are on", async () => {
    const { lines, poller, store } = ctx;
    await poller.poll();
    const emf = lines.map((l) => (l.startsWith("{") ? JSON.parse(l) : undefined)).filter(Boolean);
    assert.equal(emf[0]?._aws.CloudWatchMetrics[0].Namespace, "aws-fis-extension");
    assert.equal(emf[0]?.Invocation, "demo");
    assert.equal(typeof emf[0]?.PollDuration, "number");
    store.close();
  });

  it("holds invocations at most the wait budget per poll, even when the store hangs", async () => {
    const clock = manualClock();
    let release!: () => void;
    const hanging = {
      requestCount: 0,
      list: () => new Promise<[]>((resolve) => (release = () => resolve([]))),
      get: () => Promise.reject(new Error("unused")),
      etagIfChanged: () => Promise.reject(new Error("unused")),
    };
    const log = testLogger(clock, () => {}, { level: "ERROR" });
    const poller = new FaultPoller({
      store: hanging,
      prefix: PREFIX,
      functionName: "demo",
      clock,
      log,
      slowPollMs: 60_000,
      hotPollMs: 5000,
    });
    let settled = false;
    const first = poller.refreshIfStale(30).then(() => (settled = true));
    await first;
    assert.ok(settled, "the first invocation is released while the poll still hangs");
    clock.advance(30);
    await poller.refreshIfStale(30); // budget spent: returns without waiting again
    release();
    poller.stop();
  });
});
