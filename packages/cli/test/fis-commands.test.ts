import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { type Faultline, serveFaultline } from "@faultline/api";
import { FAULTLINE_VERSION } from "@faultline/protocol";
import { awsCli } from "../../api/test/kit.ts";
import { Moto, readyEnv } from "../../engine/test/moto.ts";
import { seedTemplate } from "../../engine/test/seed.ts";
import { awsCliV1 } from "../../testing/src/index.ts";
import { main } from "../src/main.ts";
import { runCli } from "./run-cli.ts";

let moto: Moto;
let f: Faultline;
let dir: string;

before(async () => {
  moto = await Moto.start();
  dir = mkdtempSync(join(tmpdir(), "faultline-cli-fis-"));
  await moto.bucket("faults");
  const layer = await moto.layer();
  await moto.fn("ready1", { tags: { FISExperimentReady: "Yes" }, layer, env: readyEnv("faults") });
  await moto.fn("unready", { tags: { FISExperimentReady: "Yes" } });
  f = await serveFaultline({
    dataDir: join(dir, "data"),
    endpoints: { lambda: moto.endpoint, s3: moto.endpoint, cloudwatch: moto.endpoint },
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    log: () => {},
  });
});
after(async () => {
  await f?.close();
  await moto?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) => runCli(f.url, ...args);

describe("faultline templates / experiments (through the FIS API)", () => {
  test("templates create, list, get, update, delete; errors name the field", async () => {
    const file = join(dir, "t.json");
    writeFileSync(file, JSON.stringify(seedTemplate()));
    const created = await cli("templates", "create", "-f", file);
    assert.equal(created.code, 0, created.stderr);
    const id = created.stdout.trim();
    assert.match(id, /^EXT/);
    assert.match((await cli("templates", "list")).stdout, new RegExp(`${id} .*lambda latency`));
    const got = JSON.parse((await cli("templates", "get", id)).stdout);
    assert.equal(got.actions.lat.actionId, "aws:lambda:invocation-add-delay");
    writeFileSync(join(dir, "u.json"), JSON.stringify({ description: "renamed" }));
    assert.equal((await cli("templates", "update", id, "-f", join(dir, "u.json"))).code, 0);
    assert.equal(JSON.parse((await cli("templates", "get", id, "--json")).stdout).description, "renamed");
    assert.equal((await cli("templates", "delete", id)).code, 0);
    const missing = await cli("templates", "get", id);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /ResourceNotFoundException: Experiment template EXT\w+ not found/);
    const bad = seedTemplate();
    bad.targets.fns.selectionMode = "MOST";
    writeFileSync(file, JSON.stringify(bad));
    const invalid = await cli("templates", "create", "-f", file);
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /ValidationException: targets\.fns\.selectionMode: "MOST" must be ALL/);
  });

  test("preview reports readiness in words; start --watch follows to the end; stop --all", async () => {
    const tpl = seedTemplate();
    const file = join(dir, "p.json");
    writeFileSync(file, JSON.stringify(tpl));
    const id = (await cli("templates", "create", "-f", file)).stdout.trim();
    const preview = await cli("experiments", "preview", id, "--interval", "20");
    assert.equal(preview.code, 0, preview.stdout + preview.stderr);
    assert.match(preview.stdout, /ready1\s+true/);
    assert.match(
      preview.stdout,
      /unready\s+false\s+-\s+function unready does not set AWS_LAMBDA_EXEC_WRAPPER.*has no faultline layer attached/,
    );
    // moto gives no layer content: the version is reported unknown, and readiness does not guess.
    assert.match(preview.stdout, /ready1\s+true\s+faultline \(unknown\)\s/);
    assert.match(preview.stderr, /1 target\(s\) not ready/);
    assert.deepEqual(await moto.keys("faults"), []);

    tpl.targets.fns = {
      resourceType: "aws:lambda:function",
      resourceArns: ["arn:aws:lambda:us-east-1:123456789012:function:ready1"],
      selectionMode: "ALL",
    };
    tpl.actions.lat.parameters.duration = "PT1S";
    writeFileSync(file, JSON.stringify(tpl));
    const short = (await cli("templates", "create", "-f", file)).stdout.trim();
    const watched = await cli("experiments", "start", short, "--watch", "--interval", "50");
    assert.equal(watched.code, 0, watched.stderr);
    assert.match(watched.stdout, /lat\s+aws:lambda:invocation-add-delay\s+running/);
    assert.match(watched.stdout, /EXP\w+\s+completed\s+Experiment completed\./);
    assert.deepEqual(await moto.keys("faults"), []);

    tpl.actions.lat.parameters.duration = "PT10M";
    writeFileSync(file, JSON.stringify(tpl));
    const long = (await cli("templates", "create", "-f", file)).stdout.trim();
    const started = await cli("experiments", "start", long, "--json");
    const x = JSON.parse(started.stdout);
    await f.engine.idle(x.id);
    assert.equal((await moto.keys("faults")).length, 1);
    assert.match(
      (await cli("experiments", "get", x.id)).stdout,
      /lat\s+aws:lambda:invocation-add-delay\s+running\s+\d+s/,
    );
    assert.match((await cli("experiments", "list")).stdout, new RegExp(`${x.id}\\s+running`));
    const stopAll = await cli("experiments", "stop", "--all");
    assert.match(stopAll.stdout, new RegExp(`${x.id}\\s+stopping`));
    await f.engine.settled(x.id);
    assert.deepEqual(await moto.keys("faults"), []);
    assert.equal((await cli("experiments", "stop", "--all")).stdout, "no active experiments\n");
  });
});

