/**
 * A checkout under the host's /tmp (as CI clones may be): the environment's private /tmp hides it, so
 * everything a process needs from the host must be mounted before /tmp. Here the runtime client and the
 * function code both live under the host's /tmp.
 */
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, test } from "node:test";
import { CollectingLogSink, labOwnedProcesses, makeInput } from "../../testing/src/index.ts";
import { createEnvironmentFactory } from "../src/environment/index.ts";
import { defaultRicEntry } from "../src/environment/lambda-env.ts";

const scratch = mkdtempSync(join(tmpdir(), "faultline-host-tmp-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

test("a runtime client and code under the host's /tmp still run in the sandbox", async () => {
  const ricPackage = dirname(dirname(defaultRicEntry()));
  const ricCopy = join(scratch, "aws-lambda-ric");
  for (const part of ["package.json", "bin", "dist"])
    cpSync(join(ricPackage, part), join(ricCopy, part), { recursive: true });
  const code = join(scratch, "code");
  cpSync(join(import.meta.dirname, "fixtures", "env-node"), code, { recursive: true });

  const factory = createEnvironmentFactory({ ricEntry: join(ricCopy, "bin", "index.mjs") });
  const env = factory.create(
    {
      name: "under-tmp",
      arn: "arn:aws:lambda:us-east-1:123456789012:function:under-tmp",
      region: "us-east-1",
      accountId: "123456789012",
      runtime: "nodejs20.x",
      handler: "index.echo",
      codeDir: code,
      layers: [],
      environment: {},
      tags: {},
      timeoutSeconds: 3,
      memorySizeMb: 128,
    },
    { extraEnvironment: {} },
    new CollectingLogSink(),
  );
  try {
    const report = await env.invoke(makeInput({ payload: Buffer.from('{"hello":"tmp"}') }));
    assert.equal(report.outcome.kind, "response", report.log);
    if (report.outcome.kind === "response") assert.match(report.outcome.payload.toString(), /"hello":"tmp"/);
  } finally {
    await env.shutdown("spindown");
  }
  assert.deepEqual(labOwnedProcesses(), []);
});
