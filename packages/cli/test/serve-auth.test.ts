/** `faultline serve --verify-signatures` as docs/api.md documents it: the real bin, real SigV4 clients. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, it } from "node:test";
import { FisClient, ListExperimentsCommand } from "@aws-sdk/client-fis";

const bin = join(import.meta.dirname, "..", "bin", "faultline.mjs");

function serve(env: Record<string, string>, dataDir: string) {
  const child = spawn(
    bin,
    [
      "serve",
      "--verify-signatures",
      "--json",
      "--data-dir",
      dataDir,
      "--lambda-endpoint",
      "http://127.0.0.1:9",
    ],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } },
  );
  let stderr = "";
  child.stderr?.on("data", (c) => {
    stderr += c;
  });
  const firstLine = new Promise<string | undefined>((resolve) => {
    createInterface({ input: child.stdout! }).once("line", resolve);
    child.once("exit", () => resolve(undefined));
  });
  return { child, firstLine, stderr: () => stderr, exit: once(child, "exit").then(([code]) => code) };
}

const client = (endpoint: string, secretAccessKey: string) =>
  new FisClient({
    endpoint,
    region: "us-east-1",
    maxAttempts: 1,
    credentials: { accessKeyId: "AKIDSERVE", secretAccessKey },
  });

describe("faultline serve --verify-signatures", () => {
  it("without FAULTLINE_API_ACCESS_KEY_ID / _SECRET_ACCESS_KEY: a usage error naming both, exit 2", async () => {
    const dir = mkdtempSync(join(tmpdir(), "faultline-serve-auth-"));
    try {
      const s = serve({ FAULTLINE_API_ACCESS_KEY_ID: "", FAULTLINE_API_SECRET_ACCESS_KEY: "" }, dir);
      assert.equal(await s.exit, 2);
      assert.match(s.stderr(), /FAULTLINE_API_ACCESS_KEY_ID and FAULTLINE_API_SECRET_ACCESS_KEY/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("with them: a request signed with the secret is served, a wrong secret is InvalidSignatureException", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "faultline-serve-auth-"));
    const s = serve(
      { FAULTLINE_API_ACCESS_KEY_ID: "AKIDSERVE", FAULTLINE_API_SECRET_ACCESS_KEY: "serve-secret" },
      dir,
    );
    t.after(() => {
      s.child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    });
    const line = await s.firstLine;
    assert.ok(line, `serve exited: ${s.stderr()}`);
    const { fis } = JSON.parse(line) as { fis: string };
    const good = await client(fis, "serve-secret").send(new ListExperimentsCommand({}));
    assert.deepEqual(good.experiments, []);
    await assert.rejects(client(fis, "wrong").send(new ListExperimentsCommand({})), (e: Error) => {
      assert.equal(e.name, "InvalidSignatureException");
      return true;
    });
    s.child.kill("SIGTERM");
    assert.equal(await s.exit, 0);
  });
});
