/**
 * The lab's layer versions (GetLayerVersionByArn, GetLayerVersion, the content download) and the Resource Groups
 * Tagging API's GetResources, through the real AWS SDK clients. No function is invoked.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import {
  GetFunctionCommand,
  GetLayerVersionByArnCommand,
  GetLayerVersionCommand,
  LambdaClient,
} from "@aws-sdk/client-lambda";
import {
  GetResourcesCommand,
  ResourceGroupsTaggingAPIClient,
} from "@aws-sdk/client-resource-groups-tagging-api";
import { unzipSync } from "fflate";
import { awsCliV1, awsCliV2 } from "../../testing/src/index.ts";
import { type Lab, startLab } from "../src/index.ts";

const FN_DIR = fileURLToPath(new URL("./fixtures/", import.meta.url));
const creds = { accessKeyId: "AKIDTEST", secretAccessKey: "secret" };

describe("lab: layer versions and tag:GetResources", () => {
  const dir = mkdtempSync(join(tmpdir(), "faultline-lab-layers-"));
  let lab: Lab;
  let lambda: LambdaClient;
  let tagging: ResourceGroupsTaggingAPIClient;

  before(async () => {
    const layer = join(dir, "tools");
    mkdirSync(join(layer, "bin"), { recursive: true });
    writeFileSync(join(layer, "bin", "run"), "#!/bin/sh\necho hi\n");
    chmodSync(join(layer, "bin", "run"), 0o755);
    writeFileSync(join(layer, "VERSION"), "7\n");
    const fn = (name: string, tags: Record<string, string>) => ({
      name,
      runtime: "nodejs20.x" as const,
      handler: "index.handler",
      code: FN_DIR,
      layers: [layer],
      tags,
    });
    lab = await startLab({
      functions: [
        ...Array.from({ length: 7 }, (_, i) => fn(`team-a-${i}`, { team: "a", env: i % 2 ? "prod" : "dev" })),
        fn("team-b", { team: "b", env: "prod" }),
        fn("untagged", {}),
      ],
    });
    lambda = new LambdaClient({ endpoint: lab.endpoints.lambda, region: "us-east-1", credentials: creds });
    tagging = new ResourceGroupsTaggingAPIClient({
      endpoint: lab.endpoints.lambda,
      region: "us-east-1",
      credentials: creds,
    });
  });
  after(async () => {
    lambda?.destroy();
    tagging?.destroy();
    await lab?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a function's layer ARN resolves with GetLayerVersionByArn and downloads as a zip keeping modes", async () => {
    const fn = await lambda.send(new GetFunctionCommand({ FunctionName: "team-b" }));
    const arn = fn.Configuration!.Layers![0]!.Arn!;
    assert.equal(arn, "arn:aws:lambda:us-east-1:123456789012:layer:tools:1");
    const byArn = await lambda.send(new GetLayerVersionByArnCommand({ Arn: arn }));
    assert.equal(byArn.LayerVersionArn, arn);
    assert.equal(byArn.LayerArn, "arn:aws:lambda:us-east-1:123456789012:layer:tools");
    assert.equal(byArn.Version, 1);
    const byName = await lambda.send(new GetLayerVersionCommand({ LayerName: "tools", VersionNumber: 1 }));
    assert.equal(byName.Content?.Location, byArn.Content?.Location);

    const res = await fetch(byArn.Content!.Location!);
    assert.equal(res.status, 200);
    const zip = new Uint8Array(await res.arrayBuffer());
    const files = unzipSync(zip);
    assert.deepEqual(Object.keys(files).sort(), ["VERSION", "bin/run"]);
    assert.equal(new TextDecoder().decode(files.VERSION), "7\n");
    // The executable bit travels in the Unix external attributes (as `zip` writes them).
    const view = new DataView(zip.buffer, zip.byteOffset);
    let mode = -1;
    for (let i = 0; i + 46 <= zip.length; i++) {
      if (view.getUint32(i, true) !== 0x02014b50) continue;
      const nameLength = view.getUint16(i + 28, true);
      const name = new TextDecoder().decode(zip.subarray(i + 46, i + 46 + nameLength));
      if (name === "bin/run") mode = (view.getUint32(i + 38, true) >>> 16) & 0o777;
    }
    assert.equal(mode, 0o755);
  });

  test("unknown layer versions are ResourceNotFoundException; a malformed ARN is a validation error", async () => {
    await assert.rejects(
      lambda.send(
        new GetLayerVersionByArnCommand({ Arn: "arn:aws:lambda:us-east-1:123456789012:layer:tools:2" }),
      ),
      { name: "ResourceNotFoundException" },
    );
    await assert.rejects(lambda.send(new GetLayerVersionByArnCommand({ Arn: "tools:1" })), {
      name: "InvalidParameterValueException",
    });
  });

  test("GetResources: AND across tag keys, OR within a key's values, pages of ResourcesPerPage", async () => {
    const arnsFor = async (TagFilters: { Key: string; Values?: string[] }[], ResourcesPerPage = 100) => {
      const arns: string[] = [];
      let PaginationToken: string | undefined;
      let pages = 0;
      do {
        const page = await tagging.send(
          new GetResourcesCommand({
            TagFilters,
            ResourceTypeFilters: ["lambda:function"],
            ResourcesPerPage,
            PaginationToken,
          }),
        );
        pages++;
        arns.push(...(page.ResourceTagMappingList ?? []).map((m) => m.ResourceARN!.split(":").pop()!));
        PaginationToken = page.PaginationToken || undefined;
      } while (PaginationToken);
      return { names: arns.sort(), pages };
    };
    assert.deepEqual(
      (
        await arnsFor([
          { Key: "team", Values: ["a"] },
          { Key: "env", Values: ["prod"] },
        ])
      ).names,
      ["team-a-1", "team-a-3", "team-a-5"],
    );
    assert.deepEqual(
      (
        await arnsFor([
          { Key: "team", Values: ["a", "b"] },
          { Key: "env", Values: ["prod"] },
        ])
      ).names,
      ["team-a-1", "team-a-3", "team-a-5", "team-b"],
    );
    // A key without values matches any value; untagged functions are never listed.
    const anyTeam = await arnsFor([{ Key: "team" }], 3);
    assert.equal(anyTeam.names.length, 8);
    assert.equal(anyTeam.pages, 3);
    assert.deepEqual((await arnsFor([{ Key: "team", Values: ["c"] }])).names, []);
    const other = await tagging.send(new GetResourcesCommand({ ResourceTypeFilters: ["ec2:instance"] }));
    assert.deepEqual(other.ResourceTagMappingList, []);
    const tagged = (await tagging.send(new GetResourcesCommand({}))).ResourceTagMappingList!.find((m) =>
      m.ResourceARN!.endsWith(":team-b"),
    );
    assert.deepEqual(tagged?.Tags, [
      { Key: "team", Value: "b" },
      { Key: "env", Value: "prod" },
    ]);
  });

  test("the AWS CLI drives both: v1 get-layer-version-by-arn, v2 resourcegroupstaggingapi get-resources", async () => {
    const env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: creds.accessKeyId,
      AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
      AWS_DEFAULT_REGION: "us-east-1",
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_CONFIG_FILE: "/dev/null",
      AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
      AWS_PAGER: "",
    };
    const cli = async (bin: string, ...args: string[]) =>
      JSON.parse(
        (
          await promisify(execFile)(
            bin,
            [...args, "--endpoint-url", lab.endpoints.lambda, "--output", "json"],
            { env },
          )
        ).stdout,
      );
    const layer = await cli(
      awsCliV1.require(),
      "lambda",
      "get-layer-version-by-arn",
      "--arn",
      "arn:aws:lambda:us-east-1:123456789012:layer:tools:1",
    );
    assert.equal(layer.Version, 1);
    assert.match(layer.Content.Location, /\/content\.zip$/);
    const tagged = await cli(
      awsCliV2.require(),
      "resourcegroupstaggingapi",
      "get-resources",
      "--tag-filters",
      "Key=team,Values=b",
      "--resource-type-filters",
      "lambda:function",
    );
    assert.deepEqual(
      tagged.ResourceTagMappingList.map((m: { ResourceARN: string }) => m.ResourceARN),
      ["arn:aws:lambda:us-east-1:123456789012:function:team-b"],
    );
  });
});
