import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { Engine } from "../src/index.ts";
import { Moto, readyEnv } from "./moto.ts";

let moto: Moto;
let dir: string;
const CHILD = fileURLToPath(new URL("./crash-child.ts", import.meta.url));

before(async () => {
  moto = await Moto.start();
  dir = mkdtempSync(join(tmpdir(), "faultline-crash-"));
  await moto.bucket("faults");
  const layer = await moto.layer();
  for (let i = 0; i < 6; i++)
    await moto.fn(`c${i}`, { tags: { crash: "yes" }, layer, env: readyEnv("faults") });
});
after(async () => {
  await moto?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs the child engine and SIGKILLs it right after its `killAt`-th output line (or lets it finish). */
async function runAndKill(dataDir: string, killAt: number): Promise<{ lines: string[]; killed: boolean }> {
  const child = spawn(process.execPath, ["--import", "tsx", CHILD], {
    env: { ...process.env, MOTO_ENDPOINT: moto.endpoint, DATA_DIR: dataDir, NODE_NO_WARNINGS: "1" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const lines: string[] = [];
  let killed = false;
  try {
    for await (const line of createInterface({ input: child.stdout! })) {
      lines.push(line);
      if (lines.length === killAt) {
        child.kill("SIGKILL");
        killed = true;
        break;
      }
    }
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
    await exited;
  }
  return { lines, killed };
}

test("a second engine process on a live engine's data directory is refused", async () => {
  const dataDir = join(dir, "locked");
  const child = spawn(process.execPath, ["--import", "tsx", CHILD], {
    env: { ...process.env, MOTO_ENDPOINT: moto.endpoint, DATA_DIR: dataDir, NODE_NO_WARNINGS: "1" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  try {
    for await (const line of createInterface({ input: child.stdout! })) {
      if (line.startsWith("started")) break;
    }
    await assert.rejects(
      Engine.open({ dataDir, lambda: moto.lambda(), s3: moto.s3(), log: () => {} }),
      (e: Error) => e.name === "DataDirInUseError" && e.message.includes(String(child.pid)),
    );
  } finally {
    child.kill("SIGKILL");
    await exited;
  }
  // Its lock is stale now: a new engine takes over and reconciles.
  const engine = await Engine.open({ dataDir, lambda: moto.lambda(), s3: moto.s3(), log: () => {} });
  await engine.close();
  assert.deepEqual(await moto.keys("faults"), []);
});

test("a stale engine.pid naming a live process that is not the engine does not block start", async () => {
  // Any live process will do as the pid's new owner after a crash: here a `sleep`.
  const other = spawn("sleep", ["60"], { stdio: "ignore" });
  const exited = once(other, "exit");
  try {
    for (const lock of [`${other.pid}\n`, `${other.pid} 1\n`]) {
      const dataDir = join(dir, `stale-${lock.length}`);
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(join(dataDir, "engine.pid"), lock);
      const engine = await Engine.open({ dataDir, lambda: moto.lambda(), s3: moto.s3(), log: () => {} });
      assert.match(readFileSync(join(dataDir, "engine.pid"), "utf8"), new RegExp(`^${process.pid} \\S+`));
      await engine.close();
    }
  } finally {
    other.kill("SIGKILL");
    await exited;
  }
});

test("kill -9 at random points, then restart: no fault object left, experiments reconciled", async () => {
  // A seeded walk over kill points, so a failure names a point that can be replayed.
  const seed = Number(process.env.CRASH_SEED ?? Date.now() % 100_000);
  let state = seed;
  const rnd = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
  const rounds = 6;
  for (let round = 0; round < rounds; round++) {
    // Lines: started, pending/initiating/running, 6 writes + 6 deletes per action, completed, done (~30).
    const killAt = 1 + Math.floor(rnd() * 30);
    const dataDir = join(dir, `round${round}`);
    const { lines, killed } = await runAndKill(dataDir, killAt);
    const context = `seed ${seed}, round ${round}, kill after line ${killAt} (${lines.at(-1)})`;
    const engine = await Engine.open({ dataDir, lambda: moto.lambda(), s3: moto.s3(), log: () => {} });
    try {
      assert.deepEqual(await moto.keys("faults"), [], `orphaned fault objects: ${context}`);
      assert.deepEqual(engine.recordedFaultObjects(), [], context);
      for (const summary of engine.listExperiments().experiments) {
        const x = engine.getExperiment(summary.id);
        if (killed && x.state.status !== "completed") {
          assert.equal(x.state.status, "failed", context);
          assert.match(x.state.reason, /engine restarted/, context);
          for (const a of Object.values(x.actions)) {
            assert.ok(["completed", "failed", "cancelled"].includes(a.state.status), context);
          }
        } else {
          assert.equal(x.state.status, "completed", context);
        }
      }
    } finally {
      await engine.close();
    }
  }
});
