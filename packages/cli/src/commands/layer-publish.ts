/**
 * `faultline layer publish [--name faultline] [--zip <file>] [--region …] [--endpoint-url …]`: builds the layer
 * (or takes a built zip) and publishes it with PublishLayerVersion; prints the layer version ARN, which
 * `faultline enable --layer` takes (enable finds the latest version of --name by itself too).
 */
import { readFileSync, rmSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PublishLayerVersionCommand } from "@aws-sdk/client-lambda";
import type { CliCommand } from "../command.ts";
import { group } from "../command.ts";
import { type AwsOptions, aws, awsOptions, lambdaClient } from "./aws.ts";

interface PublishOptions extends AwsOptions {
  name: string;
  zip?: string;
  standalone?: boolean;
  json?: boolean;
}

export const layerPublish: CliCommand = {
  name: "layer publish",
  register(program, io) {
    const command = group(program, "layer", "The faultline Lambda layer (extension + exec wrapper)")
      .command("publish")
      .description("Publish the layer to Lambda (PublishLayerVersion) and print its version ARN")
      .option("--name <layer>", "layer name", "faultline")
      .option("--zip <file>", "publish this zip (default: build one now, as `faultline layer build`)")
      .option("--standalone", "build with a node binary inside, for runtimes without node")
      .option("--json", "print the PublishLayerVersion response as JSON");
    awsOptions(command).action(async (o: PublishOptions) => {
      const { buildLayer } = await import("@faultline/extension/layer");
      const { FAULTLINE_VERSION } = await import("@faultline/protocol");
      const stage = o.zip ? undefined : await mkdtemp(join(tmpdir(), "faultline-publish-"));
      try {
        const zipPath =
          o.zip ??
          (await buildLayer({ out: join(stage!, "faultline-layer.zip"), standalone: o.standalone ?? false }))
            .zipPath;
        const lambda = lambdaClient(o);
        const out = await aws("PublishLayerVersion", () =>
          lambda.send(
            new PublishLayerVersionCommand({
              LayerName: o.name,
              Content: { ZipFile: readFileSync(zipPath) },
              Description: `faultline extension ${FAULTLINE_VERSION}`,
              LicenseInfo: "Apache-2.0",
              // Without --standalone the extension runs on the runtime's node: Node.js runtimes only.
              ...(o.standalone
                ? { CompatibleArchitectures: [process.arch === "arm64" ? "arm64" : "x86_64"] }
                : { CompatibleRuntimes: ["nodejs18.x", "nodejs20.x", "nodejs22.x", "nodejs24.x"] }),
            }),
          ),
        );
        lambda.destroy();
        io.stdout(
          o.json
            ? `${JSON.stringify({ ...out, $metadata: undefined }, null, 2)}\n`
            : `${out.LayerVersionArn}\n`,
        );
      } finally {
        if (stage) rmSync(stage, { recursive: true, force: true });
      }
    });
  },
};
