/**
 * The change marker: its state machine (unit), the poller reading it against real S3 servers (s3rver, the lab's
 * S3) with an injected clock — a conditional GET per check, a list only when the marker changed,
 * the list poll kept on its own interval for objects written without a marker (AWS FIS's), fail open.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { changeMarkerKey, serializeFaultConfig } from "@faultline/protocol";
import { type RunningS3, S3_CREDENTIALS, startS3 as startLabS3 } from "../../lab/src/index.ts";
import { ChangeMarker } from "../src/change-marker.ts";
import { FaultPoller, S3ObjectStore } from "../src/index.ts";
import { MARKER_IDLE_HOLD_MS } from "../src/poller.ts";
import type { ObjectStore } from "../src/s3.ts";
import { delay, faultConfig, manualClock, testLogger } from "./helpers/faults.ts";
import { BUCKET, CREDENTIALS, startS3 } from "./helpers/s3.ts";

describe("ChangeMarker state machine", () => {
  it("first read lists whatever it answers; then only a change, a disappearance or a recovery lists", () => {
    const m = new ChangeMarker();
    assert.equal(m.answer({ kind: "changed", etag: '"a"' }), true, "first read lists");
    assert.equal(m.etag, undefined, "ETag adopted only after the listing");
    m.listed(true);
    assert.equal(m.etag, '"a"');
    assert.equal(m.answer({ kind: "unchanged" }), false, "304: nothing to do");
    assert.equal(m.answer({ kind: "failed" }), false, "a failure keeps the view (fail open)");
    assert.equal(m.state, "unreachable");
    assert.equal(m.answer({ kind: "unchanged" }), true, "recovery lists: a change may have been missed");
    m.listed(true);
    assert.equal(m.answer({ kind: "missing" }), true);
    assert.equal(m.state, "absent");
    assert.equal(m.etag, undefined, "a missing marker is read unconditionally next time");
    assert.equal(m.answer({ kind: "missing" }), false, "still missing: nothing to do");
  });

  it("a changed ETag whose listing failed is not adopted, so the next check lists again", () => {
    const m = new ChangeMarker();
    m.answer({ kind: "changed", etag: '"a"' });
    m.listed(true);
    assert.equal(m.answer({ kind: "changed", etag: '"b"' }), true);
    m.listed(false);
    assert.equal(m.etag, '"a"', "still the old ETag: S3 answers 200 again, not 304");
    assert.equal(m.answer({ kind: "changed", etag: '"b"' }), true);
  });
});

/** Conditional GetObject as S3 documents it: If-None-Match with the current ETag → 304 Not Modified. */
function conditionalGetCases(name: string, endpoint: () => string, credentials: typeof CREDENTIALS) {
  it(`${name}: If-None-Match with the current ETag is 304, a rewrite 200 with a new ETag, a missing key NoSuchKey (S3 GetObject docs)`, async () => {
    const client = new S3Client({
      endpoint: endpoint(),
      region: "us-east-1",
      forcePathStyle: true,
      credentials,
      requestChecksumCalculation: "WHEN_REQUIRED",
    });
    const store = new S3ObjectStore(BUCKET, { endpoint: endpoint(), region: "us-east-1", ...credentials });
    try {
      const key = "fis/.faultline/markers/demo";
      assert.deepEqual(await store.etagIfChanged(key, undefined), { kind: "missing" });
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: "1" }));
      const first = await store.etagIfChanged(key, undefined);
      assert.equal(first.kind, "changed");
      const etag = (first as { etag: string }).etag;
      assert.deepEqual(await store.etagIfChanged(key, etag), { kind: "unchanged" });
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: "2" }));
      const second = await store.etagIfChanged(key, etag);
      assert.equal(second.kind, "changed");
      assert.notEqual((second as { etag: string }).etag, etag);
    } finally {
      store.close();
      client.destroy();
    }
  });
}

describe("conditional GETs on every S3 the tests use", () => {
  let s3rver: Awaited<ReturnType<typeof startS3>>;
  let lab: RunningS3;
  before(async () => {
    s3rver = await startS3();
    lab = await startLabS3({ buckets: [BUCKET] });
  });
  after(async () => {
    await s3rver?.close();
    await lab?.close();
  });
  conditionalGetCases("s3rver", () => s3rver.endpoint, CREDENTIALS);
  conditionalGetCases("lab S3", () => lab.endpoint, S3_CREDENTIALS);
  // moto_server: engine/test/change-markers.test.ts reads the engine's marker there with this client; the S3
  // conformance suite (lab/test/s3-conformance.test.ts) holds the lab's S3 and moto to the same 304 rules.
});