describe("faultline safety-lever (FIS GetSafetyLever / UpdateSafetyLeverState)", () => {
  test("engage stops the running experiment and its faults; botocore (AWS CLI v1) sees the lever, gets cancelled experiments and FIS's errors; disengaged, experiments run", async () => {
    const v1 = awsCli(awsCliV1, "fis", f.url);
    const tpl = seedTemplate();
    tpl.targets.fns = {
      resourceType: "aws:lambda:function",
      resourceArns: ["arn:aws:lambda:us-east-1:123456789012:function:ready1"],
      selectionMode: "ALL",
    };
    const file = join(dir, "lever.json");
    writeFileSync(file, JSON.stringify(tpl));
    const id = (await cli("templates", "create", "-f", file)).stdout.trim();
    const x = JSON.parse((await cli("experiments", "start", id, "--json")).stdout);
    await f.engine.idle(x.id);
    assert.equal((await moto.keys("faults")).length, 1);

    const before = (await v1("get-safety-lever", "--id", "default")).safetyLever;
    assert.equal(before.state.status, "disengaged");
    assert.equal(before.arn, "arn:aws:fis:us-east-1:123456789012:safety-lever/default");

    const engaged = await cli("safety-lever", "engage", "--reason", "game day over");
    assert.equal(engaged.code, 0, engaged.stderr);
    assert.match(engaged.stdout, /default {2}engaged {2}game day over\n$/);
    // The lever is engaged only once the stop is done: the experiment ended and its fault object is gone.
    const stopped = f.engine.getExperiment(x.id);
    assert.deepEqual(stopped.state, {
      status: "stopped",
      reason: "Experiment stopped: the safety lever was engaged (game day over).",
    });
    assert.deepEqual(await moto.keys("faults"), []);

    const blocked = (await v1("start-experiment", "--experiment-template-id", id)).experiment;
    assert.equal(blocked.state.status, "cancelled");
    assert.match(blocked.state.reason, /safety lever is engaged \(game day over\)/);
    // A script's `experiments start` must not take the cancelled experiment for a started one.
    const refused = await cli("experiments", "start", id);
    assert.equal(refused.code, 3, refused.stderr);
    assert.match(refused.stderr, /EXP\w+ cancelled: Experiment cancelled: the safety lever is engaged/);
    assert.deepEqual(await moto.keys("faults"), []);
    await assert.rejects(
      v1("update-safety-lever-state", "--id", "default", "--state", "status=engaged,reason=another"),
      (e: { stderr: string }) => /ConflictException/.test(e.stderr) && /already engaged/.test(e.stderr),
    );
    const missingReason = await cli("safety-lever", "engage");
    assert.equal(missingReason.code, 2);
    assert.match(missingReason.stderr, /--reason/);

    // AWS CLI v2 2.9.19 predates these operations; v1's botocore has them.
    const off = (
      await v1("update-safety-lever-state", "--id", "default", "--state", "status=disengaged,reason=thaw")
    ).safetyLever;
    assert.deepEqual(off.state, { status: "disengaged", reason: "thaw" });
    assert.equal((await cli("safety-lever", "status")).stdout, "default  disengaged  thaw\n");
    const unknown = await cli("safety-lever", "status", "--id", "SL123");
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /ResourceNotFoundException: Safety lever SL123 not found/);
    const again = JSON.parse((await cli("experiments", "start", id, "--json")).stdout);
    await f.engine.idle(again.id);
    assert.equal(f.engine.getExperiment(again.id).state.status, "running");
    f.engine.stopExperiment(again.id);
    await f.engine.settled(again.id);
  });
});

