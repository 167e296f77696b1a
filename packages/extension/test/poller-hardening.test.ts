import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { after, before, describe, it } from "node:test";
import { serializeFaultConfig } from "@faultline/protocol";
import { type Clock, FaultPoller, type ObjectStore, planInvocation, S3ObjectStore } from "../src/index.ts";
import { delay, error, faultConfig, manualClock, testLogger } from "./helpers/faults.ts";
import { CREDENTIALS } from "./helpers/s3.ts";
import { startScriptedS3 } from "./helpers/scripted-s3.ts";

// Issue 9 items 5 and 6: a store that stalls, sends a huge body or a listing that is not XML must never wedge
// polling, and a prefix full of old objects must not delay a new fault.

const PREFIX = "fis/demo/";
let functions = 0;
const identity = {
  invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:demo",
  functionVersion: "$LATEST",
};
const TIMEOUT = { timeout: 20_000 };

function setup<C extends Clock = ReturnType<typeof manualClock>>(
  endpoint: string,
  options: {
    clock?: C;
    requestTimeoutMs?: number;
    pollBudgetMs?: number;
    pollMs?: number;
    onLine?: (line: string) => void;
    prefix?: string;
  } = {},
) {
  const clock = (options.clock ?? manualClock()) as C;
  const lines: string[] = [];
  // Each test lists its own prefix on the shared server.
  const prefix = options.prefix ?? `fis/fn${++functions}/`;
  const store = new S3ObjectStore(
    "faults",
    { endpoint, region: "us-east-1", ...CREDENTIALS },
    { timeoutMs: options.requestTimeoutMs ?? 5000 },
  );
  const log = testLogger(clock, (line) => {
    lines.push(line);
    options.onLine?.(line);
  });
  const poller = new FaultPoller({
    store,
    prefix,
    functionName: "demo",
    clock,
    log,
    slowPollMs: options.pollMs ?? 60_000,
    hotPollMs: options.pollMs ?? 5000,
    pollBudgetMs: options.pollBudgetMs,
  });
  const plan = () => planInvocation(poller.faults(), clock.now(), identity, () => 0);
  const matching = (text: string) => lines.filter((line) => line.includes(text));
  return { clock, lines, store, poller, plan, matching, prefix };
}

/** Streams zeros until the client goes away (a body with no end in sight). */
function endless(res: ServerResponse, headers: Record<string, string | number>): void {
  res.writeHead(200, headers);
  const chunk = Buffer.alloc(64 * 1024);
  const pump = () => {
    while (!res.destroyed && res.write(chunk));
    if (!res.destroyed) res.once("drain", pump);
  };
  pump();
}

