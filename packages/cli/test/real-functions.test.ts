/**
 * `faultline layer publish`, `enable`, `disable` and `iam-policy` as a new user runs them: against the lab (real
 * functions, invoked after enable) and against moto_server (a second, independent Lambda implementation).
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  type FunctionConfiguration,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  type LambdaClient,
} from "@aws-sdk/client-lambda";
import { type Lab, startLab } from "@faultline/lab";
import { FAULTLINE_VERSION } from "@faultline/protocol";
import { strToU8, zipSync } from "fflate";
import { Moto } from "../../engine/test/moto.ts";
import { runCliArgs as cli } from "./run-cli.ts";

const CODE = fileURLToPath(new URL("../../api/test/fixtures/fn/", import.meta.url));

const configOf = async (lambda: LambdaClient, name: string): Promise<FunctionConfiguration> =>
  lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name }));
const layersOf = (c: FunctionConfiguration) => (c.Layers ?? []).map((l) => l.Arn);

const dir = mkdtempSync(join(tmpdir(), "faultline-cli-real-"));
before(() => {
  process.env.AWS_ACCESS_KEY_ID ??= "testing";
  process.env.AWS_SECRET_ACCESS_KEY ??= "testing";
  process.env.AWS_REGION ??= "us-east-1";
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe("against the lab: publish, enable, invoke, replace, refuse, disable", () => {
  let lab: Lab;
  let lambda: LambdaClient;
  let at: string[];
  const layerDir = (name: string) => {
    const path = join(dir, name);
    mkdirSync(path, { recursive: true });
    writeFileSync(join(path, `${name}.txt`), name);
    return path;
  };

  /** An older faultline layer under another name: known by its faultline/VERSION. */
  const faultlineDir = (name: string) => {
    const path = layerDir(name);
    mkdirSync(join(path, "faultline"), { recursive: true });
    writeFileSync(join(path, "faultline", "VERSION"), "0.0.9\n");
    return path;
  };

  before(async () => {
    const fn = (name: string, extra: Record<string, unknown>) => ({
      name,
      runtime: "nodejs20.x" as const,
      handler: "index.handler",
      code: CODE,
      ...extra,
    });
    lab = await startLab({
      buckets: ["faults"],
      functions: [
        fn("web", {
          layers: [layerDir("deps")],
          environment: { KEEP: "me", ORDER: "1" },
          tags: { team: "a" },
        }),
        fn("api", { tags: { team: "a" } }),
        fn("other", { tags: { team: "b" } }),
        fn("wrapped", { environment: { AWS_LAMBDA_EXEC_WRAPPER: "/opt/otel-instrument" } }),
        fn("full", { layers: ["l1", "l2", "l3", "l4", "l5"].map(layerDir) }),
        fn("legacy", { layers: [layerDir("deps2"), faultlineDir("chaos-tools"), layerDir("after")] }),
      ],
    });
    lambda = new (await import("@aws-sdk/client-lambda")).LambdaClient({
      endpoint: lab.endpoints.lambda,
      region: "us-east-1",
    });
    at = ["--endpoint-url", lab.endpoints.lambda];
  });
  after(async () => {
    lambda?.destroy();
    await lab?.stop();
  });

  test("layer publish builds and publishes the layer; enable attaches it keeping everything else; the function runs with it", async () => {
    const published = await cli("layer", "publish", ...at);
    assert.equal(published.code, 0, published.stderr);
    assert.equal(published.stdout, "arn:aws:lambda:us-east-1:123456789012:layer:faultline:1\n");
    const before = await configOf(lambda, "web");

    const dry = await cli("enable", "web", "--bucket", "faults", "--dry-run", ...at);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(
      dry.stdout,
      /web \(dry run\):\n {2}layer \+ arn:aws:lambda:us-east-1:123456789012:layer:faultline:1\n/,
    );
    assert.match(dry.stdout, /env \+ AWS_LAMBDA_EXEC_WRAPPER=\/opt\/faultline\/bootstrap/);
    assert.match(dry.stdout, /env \+ AWS_FIS_CONFIGURATION_LOCATION=arn:aws:s3:::faults\/FisConfigs\//);
    assert.equal((await configOf(lambda, "web")).RevisionId, before.RevisionId, "a dry run changes nothing");

    const enableWeb = [
      "enable",
      "web",
      "--bucket",
      "faults",
      "--slow-poll",
      "30",
      "--marker-interval",
      "500",
    ];
    const enabled = await cli(...enableWeb, ...at);
    assert.equal(enabled.code, 0, enabled.stderr);
    const after = await configOf(lambda, "web");
    assert.deepEqual(layersOf(after), [
      ...layersOf(before),
      "arn:aws:lambda:us-east-1:123456789012:layer:faultline:1",
    ]);
    assert.deepEqual(after.Environment?.Variables, {
      KEEP: "me",
      ORDER: "1",
      AWS_LAMBDA_EXEC_WRAPPER: "/opt/faultline/bootstrap",
      AWS_FIS_CONFIGURATION_LOCATION: "arn:aws:s3:::faults/FisConfigs/",
      AWS_FIS_SLOW_POLL_INTERVAL_SECONDS: "30",
      FAULTLINE_MARKER_INTERVAL_MILLISECONDS: "500",
    });
    // The function now starts through faultline's wrapper and extension, and answers as before.
    const out = await lambda.send(new InvokeCommand({ FunctionName: "web", Payload: "{}" }));
    assert.equal(out.FunctionError, undefined, Buffer.from(out.Payload ?? []).toString());
    assert.equal(
      (await cli(...enableWeb, ...at)).stdout,
      "web: no change\n",
      "enabling again changes nothing",
    );

    // A newer version replaces the older one where it stands: no second faultline layer.
    const zip = join(dir, "v2.zip");
    writeFileSync(zip, zipSync({ "faultline/VERSION": strToU8(`${FAULTLINE_VERSION}\n`) }));
    assert.equal(
      (await cli("layer", "publish", "--zip", zip, ...at)).stdout,
      "arn:aws:lambda:us-east-1:123456789012:layer:faultline:2\n",
    );
    const replaced = await cli("enable", "web", "--bucket", "faults", ...at);
    assert.match(
      replaced.stdout,
      /layer arn:aws:lambda:us-east-1:123456789012:layer:faultline:1 → arn:aws:lambda:us-east-1:123456789012:layer:faultline:2/,
    );
    assert.deepEqual(layersOf(await configOf(lambda, "web")), [
      layersOf(before)[0],
      "arn:aws:lambda:us-east-1:123456789012:layer:faultline:2",
    ]);

    const disabled = await cli("disable", "web", ...at);
    assert.equal(disabled.code, 0, disabled.stderr);
    const restored = await configOf(lambda, "web");
    assert.deepEqual(layersOf(restored), layersOf(before));
    assert.deepEqual(restored.Environment?.Variables, before.Environment?.Variables);
  });

  test("an older faultline layer published under another name is replaced where it stands, found by content", async () => {
    const layers = layersOf(await configOf(lambda, "legacy"));
    const ours = "arn:aws:lambda:us-east-1:123456789012:layer:faultline:2";
    const enabled = await cli("enable", "legacy", "--bucket", "faults", "--layer", ours, ...at);
    assert.equal(enabled.code, 0, enabled.stderr);
    assert.deepEqual(layersOf(await configOf(lambda, "legacy")), [layers[0], ours, layers[2]]);
    await cli("disable", "legacy", ...at);
    assert.deepEqual(layersOf(await configOf(lambda, "legacy")), [layers[0], layers[2]]);
  });

  test("by tag; another exec wrapper is refused unless --force; the 5-layer limit is respected", async () => {
    // --tag takes one key=value each time, so names may follow it, as people type them.
    const tagged = await cli(
      "enable",
      "--tag",
      "team=a",
      "web",
      "--bucket",
      "faults",
      "--layer",
      "arn:aws:lambda:us-east-1:123456789012:layer:faultline:2",
      ...at,
    );
    assert.equal(tagged.code, 0, tagged.stderr);
    assert.match(tagged.stdout, /^web:\n/m);
    assert.match(tagged.stdout, /^api:\n/m);
    assert.doesNotMatch(tagged.stdout, /other/);
    assert.equal(
      (await configOf(lambda, "other")).Environment?.Variables?.AWS_LAMBDA_EXEC_WRAPPER,
      undefined,
    );

    const refused = await cli("enable", "wrapped", "full", "api", "--bucket", "faults", ...at);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /wrapped already uses the exec wrapper \/opt\/otel-instrument; .*pass --force/,
    );
    assert.match(refused.stderr, /full already has 5 layers, Lambda's limit is 5/);
    assert.match(refused.stdout, /^api: no change$/m, "the others are still processed");
    assert.equal(
      (await configOf(lambda, "wrapped")).Environment?.Variables?.AWS_LAMBDA_EXEC_WRAPPER,
      "/opt/otel-instrument",
    );
    const forced = await cli("enable", "wrapped", "--bucket", "faults", "--force", ...at);
    assert.match(
      forced.stdout,
      /env ~ AWS_LAMBDA_EXEC_WRAPPER=\/opt\/otel-instrument → \/opt\/faultline\/bootstrap/,
    );

    const none = await cli("enable", "--bucket", "faults", ...at);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /name at least one function/);
    const all = await cli("disable", "--tag", "team=a", ...at);
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(layersOf(await configOf(lambda, "api")), []);
  });
});