describe("faultline serve", () => {
  test("prints its endpoint, serves the FIS API with its readiness options, and exits cleanly on SIGTERM", async () => {
    const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        main,
        "serve",
        "--json",
        "--data-dir",
        join(dir, "serve"),
        "--lambda-endpoint",
        moto.endpoint,
        "--s3-endpoint",
        moto.endpoint,
        "--expected-bucket",
        "chaos-configs",
      ],
      {
        stdio: ["ignore", "pipe", "inherit"],
        env: {
          ...process.env,
          NODE_NO_WARNINGS: "1",
          AWS_ACCESS_KEY_ID: "testing",
          AWS_SECRET_ACCESS_KEY: "testing",
        },
      },
    );
    const exited = once(child, "exit");
    try {
      const [line] = (await once(createInterface({ input: child.stdout! }), "line")) as [string];
      const { fis, console: consoleUrl } = JSON.parse(line) as { fis: string; console: string };
      assert.match(fis, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(consoleUrl, `${fis}/console/`, "the web console, on the API's port");
      const res = await fetch(`${fis}/actions`);
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { actions: unknown[] }).actions.length, 8);
      // --expected-bucket reaches readiness: ready1 reads its faults from "faults", not "chaos-configs".
      const file = join(dir, "serve-template.json");
      writeFileSync(file, JSON.stringify(seedTemplate()));
      const id = (await runCli(fis, "templates", "create", "-f", file)).stdout.trim();
      const preview = await runCli(fis, "experiments", "preview", id, "--interval", "20");
      assert.match(
        preview.stdout,
        /ready1\s+false\s+faultline \(unknown\)\s+function ready1 reads faults from bucket faults, not the expected chaos-configs/,
      );
      child.kill("SIGTERM");
      const [code] = await exited;
      assert.equal(code, 0);
    } finally {
      if (child.exitCode === null) {
        child.kill("SIGKILL");
        await exited;
      }
    }
  });
});

describe("faultline up", () => {
  test("lab + engine + API: one JSON line with lambda, s3, cloudwatch, fis; preview resolves a lab function as ready", async () => {
    // A stand-in layer: readiness reads only its faultline/VERSION (nothing is invoked). Named `layer`, as
    // `faultline layer build --out layer.zip` would name it: readiness goes by content, never by name.
    const layer = join(dir, "layer");
    mkdirSync(join(layer, "faultline"), { recursive: true });
    writeFileSync(join(layer, "faultline", "VERSION"), `${FAULTLINE_VERSION}\n`);
    const config = join(dir, "lab.json");
    writeFileSync(
      config,
      JSON.stringify({
        buckets: ["faults"],
        functions: [
          {
            name: "web",
            runtime: "nodejs20.x",
            handler: "index.handler",
            code: fileURLToPath(new URL("../../api/test/fixtures/fn/", import.meta.url)),
            layers: [layer],
            tags: { FISExperimentReady: "Yes" },
            environment: {
              AWS_LAMBDA_EXEC_WRAPPER: "/opt/faultline/bootstrap",
              AWS_FIS_CONFIGURATION_LOCATION: "arn:aws:s3:::faults/FisConfigs/",
            },
          },
        ],
      }),
    );
    const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));
    const child = spawn(
      process.execPath,
      ["--import", "tsx", main, "up", "--json", "-c", config, "--data-dir", join(dir, "up")],
      {
        stdio: ["ignore", "pipe", "inherit"],
        env: { ...process.env, NODE_NO_WARNINGS: "1" },
      },
    );
    const exited = once(child, "exit");
    try {
      const [line] = (await once(createInterface({ input: child.stdout! }), "line")) as [string];
      const endpoints = JSON.parse(line) as { lambda: string; s3: string; fis: string };
      assert.deepEqual(Object.keys(endpoints), ["lambda", "s3", "cloudwatch", "fis", "console"]);
      const file = join(dir, "up-template.json");
      writeFileSync(file, JSON.stringify(seedTemplate()));
      const run = async (...args: string[]) => {
        let out = "";
        const code = await main_(args.concat("--endpoint", endpoints.fis), (t) => {
          out += t;
        });
        return { code, out };
      };
      const id = (await run("templates", "create", "-f", file)).out.trim();
      const preview = await run("experiments", "preview", id, "--interval", "20");
      assert.equal(preview.code, 0, preview.out);
      assert.match(
        preview.out,
        new RegExp(`fns\\s+web\\s+true\\s+faultline ${FAULTLINE_VERSION.replaceAll(".", "\\.")}`),
      );
      child.kill("SIGTERM");
      const [code] = await exited;
      assert.equal(code, 0);
    } finally {
      if (child.exitCode === null) {
        child.kill("SIGKILL");
        await exited;
      }
    }
  });
});

async function main_(args: string[], out: (t: string) => void): Promise<number> {
  process.exitCode = undefined;
  const code = await main(args, { stdout: out, stderr: out });
  process.exitCode = undefined;
  return code;
}