describe("the poller against a misbehaving S3 (real HTTP)", () => {
  let s3: Awaited<ReturnType<typeof startScriptedS3>>;
  before(async () => {
    s3 = await startScriptedS3();
  });
  after(() => s3.close());

  it(
    "refuses a huge fault object unread, aborts one whose body outgrows its listed size, and keeps applying faults",
    TIMEOUT,
    async () => {
      const { clock, store, poller, plan, matching, prefix } = setup(s3.endpoint);
      const t = clock.now();
      s3.put(`${prefix}EXP1/a.json`, serializeFaultConfig(faultConfig(delay(100), t)));
      // The listing says 600 MB: never requested.
      s3.put(`${prefix}EXP1/huge.json`, "{}", { listedSize: 600_000_000 });
      // The listing says 2 bytes, the GET streams without end (no Content-Length).
      s3.put(`${prefix}EXP1/liar.json`, "{}");
      // The listing says 2 bytes, the GET declares 600 MB.
      s3.put(`${prefix}EXP1/declared.json`, "{}");
      s3.misbehave((kind, key, _req, res) => {
        if (kind === "get" && key.endsWith("liar.json")) endless(res, { "content-type": "application/json" });
        else if (kind === "get" && key.endsWith("declared.json"))
          endless(res, { "content-type": "application/json", "content-length": 600_000_000 });
        else return false;
        return true;
      });
      await poller.poll();
      assert.equal(plan().delay?.milliseconds, 100, "the good fault applies");
      assert.ok(!s3.gets.some((key) => key.endsWith("huge.json")), "refused on the listing's Size, unread");
      assert.match(matching("huge.json")[0] ?? "", /600000000 bytes, over the 65536-byte limit/);
      assert.match(matching("liar.json")[0] ?? "", /sent more than 65536 bytes/);
      assert.match(matching("declared.json")[0] ?? "", /is 600000000 bytes/);

      // Not fetched again at the same ETag; faults still come and go.
      clock.advance(5000);
      s3.put(`${prefix}EXP2/e.json`, serializeFaultConfig(faultConfig(error(true), clock.now())));
      await poller.poll();
      assert.equal(s3.gets.filter((key) => key.endsWith("liar.json")).length, 1);
      assert.equal(plan().outcome?.preventExecution, true, "a new fault applies after the huge bodies");
      s3.delete(`${prefix}EXP1/a.json`);
      s3.delete(`${prefix}EXP2/e.json`);
      clock.advance(5000);
      await poller.poll();
      assert.deepEqual(plan(), {}, "and is cleared");
      assert.equal(matching("ignoring fault configuration").length, 3, "each logged once");
      s3.misbehave(undefined);
      store.close();
    },
  );

  it(
    "gives up on a listing that stalls or trickles, logs it once, keeps known faults, recovers",
    TIMEOUT,
    async () => {
      const { clock, store, poller, plan, matching, prefix } = setup(s3.endpoint, { requestTimeoutMs: 300 });
      s3.put(`${prefix}EXP3/a.json`, serializeFaultConfig(faultConfig(delay(7), clock.now())));
      await poller.poll();
      assert.equal(plan().delay?.milliseconds, 7);

      const timers: NodeJS.Timeout[] = [];
      s3.misbehave((kind, _key, _req, res) => {
        if (kind !== "list") return false;
        // Headers, then a byte every 50 ms: never idle long enough for a socket timeout to fire.
        res.writeHead(200, { "content-type": "application/xml", "content-length": 100_000 });
        timers.push(setInterval(() => res.destroyed || res.write(" "), 50));
        return true;
      });
      for (let i = 0; i < 2; i++) {
        clock.advance(5000);
        await poller.poll();
      }
      s3.misbehave((kind) => kind === "list"); // accepted, never answered
      clock.advance(5000);
      await poller.poll();
      for (const timer of timers) clearInterval(timer);
      const stalls = matching("failed to retrieve active fault configurations");
      assert.equal(stalls.length, 1, stalls.join("\n"));
      assert.match(stalls[0] ?? "", /ListObjectsV2 on S3: no answer within 300 ms/);
      assert.equal(plan().delay?.milliseconds, 7, "known faults still apply until their endTime");

      s3.misbehave(undefined);
      s3.delete(`${prefix}EXP3/a.json`);
      s3.put(`${prefix}EXP3/b.json`, serializeFaultConfig(faultConfig(error(false), clock.now())));
      clock.advance(5000);
      await poller.poll();
      assert.equal(plan().delay, undefined, "the removed fault is cleared");
      assert.equal(plan().outcome?.preventExecution, false, "the new one applies");
      store.close();
    },
  );

  it("treats a listing that is not XML as an error: logged once, known faults kept", TIMEOUT, async () => {
    const { clock, store, poller, plan, matching, prefix } = setup(s3.endpoint);
    s3.put(`${prefix}EXP4/a.json`, serializeFaultConfig(faultConfig(delay(9), clock.now())));
    await poller.poll();
    s3.misbehave((kind, _key, _req, res) => {
      if (kind !== "list") return false;
      const page = "<html><body>Please sign in to the hotel Wi-Fi</body></html>";
      res.writeHead(200, { "content-type": "text/html", "content-length": page.length });
      res.end(page);
      return true;
    });
    for (let i = 0; i < 3; i++) {
      clock.advance(5000);
      await poller.poll();
    }
    const failures = matching("failed to retrieve active fault configurations");
    assert.equal(failures.length, 1, failures.join("\n"));
    assert.match(failures[0] ?? "", /not an S3 XML listing \(content-type text\/html\)/);
    assert.equal(plan().delay?.milliseconds, 9, "not read as an empty listing");
    s3.misbehave(undefined);
    s3.delete(`${prefix}EXP4/a.json`);
    clock.advance(5000);
    await poller.poll();
    assert.deepEqual(plan(), {}, "cleared once S3 answers again");
    store.close();
  });
});