describe("FaultPoller with a change marker (s3rver, injected clock)", () => {
  let s3: Awaited<ReturnType<typeof startS3>>;
  let n = 0;
  before(async () => {
    s3 = await startS3();
  });
  after(() => s3.close());

  function setup(wrap?: (real: S3ObjectStore) => ObjectStore) {
    const clock = manualClock();
    const lines: string[] = [];
    const location = { bucket: BUCKET, prefix: `run${++n}/fis/` };
    const real = new S3ObjectStore(BUCKET, { endpoint: s3.endpoint, region: "us-east-1", ...CREDENTIALS });
    const markerKey = changeMarkerKey(location, "demo");
    const poller = new FaultPoller({
      store: wrap?.(real) ?? real,
      prefix: `${location.prefix}demo/`,
      functionName: "demo",
      clock,
      log: testLogger(clock, (l) => lines.push(l)),
      slowPollMs: 60_000,
      hotPollMs: 5000,
      marker: { key: markerKey, checkMs: 1000 },
    });
    const fault = (action: string) =>
      s3.put(
        `${location.prefix}demo/EXP1/${action}.json`,
        serializeFaultConfig(faultConfig({ ...delay(100), actionName: action }, clock.now(), 600_000)),
      );
    const mark = () => s3.put(markerKey, `{"nonce":"${Math.random()}"}`);
    return { clock, lines, store: real, poller, fault, mark, markerKey };
  }

  it("lists alone first, reads the marker at once after (listing again), then lists only when it changed", async () => {
    const { clock, store, poller, fault, mark } = setup();
    await mark();
    await poller.refresh();
    assert.equal(poller.polls, 1, "first cycle lists");
    assert.equal(
      poller.markerChecks,
      0,
      "one request in the first cycle (the one an invocation may wait for)",
    );
    assert.ok(poller.isDue() && !poller.isStale(), "the marker's first read is due, in the background");
    await poller.refresh();
    assert.equal(poller.markerChecks, 1);
    assert.equal(poller.polls, 2, "the first read lists again: a change between the two is not missed");
    assert.equal(poller.markerState, "current");
    const requests = store.requestCount;
    clock.advance(1000);
    assert.ok(
      poller.isDue() && !poller.isStale(),
      "a check is due, but not one worth holding an invocation for",
    );
    await poller.refresh();
    assert.equal(store.requestCount, requests + 1, "unchanged: one conditional GET, no list");
    assert.equal(poller.polls, 2);
    await fault("a");
    await mark();
    clock.advance(1000);
    await poller.refresh();
    assert.equal(poller.polls, 3, "the marker changed: listed");
    assert.equal(poller.faults().length, 1, "the new fault is in view one check after it was written");
    await s3.delete(`run${n}/fis/demo/EXP1/a.json`);
    await mark();
    clock.advance(1000);
    await poller.refresh();
    assert.equal(poller.faults().length, 0, "the stop is seen on the next check");
    store.close();
  });

  it("objects written without a marker (AWS FIS's) still arrive on the list poll's own interval", async () => {
    const { clock, store, poller, fault } = setup();
    await poller.refresh();
    await poller.refresh(); // the marker's first read
    assert.equal(poller.markerState, "absent");
    await fault("fis");
    for (let s = 0; s < 59; s++) {
      clock.advance(1000);
      await poller.refresh();
    }
    assert.equal(poller.faults().length, 0, "not listed yet: no marker changed");
    assert.equal(poller.polls, 2, "the first list, and the one the marker's first read asked for");
    clock.advance(1000);
    assert.ok(poller.isStale(), "the slow list is due");
    await poller.refresh();
    assert.equal(poller.faults().length, 1, "picked up by the slow list");
    store.close();
  });

  it("holds an invocation for the marker only after a long idle", async () => {
    const { clock, store, poller, mark } = setup();
    await mark();
    await poller.refresh();
    await poller.refresh();
    clock.advance(MARKER_IDLE_HOLD_MS - 1);
    assert.equal(poller.isStale(), false);
    clock.advance(1);
    assert.equal(poller.isStale(), true);
    store.close();
  });

  it("an unreadable marker fails open: logged once, checks back off to the slow interval, recovery lists", async () => {
    let failing = true;
    const {
      clock,
      lines,
      store,
      poller: p,
    } = setup((real) => ({
      get requestCount() {
        return real.requestCount;
      },
      list: (prefix, signal) => real.list(prefix, signal),
      get: (key, signal) => real.get(key, signal),
      etagIfChanged: (key, etag, signal) =>
        failing ? Promise.reject(new Error("AccessDenied")) : real.etagIfChanged(key, etag, signal),
    }));
    await p.refresh();
    await p.refresh();
    assert.equal(p.markerState, "unreachable");
    assert.equal(p.polls, 2, "the lists still ran");
    assert.equal(p.isStale(), false, "invocations are not held for an unreadable marker");
    for (let s = 0; s < 120; s++) {
      clock.advance(1000);
      await p.refresh();
    }
    // Backing off: 2, 4, 8, 16, 32 s, then once per slow interval (60 s).
    assert.equal(p.markerChecks, 7, "retries less and less often while unreachable");
    const warnings = lines.filter((l) => l.includes("cannot read the change marker"));
    assert.equal(warnings.length, 1, lines.join("\n"));
    assert.match(warnings[0] ?? "", /AccessDenied/);
    assert.equal(p.polls, 4, "the list poll carried on: at 0 (twice), 60 and 120 s");
    failing = false;
    clock.advance(59_000); // the marker's next retry is due, the list (at 180 s) is not
    assert.equal(p.isDue(), true);
    await p.refresh();
    assert.equal(p.markerState, "absent");
    assert.equal(p.polls, 5, "recovered: listed at once");
    assert.ok(lines.some((l) => l.includes("readable again")));
    store.close();
  });
});
