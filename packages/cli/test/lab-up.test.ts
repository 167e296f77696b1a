/** `faultline lab up` as users run it: the real bin, a real lab, signals. */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, it } from "node:test";
import { labOwnedProcesses } from "@faultline/testing";
import { main } from "../src/main.ts";

const bin = join(import.meta.dirname, "..", "bin", "faultline.mjs");
const labJson = join(import.meta.dirname, "..", "..", "lab", "test", "fixtures", "lab-basic", "lab.json");

function run(args: string[]): {
  child: ChildProcess;
  stdout: string[];
  stderr: () => string;
  exit: Promise<number | null>;
} {
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  const stdout: string[] = [];
  let stderr = "";
  child.stderr?.on("data", (c) => {
    stderr += c;
  });
  createInterface({ input: child.stdout! }).on("line", (line) => stdout.push(line));
  const exit = once(child, "exit").then(([code]) => code as number | null);
  return { child, stdout, stderr: () => stderr, exit };
}

async function firstLine(stdout: string[], exit: Promise<unknown>): Promise<string> {
  const exited = exit.then(() => "exited");
  while (stdout.length === 0) {
    const r = await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 20, "tick"))]);
    if (r === "exited" && stdout.length === 0) throw new Error("lab up exited before printing its endpoints");
  }
  return stdout[0]!;
}

describe("faultline lab up", () => {
  it("--json prints exactly one JSON line when ready, serves, and exits 0 on SIGTERM", async (t) => {
    const { child, stdout, stderr, exit } = run(["lab", "up", "--json", "--config", labJson]);
    t.after(() => child.kill("SIGKILL"));
    const line = await firstLine(stdout, exit);
    const endpoints = JSON.parse(line) as Record<string, string>;
    assert.deepEqual(Object.keys(endpoints).sort(), ["cloudwatch", "lambda", "s3"]);
    assert.match(endpoints.lambda!, /^http:\/\/127\.0\.0\.1:\d+$/);
    const list = await fetch(`${endpoints.lambda}/2015-03-31/functions/`);
    assert.equal(list.status, 200);
    const names = ((await list.json()) as { Functions: Array<{ FunctionName: string }> }).Functions.map(
      (f) => f.FunctionName,
    );
    assert.deepEqual(names, ["node-echo", "shell-echo", "single"]);
    // A real environment starts, so SIGTERM has processes to take down.
    const invoked = await fetch(`${endpoints.lambda}/2015-03-31/functions/shell-echo/invocations`, {
      method: "POST",
      body: '{"ping":1}',
    });
    assert.equal(await invoked.text(), '{"ping":1}');
    assert.ok(labOwnedProcesses(child.pid).length > 0, "the invocation started processes");
    child.kill("SIGTERM");
    assert.equal(await exit, 0, stderr());
    assert.deepEqual(labOwnedProcesses(child.pid), [], "stop() waited for every process");
    assert.deepEqual(stdout, [line], "nothing but the endpoints on stdout");
    await assert.rejects(fetch(`${endpoints.lambda}/2015-03-31/functions/`));
  });

  it("Ctrl-C (SIGINT) stops the lab and its processes, exit 0", async (t) => {
    const { child, stdout, stderr, exit } = run(["lab", "up", "--json", "--config", labJson]);
    t.after(() => child.kill("SIGKILL"));
    const { lambda } = JSON.parse(await firstLine(stdout, exit)) as { lambda: string };
    await fetch(`${lambda}/2015-03-31/functions/node-echo/invocations`, { method: "POST", body: "{}" });
    assert.ok(labOwnedProcesses(child.pid).length > 0);
    child.kill("SIGINT");
    assert.equal(await exit, 0, stderr());
    assert.deepEqual(labOwnedProcesses(child.pid), []);
  });

  it("a crashed lab (SIGKILL) leaves no process behind", async (t) => {
    const { child, stdout, exit } = run(["lab", "up", "--json", "--config", labJson]);
    t.after(() => child.kill("SIGKILL"));
    const { lambda } = JSON.parse(await firstLine(stdout, exit)) as { lambda: string };
    for (const fn of ["node-echo", "shell-echo"]) {
      await fetch(`${lambda}/2015-03-31/functions/${fn}/invocations`, { method: "POST", body: "{}" });
    }
    const pid = child.pid;
    assert.ok(labOwnedProcesses(pid).length > 0);
    child.kill("SIGKILL");
    await exit;
    // The kernel delivers the parent-death signals asynchronously: wait for the processes to go, with a deadline.
    const deadline = Date.now() + 5000;
    while (labOwnedProcesses(pid).length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    assert.deepEqual(labOwnedProcesses(pid), []);
  });

  it("a bad config → the error naming file and field, exit 2, nothing started", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "faultline-cli-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const raw = JSON.parse(readFileSync(labJson, "utf8"));
    raw.functions[0].code = join(labJson, "..", "node-echo");
    raw.functions[0].layers = [];
    raw.functions = [raw.functions[0]];
    raw.functions[0].timeout = 0;
    const file = join(dir, "lab.json");
    writeFileSync(file, JSON.stringify(raw));
    const { stdout, stderr, exit } = run(["lab", "up", "--json", "--config", file]);
    assert.equal(await exit, 2);
    assert.deepEqual(stdout, []);
    assert.match(stderr(), /lab\.json: functions\[0\]\.timeout: must be a number between 1 and 900/);
  });

  it("usage errors exit 2 through main()", async () => {
    let err = "";
    const code = await main(["lab", "up"], { stdout: () => {}, stderr: (s) => (err += s) });
    assert.equal(code, 2);
    assert.match(err, /required option '-c, --config <file>'/);
  });
});
