/** The README's demo command, end to end with short windows: it must finish and see what each fault means. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const DEMO = fileURLToPath(new URL("../demo.ts", import.meta.url));

test("npm run demo: delay seen then gone, errors seen then gone after StopExperiment", {
  timeout: 180_000,
}, async () => {
  const child = spawn(process.execPath, ["--import", "tsx", DEMO, "--windows", "3,10,3", "--rate", "4"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk;
  });
  child.stderr.on("data", (chunk: Buffer) => {
    out += chunk;
  });
  const [code] = await once(child, "exit");
  assert.equal(code, 0, out);
  assert.equal(out.match(/^ {2}ok {3}/gm)?.length, 4, out);
  assert.match(out, /experiment EXP\w+ completed/);
  assert.match(out, /experiment EXP\w+ stopped by StopExperiment/);
});