describe("a poll that overruns its budget is abandoned", () => {
  /** A store whose first listing never settles (it ignores the abort signal too). */
  function stuckOnce(fault: string): ObjectStore & { lists: number } {
    return {
      requestCount: 0,
      lists: 0,
      etagIfChanged: () => Promise.reject(new Error("unused")),
      list(prefix) {
        this.lists++;
        if (this.lists === 1) return new Promise(() => {});
        return Promise.resolve([
          { key: `${prefix}EXP/a.json`, etag: '"1"', size: fault.length, lastModified: "" },
        ]);
      },
      get: () => Promise.resolve({ etag: '"1"', body: fault }),
    };
  }

  function poller(store: ObjectStore, clock: ReturnType<typeof manualClock>, pollBudgetMs: number) {
    const lines: string[] = [];
    const log = testLogger(clock, (line) => lines.push(line));
    const p = new FaultPoller({
      store,
      prefix: PREFIX,
      functionName: "demo",
      clock,
      log,
      slowPollMs: 60_000,
      hotPollMs: 5000,
      pollBudgetMs,
    });
    return { p, lines };
  }

  it(
    "by its budget timer: the poll settles, is logged once, and the next poll applies faults",
    TIMEOUT,
    async () => {
      const clock = manualClock();
      const store = stuckOnce(serializeFaultConfig(faultConfig(delay(3), clock.now())));
      const { p, lines } = poller(store, clock, 100);
      await p.poll();
      assert.match(lines.join("\n"), /a poll took longer than 100 ms: abandoned, the next one runs/);
      await p.poll();
      assert.equal(store.lists, 2);
      assert.equal(planInvocation(p.faults(), clock.now(), identity, () => 0).delay?.milliseconds, 3);
      p.stop();
    },
  );

  it("by the clock (an environment frozen mid-poll): the next poll does not join it", TIMEOUT, async () => {
    const clock = manualClock();
    const store = stuckOnce(serializeFaultConfig(faultConfig(delay(4), clock.now())));
    const { p } = poller(store, clock, 10_000);
    void p.poll();
    clock.advance(10_001);
    await p.poll();
    assert.equal(planInvocation(p.faults(), clock.now(), identity, () => 0).delay?.milliseconds, 4);
    p.stop();
  });
});

describe("a prefix with 5,000 old objects", () => {
  it(
    "fetches only what is new, skips keys outside the layout, and a new fault applies within one interval + 1 s",
    TIMEOUT,
    async (t) => {
      // 2 ms per GET stands in for S3's latency: fetched one at a time, 5,000 objects take over 10 s.
      const s3 = await startScriptedS3({ getLatencyMs: 2 });
      const intervalMs = 3000;
      const systemLike = {
        now: () => Date.now(),
        sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
      };
      const ended = Date.now() - 3_600_000;
      const prefix = PREFIX;
      for (let i = 0; i < 5000; i++) {
        const config = { ...faultConfig(delay(1), ended), experimentId: `EXP${i}` };
        s3.put(`${prefix}EXP${String(i).padStart(4, "0")}/act.json`, serializeFaultConfig(config));
      }
      s3.put(`${prefix}README.json`, "{}"); // not <experimentId>/<actionName>.json
      s3.put(`${prefix}EXP0000/notes.txt`, "hello");
      let onApplied!: (at: number) => void;
      const applied = new Promise<number>((resolve) => (onApplied = resolve));
      const { store, poller } = setup(s3.endpoint, {
        clock: systemLike,
        pollMs: intervalMs,
        prefix,
        onLine: (line) => line.includes("found active faults") && onApplied(Date.now()),
      });

      let writtenAt = 0;
      s3.misbehave((kind) => {
        // Write the new fault once the first poll is past its listing: it must wait for the next poll.
        if (kind === "get" && writtenAt === 0) {
          writtenAt = Date.now();
          const config = { ...faultConfig(error(true), writtenAt - 1000), experimentId: "EXPNEW" };
          s3.put(`${prefix}EXPNEW/act.json`, serializeFaultConfig(config));
        }
        return false;
      });
      poller.start();
      let appliedAt: number;
      try {
        appliedAt = await applied;
      } finally {
        poller.stop();
        store.close();
        await s3.close();
      }

      const rampUpMs = appliedAt - writtenAt;
      const polls = s3.listStarts.map((at) => at - writtenAt);
      assert.ok(
        rampUpMs <= intervalMs + 1000,
        `ramp-up ${rampUpMs} ms (poll starts ${polls.join(", ")} ms after the write)`,
      );
      assert.ok(
        !s3.gets.some((key) => key.endsWith("README.json") || key.endsWith(".txt")),
        "outside the layout: never fetched",
      );
      assert.equal(new Set(s3.gets).size, s3.gets.length, "no object fetched twice (ETags unchanged)");
      t.diagnostic(`ramp-up ${rampUpMs} ms; poll starts ${polls.join(", ")} ms after the write`);
    },
  );
});
