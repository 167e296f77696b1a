/**
 * Issue 9: `faultline up` (lab, engine, FIS API in one process) as users run it. The requests that used to kill it
 * (`///` on the Lambda port, a bad %-escape in a function name) get 4xx and it keeps serving; `--allowed-host`
 * opens a name on every server, other names are refused.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, describe, it } from "node:test";
import { sendRaw } from "@faultline/testing";

const bin = join(import.meta.dirname, "..", "bin", "faultline.mjs");
const labJson = join(import.meta.dirname, "..", "..", "lab", "test", "fixtures", "lab-basic", "lab.json");

describe("faultline up under hostile requests", () => {
  const dir = mkdtempSync(join(tmpdir(), "faultline-up-hostile-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("survives ///, bad escapes and foreign Hosts; --allowed-host opens a name", async (t) => {
    const child = spawn(
      bin,
      ["up", "--json", "-c", labJson, "--data-dir", join(dir, "engine"), "--allowed-host", "lab.test"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stderr?.on("data", (c) => {
      stderr += c;
    });
    const exited = once(child, "exit");
    t.after(() => child.kill("SIGKILL"));
    const [line] = (await once(createInterface({ input: child.stdout! }), "line")) as [string];
    const e = JSON.parse(line) as { lambda: string; s3: string; cloudwatch: string; fis: string };

    const root = await sendRaw(e.lambda, { method: "GET", target: "///" });
    assert.equal(root.status, 404);
    const bad = await sendRaw(e.lambda, {
      method: "POST",
      target: "/2015-03-31/functions/hello%E0%A4/invocations",
      body: "{}",
    });
    assert.equal(bad.status, 400);
    assert.equal((await sendRaw(e.fis, { method: "GET", target: "///" })).status, 404);

    const port = (u: string) => new URL(u).port;
    for (const [url, target] of [
      [e.lambda, "/2015-03-31/functions"],
      [e.fis, "/experimentTemplates"],
      [e.s3, "/faults?list-type=2"],
    ] as const) {
      const named = await sendRaw(url, { method: "GET", target, headers: { host: `lab.test:${port(url)}` } });
      assert.equal(named.status, 200, `${url}: ${named.body}`);
      const foreign = await sendRaw(url, { method: "GET", target, headers: { host: "attacker.example" } });
      assert.equal(foreign.status, 403, `${url}: ${foreign.body}`);
    }
    assert.equal(child.exitCode, null, `still running: ${stderr}`);
    child.kill("SIGTERM");
    const [code] = await exited;
    assert.equal(code, 0, stderr);
  });
});