describe("against moto_server", () => {
  let moto: Moto;
  before(async () => {
    moto = await Moto.start();
    await moto.fn("m1", { tags: { chaos: "yes" }, env: { KEEP: "me" } });
    await moto.fn("m2", {
      tags: { chaos: "yes" },
      env: { AWS_LAMBDA_EXEC_WRAPPER: "/opt/aws-fis/bootstrap" },
    });
  });
  after(() => moto?.stop());

  test("publish, enable by tag (AWS FIS's wrapper refused), disable back to the original", async () => {
    const at = ["--endpoint-url", moto.endpoint];
    const zip = join(dir, "moto.zip");
    writeFileSync(zip, zipSync({ "faultline/VERSION": strToU8(`${FAULTLINE_VERSION}\n`) }));
    const published = await cli("layer", "publish", "--zip", zip, ...at);
    assert.equal(published.code, 0, published.stderr);
    const arn = published.stdout.trim();
    assert.match(arn, /^arn:aws:lambda:us-east-1:123456789012:layer:faultline:1$/);
    const lambda = moto.lambda();
    const before = await configOf(lambda, "m1");
    const enabled = await cli(
      "enable",
      "--tag",
      "chaos=yes",
      "--bucket",
      "faults",
      "--prefix",
      "chaos",
      ...at,
    );
    assert.equal(enabled.code, 1);
    assert.match(
      enabled.stderr,
      /m2 already uses the exec wrapper \/opt\/aws-fis\/bootstrap \(AWS FIS's extension\)/,
    );
    const after = await configOf(lambda, "m1");
    assert.deepEqual(layersOf(after), [arn]);
    assert.deepEqual(after.Environment?.Variables, {
      KEEP: "me",
      AWS_LAMBDA_EXEC_WRAPPER: "/opt/faultline/bootstrap",
      AWS_FIS_CONFIGURATION_LOCATION: "arn:aws:s3:::faults/chaos/",
    });
    assert.equal((await cli("disable", "m1", ...at)).code, 0);
    const restored = await configOf(lambda, "m1");
    assert.deepEqual(layersOf(restored), layersOf(before));
    assert.deepEqual(restored.Environment?.Variables, { KEEP: "me" });
  });
});

describe("iam-policy", () => {
  test("function: s3:ListBucket with an s3:prefix condition and s3:GetObject on the prefix (the FIS docs' policy)", async () => {
    const out = await cli("iam-policy", "function", "--bucket", "faults", "--prefix", "FisConfigs");
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(JSON.parse(out.stdout), {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "ListFaultObjects",
          Effect: "Allow",
          Action: "s3:ListBucket",
          Resource: "arn:aws:s3:::faults",
          Condition: { StringLike: { "s3:prefix": ["FisConfigs/*"] } },
        },
        {
          Sid: "ReadFaultObjects",
          Effect: "Allow",
          Action: "s3:GetObject",
          Resource: "arn:aws:s3:::faults/FisConfigs/*",
        },
      ],
    });
    const engine = JSON.parse(
      (await cli("iam-policy", "engine", "--bucket", "faults", "--report-bucket", "reports")).stdout,
    );
    const write = engine.Statement.find((s: { Sid: string }) => s.Sid === "WriteFaultObjects");
    assert.deepEqual(write.Resource, "arn:aws:s3:::faults/FisConfigs/*");
    assert.deepEqual(engine.Statement.at(-1).Resource, ["arn:aws:s3:::reports/*"]);
    const bad = await cli("iam-policy", "lambda", "--bucket", "faults");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /expected function or engine/);
  });
});
