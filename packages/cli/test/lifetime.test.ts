/**
 * How long-running commands end (shutdown.ts), in real process trees: `npx faultline lab up` whose npm gets
 * SIGTERM (npm exits at once and would orphan faultline with its functions), and SIGHUP / SIGTERM sent to
 * faultline itself, as a closing terminal or a supervisor sends them.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { labOwnedProcesses } from "@faultline/testing";
import { alive, cmdline, descendants, firstLine, waitFor } from "./processes.ts";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const BIN = join(REPO, "packages", "cli", "bin", "faultline.mjs");
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "faultline-lifetime-"));
  writeFileSync(
    join(dir, "lab.json"),
    JSON.stringify({
      ports: { lambda: 0, s3: 0, cloudwatch: 0 },
      functions: [
        {
          name: "fn",
          runtime: "nodejs20.x",
          handler: "index.handler",
          code: fileURLToPath(new URL("../../api/test/fixtures/fn/", import.meta.url)),
        },
      ],
    }),
  );
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Waits for the one JSON line of `lab up --json`, then invokes once so an execution environment runs. */
async function labRunning(child: ChildProcess): Promise<void> {
  const line = await firstLine(child);
  const lambda = new LambdaClient({
    endpoint: (JSON.parse(line) as { lambda: string }).lambda,
    region: "us-east-1",
    credentials: { accessKeyId: "x", secretAccessKey: "x" },
  });
  try {
    const out = await lambda.send(new InvokeCommand({ FunctionName: "fn", Payload: '{"n":1}' }));
    assert.equal(out.FunctionError, undefined);
  } finally {
    lambda.destroy();
  }
}

test("npx faultline lab up, SIGTERM to npm: faultline sees its parent gone and stops the lab", async () => {
  const npm = spawn("npx", ["faultline", "lab", "up", "--json", "-c", join(dir, "lab.json")], {
    cwd: REPO,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, npm_config_update_notifier: "false" },
  });
  let stderr = "";
  npm.stderr!.on("data", (d) => {
    stderr += d;
  });
  let faultline = 0;
  try {
    await labRunning(npm);
    faultline = descendants(npm.pid!).find((pid) => cmdline(pid).includes("faultline lab up")) ?? 0;
    assert.ok(faultline, "faultline runs under npm");
    assert.ok(labOwnedProcesses(faultline).length > 0, "the function's environment runs");
    npm.kill("SIGTERM");
    await once(npm, "exit");
    assert.ok(await waitFor(() => !alive(faultline), 15_000), `faultline outlived npm:\n${stderr}`);
    assert.deepEqual(labOwnedProcesses(faultline), []);
    assert.match(stderr, /the parent process exited, stopping/);
  } finally {
    if (npm.exitCode === null) npm.kill("SIGKILL");
    if (faultline && alive(faultline)) process.kill(faultline, "SIGKILL");
  }
});

// SIGTERM to `up` is fis-commands.test.ts's; the same shutdown.ts handles both commands and all three signals.
for (const signal of ["SIGHUP"] as const) {
  test(`faultline lab up stops the lab and exits 0 on ${signal} (a closing terminal)`, async () => {
    const child = spawn(process.execPath, [BIN, "lab", "up", "--json", "-c", join(dir, "lab.json")], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = once(child, "exit");
    try {
      await labRunning(child);
      assert.ok(labOwnedProcesses(child.pid).length > 0);
      child.kill(signal);
      const [code] = await exited;
      assert.equal(code, 0);
      assert.deepEqual(labOwnedProcesses(child.pid), []);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
}
