/**
 * The layer's launcher picks the mode from what an extension can see. Extensions API docs (Lambda execution
 * environment variables): AWS_EXECUTION_ENV and LAMBDA_RUNTIME_DIR are runtime-only, so on Lambda the launcher
 * sees neither and recognises a Node runtime by its runtime client in /var/runtime. Runs the real script with
 * stand-ins for what it execs, so the choice is observed without a Runtime API.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { staticBusybox } from "../src/layer.ts";

const LAUNCHER = join(import.meta.dirname, "..", "layer", "launcher");
const root = mkdtempSync(join(tmpdir(), "faultline-launcher-"));
after(() => rmSync(root, { recursive: true, force: true }));

// /opt as the layer lays it out, with the bundles replaced by scripts that say which one ran.
const opt = join(root, "opt");
mkdirSync(join(opt, "extensions"), { recursive: true });
mkdirSync(join(opt, "faultline"));
copyFileSync(LAUNCHER, join(opt, "extensions", "faultline"));
chmodSync(join(opt, "extensions", "faultline"), 0o755);
writeFileSync(join(opt, "faultline", "lifecycle"), "echo in-process\n");
writeFileSync(join(opt, "faultline", "in-process.cjs"), "");
writeFileSync(join(opt, "faultline", "extension.cjs"), 'console.log("external")\n');
const nodeClient = join(root, "node-runtime");
mkdirSync(join(nodeClient, "dist"), { recursive: true });
writeFileSync(join(nodeClient, "dist", "rapid-client.node"), "");

function mode(env: Record<string, string>): string {
  return execFileSync(join(opt, "extensions", "faultline"), {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    encoding: "utf8",
  }).trim();
}

describe("launcher: which mode (FAULTLINE_MODE=auto)", () => {
  it("a Node runtime client in the runtime dir → in-process, without AWS_EXECUTION_ENV (as extensions see it)", () => {
    assert.equal(mode({ LAMBDA_RUNTIME_DIR: nodeClient }), "in-process");
  });

  it("no runtime client it knows → the external proxy", () => {
    assert.equal(mode({ LAMBDA_RUNTIME_DIR: join(root, "nothing-here") }), "external");
  });

  it("an execution environment that says it is not Node → external, whatever the runtime dir holds", () => {
    assert.equal(
      mode({ LAMBDA_RUNTIME_DIR: nodeClient, AWS_EXECUTION_ENV: "AWS_Lambda_python3.12" }),
      "external",
    );
  });

  it("FAULTLINE_MODE=external and in-process are obeyed; an invalid value is said and treated as auto", () => {
    assert.equal(mode({ LAMBDA_RUNTIME_DIR: nodeClient, FAULTLINE_MODE: "external" }), "external");
    assert.equal(
      mode({ LAMBDA_RUNTIME_DIR: join(root, "nothing-here"), FAULTLINE_MODE: "in-process" }),
      "in-process",
    );
    assert.match(
      mode({ LAMBDA_RUNTIME_DIR: nodeClient, FAULTLINE_MODE: "fast" }),
      /invalid setting FAULTLINE_MODE="fast"[\s\S]*in-process$/,
    );
  });
});

describe("launcher: the xz standalone build (node unpacked into /tmp once per environment)", () => {
  let busybox: string | undefined;
  try {
    busybox = staticBusybox();
  } catch {
    if (process.env.CI === "true")
      throw new Error("CI needs a static busybox (scripts/setup.sh: busybox-static)");
  }
  const skip = busybox ? {} : { skip: "no statically linked busybox on PATH (Debian: busybox-static)" };
  const xzOpt = join(root, "opt-xz");
  const unpackDir = join(root, "unpacked");
  const launcher = join(xzOpt, "extensions", "faultline");
  const layFakeNode = (script: string) => {
    mkdirSync(join(xzOpt, "extensions"), { recursive: true });
    mkdirSync(join(xzOpt, "faultline"), { recursive: true });
    copyFileSync(LAUNCHER, launcher);
    chmodSync(launcher, 0o755);
    copyFileSync(busybox!, join(xzOpt, "faultline", "busybox"));
    chmodSync(join(xzOpt, "faultline", "busybox"), 0o755);
    writeFileSync(join(xzOpt, "faultline", "node.xz"), execFileSync("xz", ["-c"], { input: script }));
  };
  const run = () =>
    execFileSync(launcher, {
      env: { PATH: "/usr/bin:/bin", FAULTLINE_MODE: "external", FAULTLINE_UNPACK_DIR: unpackDir },
      encoding: "utf8",
    }).trim();

  it("runs the extension on the unpacked node, and unpacks it only once", skip, () => {
    layFakeNode('#!/bin/sh\necho "fake node ran $*"\n');
    assert.equal(
      run(),
      `fake node ran --max-semi-space-size=1 ${xzOpt}/extensions/../faultline/extension.cjs`,
    );
    rmSync(join(xzOpt, "faultline", "node.xz"));
    writeFileSync(join(xzOpt, "faultline", "node.xz"), "not xz");
    assert.equal(
      run(),
      `fake node ran --max-semi-space-size=1 ${xzOpt}/extensions/../faultline/extension.cjs`,
      "the same node",
    );
    assert.deepEqual(readdirSync(unpackDir), ["node"], "no temporary file left");
  });

  it("a node.xz that does not unpack: says so, exits non-zero, leaves no partial node", skip, () => {
    rmSync(unpackDir, { recursive: true, force: true });
    layFakeNode("");
    writeFileSync(join(xzOpt, "faultline", "node.xz"), "not xz");
    assert.throws(run, (e: { status: number; stdout: string }) => {
      assert.equal(e.status, 1);
      assert.match(e.stdout, /could not unpack node into/);
      return true;
    });
    assert.deepEqual(readdirSync(unpackDir), []);
  });
});
