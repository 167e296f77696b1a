// The change markers the engine rewrites after every fault-object write and delete (read by the extension with a
// conditional GET): written on moto_server's S3, coalesced in bursts, and never in the way of a stop — even when
// S3 hangs or refuses them (a real HTTP proxy in front of moto stalls the marker PUTs).
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { S3ObjectStore } from "../../extension/src/s3.ts";
import { ChangeMarkers } from "../src/change-markers.ts";
import { Engine } from "../src/index.ts";
import { credentials, type Moto } from "./moto.ts";
import { seedTemplate } from "./seed.ts";
import { type StallingMoto, type StallingS3, stallingMoto } from "./stalling-s3.ts";

const BUCKET = "faults";
const MARKER = "FisConfigs/.faultline/markers/m1";
const BOUND = { timeout: 20_000 };
let moto: Moto;
let proxy: StallingS3;
let dir: string;
let stalling: StallingMoto | undefined;

before(async () => {
  stalling = await stallingMoto("faultline-markers-", BUCKET, ["m1"]);
  ({ moto, proxy, dir } = stalling);
});
after(() => stalling?.close());

let n = 0;
const s3Through = (endpoint: string) =>
  new S3Client({ region: "us-east-1", endpoint, credentials, forcePathStyle: true, maxAttempts: 1 });
const open = (endpoint: string, log: (line: string) => void = () => {}) =>
  Engine.open({ dataDir: join(dir, `e${n++}`), lambda: moto.lambda(), s3: s3Through(endpoint), log });
const etag = async () => (await moto.s3().send(new HeadObjectCommand({ Bucket: BUCKET, Key: MARKER }))).ETag;

describe("change markers", () => {
  test("a start and a stop each rewrite the function's marker with a new ETag", BOUND, async () => {
    const e = await open(moto.endpoint);
    try {
      const t = await e.createExperimentTemplate(seedTemplate());
      const x = await e.startExperiment({ experimentTemplateId: t.id });
      await e.idle(x.id);
      await e.markers.settled();
      const written = await etag();
      assert.ok(written);
      // Read as the extension reads it (its own S3 client): 304 while unchanged.
      const reader = new S3ObjectStore(BUCKET, {
        endpoint: moto.endpoint,
        region: "us-east-1",
        ...credentials,
      });
      assert.deepEqual(await reader.etagIfChanged(MARKER, written), { kind: "unchanged" });
      e.stopExperiment(x.id);
      assert.equal((await e.settled(x.id)).state.status, "stopped");
      await e.markers.settled();
      const stopped = await etag();
      assert.ok(stopped);
      assert.notEqual(stopped, written, "an unchanged ETag would read as 304 Not Modified");
      assert.deepEqual(await reader.etagIfChanged(MARKER, written), { kind: "changed", etag: stopped });
      reader.close();
      assert.deepEqual(await moto.keys(BUCKET), [], "the fault object is gone; the marker stays");
    } finally {
      await e.close();
    }
  });

  for (const mode of ["hang", "refuse"] as const) {
    test(
      `marker PUTs that ${mode === "hang" ? "never answer" : "S3 refuses"} never hold a stop`,
      BOUND,
      async () => {
        proxy.rule = (r) => (r.method === "PUT" && r.path.includes("/.faultline/markers/") ? mode : "pass");
        const lines: string[] = [];
        const e = await open(proxy.endpoint, (l) => lines.push(l));
        try {
          const t = await e.createExperimentTemplate(seedTemplate());
          const x = await e.startExperiment({ experimentTemplateId: t.id });
          await e.idle(x.id);
          e.stopExperiment(x.id);
          const done = await e.settled(x.id);
          assert.deepEqual(done.state, { status: "stopped", reason: "Experiment stopped by user." });
          assert.deepEqual(await moto.keys(BUCKET), [], "the fault object was deleted all the same");
          if (mode === "refuse") {
            await e.markers.settled();
            const said = lines.filter((l) => l.includes("cannot write the change marker"));
            assert.equal(said.length, 1, `logged once for the run of failures: ${lines.join("\n")}`);
          }
        } finally {
          proxy.rule = () => "pass";
          await e.close();
        }
      },
    );
  }
});

describe("ChangeMarkers (unit, a counting S3 client)", () => {
  test("a burst of changes to one function is at most two writes, the last one after the last change", async () => {
    const sent: string[] = [];
    let release!: () => void;
    const first = new Promise<void>((resolve) => (release = resolve));
    const fake = {
      send: async (command: { input: { Key: string } }) => {
        sent.push(command.input.Key);
        if (sent.length === 1) await first;
        return {};
      },
    } as unknown as S3Client;
    const markers = new ChangeMarkers(fake, () => {});
    const change = (fn: string, i: number) =>
      markers.changed({
        bucket: BUCKET,
        key: `FisConfigs/${fn}/EXP${i}/a.json`,
        experimentId: `EXP${i}`,
        actionName: "a",
      });
    for (let i = 0; i < 20; i++) change("f1", i);
    change("f2", 0);
    release();
    await markers.settled();
    assert.deepEqual(sent.sort(), [
      "FisConfigs/.faultline/markers/f1",
      "FisConfigs/.faultline/markers/f1",
      "FisConfigs/.faultline/markers/f2",
    ]);
  });
});
