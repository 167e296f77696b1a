// Issue 9 item 2 from the outside: `faultline serve`, `experiments stop [--all]` and SIGTERM remove the faults and
// end in bounded time whatever S3 does (an upload that never returns), and whatever the data directory's disk
// does (full: a real ENOSPC on a small tmpfs).
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { EventEmitter, once } from "node:events";
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import {
  CreateExperimentTemplateCommand,
  type CreateExperimentTemplateCommandInput,
  FisClient,
  GetExperimentCommand,
  StartExperimentCommand,
} from "@aws-sdk/client-fis";
import { serveFaultline } from "@faultline/api";
import type { Moto } from "../../engine/test/moto.ts";
import { seedTemplate } from "../../engine/test/seed.ts";
import {
  isPut,
  type StalledRequest,
  type StallingMoto,
  type StallingS3,
  stallingMoto,
} from "../../engine/test/stalling-s3.ts";
import { STOP_GRACE_MS, untilStopSignal } from "../src/shutdown.ts";
import { runCli } from "./run-cli.ts";

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };
/** SIGTERM ends the process within STOP_GRACE_MS (10 s); 5 s more is slack for a loaded test machine. */
const SIGTERM_BOUND_MS = STOP_GRACE_MS + 5000;
const BOUND = { timeout: 60_000 };

let moto: Moto;
let proxy: StallingS3;
let dir: string;
let stalling: StallingMoto | undefined;

before(async () => {
  stalling = await stallingMoto("faultline-cli-stop-", "faults", ["g1", "g2"]);
  ({ moto, proxy, dir } = stalling);
});
after(() => stalling?.close());

const onG2Put = (r: StalledRequest) => isPut(r) && r.path.includes("/g2/");
/** The fault objects of one experiment in S3 (earlier tests' leftovers do not count). */
const faultKeys = async (id: string) => (await moto.keys("faults")).filter((k) => k.includes(`/${id}/`));

function fis(endpoint: string): FisClient {
  return new FisClient({ region: "us-east-1", endpoint, credentials });
}

/** Creates the seed template (add-delay on every FISExperimentReady function) and starts it. */
async function startSeed(endpoint: string): Promise<string> {
  const client = fis(endpoint);
  const { experimentTemplate } = await client.send(
    new CreateExperimentTemplateCommand(seedTemplate() as CreateExperimentTemplateCommandInput),
  );
  const { experiment } = await client.send(
    new StartExperimentCommand({ experimentTemplateId: experimentTemplate!.id! }),
  );
  return experiment!.id!;
}

/** Polls GetExperiment until `status` (the API has no push); the test's timeout bounds it. */
async function waitForStatus(endpoint: string, id: string, status: string): Promise<void> {
  const client = fis(endpoint);
  for (;;) {
    const { experiment } = await client.send(new GetExperimentCommand({ id }));
    if (experiment?.state?.status === status) return;
    await sleep(50);
  }
}

/** `faultline serve --json …` (optionally wrapped in a command such as unshare); resolves with its FIS URL. */
async function startServe(
  args: string[],
  wrap: string[] = [],
): Promise<{ child: ChildProcess; url: string }> {
  const argv = [...wrap, process.execPath, "--import", "tsx", MAIN, "serve", "--json", ...args];
  const child = spawn(argv[0]!, argv.slice(1), {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NODE_NO_WARNINGS: "1", ...credentialsEnv },
  });
  let stderr = "";
  child.stderr!.on("data", (d) => {
    stderr += d;
  });
  const exited = once(child, "exit");
  const line = once(createInterface({ input: child.stdout! }), "line") as Promise<[string]>;
  const first = await Promise.race([line, exited.then(() => undefined)]);
  if (!first) throw new Error(`faultline serve exited before it was ready: ${stderr}`);
  return { child, url: (JSON.parse(first[0]) as { fis: string }).fis };
}
const credentialsEnv = { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing" };

/** SIGTERM, then how long the process took to exit (undefined if it outlived `boundMs`), and its code. */
async function terminate(child: ChildProcess, boundMs: number) {
  const exited = once(child, "exit") as Promise<[number | null]>;
  const started = Date.now();
  child.kill("SIGTERM");
  const outcome = await Promise.race([exited, sleep(boundMs).then(() => undefined)]);
  if (!outcome) {
    child.kill("SIGKILL");
    await exited;
    return { ms: undefined, code: undefined };
  }
  return { ms: Date.now() - started, code: outcome[0] };
}

describe("stop removes the faults whatever S3 does", () => {
  test(
    "SIGTERM ends `faultline serve` in bounded time while an S3 upload never returns, and its faults are removed",
    BOUND,
    async () => {
      proxy.rule = (r) => (onG2Put(r) ? "forward-then-hang" : "pass");
      const { child, url } = await startServe([
        "--data-dir",
        join(dir, "sigterm"),
        "--lambda-endpoint",
        moto.endpoint,
        "--s3-endpoint",
        proxy.endpoint,
      ]);
      try {
        const stalled = proxy.nextStall(onG2Put);
        const id = await startSeed(url);
        await stalled;
        assert.equal((await faultKeys(id)).length, 2);
        const { ms, code } = await terminate(child, SIGTERM_BOUND_MS);
        assert.ok(ms !== undefined, `faultline serve was still running ${SIGTERM_BOUND_MS} ms after SIGTERM`);
        assert.equal(code, 0);
        assert.deepEqual(await faultKeys(id), []);
      } finally {
        proxy.rule = () => "pass";
        if (child.exitCode === null) child.kill("SIGKILL");
      }
    },
  );

  test("`experiments stop --all` removes the faults while an S3 upload never returns", BOUND, async () => {
    proxy.rule = (r) => (onG2Put(r) ? "forward-then-hang" : "pass");
    const f = await serveFaultline({
      dataDir: join(dir, "stop-all"),
      endpoints: { lambda: moto.endpoint, s3: proxy.endpoint },
      credentials,
      log: () => {},
    });
    try {
      const stalled = proxy.nextStall(onG2Put);
      const id = await startSeed(f.url);
      await stalled;
      const stop = await runCli(f.url, "experiments", "stop", "--all");
      assert.equal(stop.code, 0, stop.stderr);
      assert.match(stop.stdout, new RegExp(`${id}\\s+stopping`));
      const done = await f.engine.settled(id);
      assert.equal(done.state.status, "stopped");
      assert.deepEqual(await faultKeys(id), []);
      assert.equal((await runCli(f.url, "experiments", "stop", "--all")).stdout, "no active experiments\n");
    } finally {
      proxy.rule = () => "pass";
      await f.close();
    }
  });
});

/**
 * A tmpfs of `sizeMb` for the data directory, mounted in a private mount namespace (`unshare -rm`: works as root
 * and, where user namespaces are allowed, unprivileged); `skip` says why where it cannot be made.
 */
function tmpfsWrap(mountPoint: string, sizeMb: number): { wrap: string[] } | { skip: string } {
  const mount = `mount -t tmpfs -o size=${sizeMb}m tmpfs "$0" && exec "$@"`;
  const probe = spawnSync("unshare", ["-rm", "sh", "-c", mount, mountPoint, "true"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) {
    return { skip: `cannot mount a tmpfs in a private namespace: ${probe.error?.message ?? probe.stderr}` };
  }
  return { wrap: ["unshare", "-rm", "sh", "-c", mount, mountPoint] };
}

/** Writes zeros to `path` until the disk refuses; returns the error code (ENOSPC when full). */
function fillDisk(path: string): string {
  const fd = openSync(path, "w");
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? String(error);
  } finally {
    closeSync(fd);
  }
}

describe("stop removes the faults whatever the data directory's disk does", () => {
  test(
    "with the data directory's disk full, StopExperiment answers, removes the faults and ends stopped; again is fine",
    BOUND,
    async (t) => {
      const dataDir = join(dir, "full");
      mkdirSync(dataDir, { recursive: true });
      const tmpfs = tmpfsWrap(dataDir, 4);
      if ("skip" in tmpfs) {
        if (process.env.CI === "true") assert.fail(tmpfs.skip);
        return t.skip(tmpfs.skip);
      }
      const { child, url } = await startServe(
        ["--data-dir", dataDir, "--lambda-endpoint", moto.endpoint, "--s3-endpoint", moto.endpoint],
        tmpfs.wrap,
      );
      try {
        const id = await startSeed(url);
        await waitForStatus(url, id, "running");
        assert.equal((await faultKeys(id)).length, 2);
        // The engine's mount is visible through its /proc root only.
        assert.equal(fillDisk(`/proc/${child.pid}/root${dataDir}/filler`), "ENOSPC");
        const stop = await runCli(url, "experiments", "stop", id);
        assert.equal(stop.code, 0, stop.stderr);
        assert.match(stop.stdout, new RegExp(`${id}\\s+stopping`));
        await waitForStatus(url, id, "stopped");
        assert.deepEqual(await faultKeys(id), []);
        const again = await runCli(url, "experiments", "stop", id);
        assert.equal(again.code, 0, again.stderr);
        assert.match(again.stdout, new RegExp(`${id}\\s+stopped`));
        const { ms, code } = await terminate(child, SIGTERM_BOUND_MS);
        assert.ok(ms !== undefined, "faultline serve outlived SIGTERM on a full disk");
        assert.equal(code, 0);
      } finally {
        if (child.exitCode === null) child.kill("SIGKILL");
      }
    },
  );
});

describe("the signal handling of serve and up", () => {
  test("a stop that overruns its grace period, or a second signal, exits at once with code 1 and says so", async () => {
    for (const second of [false, true]) {
      const signals = new EventEmitter();
      let err = "";
      const exited = new Promise<number>((resolve) => {
        void untilStopSignal(
          () => new Promise(() => {}), // a stop that never finishes
          { stdout: () => {}, stderr: (t) => (err += t) },
          { graceMs: second ? 60_000 : 20, exit: resolve, signals },
        );
      });
      signals.emit("SIGTERM", "SIGTERM");
      if (second) signals.emit("SIGINT", "SIGINT");
      assert.equal(await exited, 1);
      assert.match(
        err,
        second ? /SIGINT again: exiting now/ : /stopping took longer than 20 ms: exiting now/,
      );
    }
  });
});
