/**
 * `faultline layer build [--out <zip>] [--standalone [stripped|plain|xz]]`: writes the extension's Lambda layer
 * zip (see docs/extension.md). Prints the path and sizes; --standalone also carries this machine's node binary.
 */
import type { CliCommand } from "../command.ts";
import { group } from "../command.ts";
import { UsageError } from "../errors.ts";

interface LayerBuildOptions {
  out?: string;
  standalone?: boolean | string;
}

const BUILDS = ["stripped", "plain", "xz"] as const;

export const layerBuild: CliCommand = {
  name: "layer build",
  register(program, io) {
    group(program, "layer", "The faultline Lambda layer (extension + exec wrapper)")
      .command("build")
      .description(
        "Build the layer zip: /opt/extensions/faultline, /opt/faultline/{bootstrap,extension.cjs,VERSION}",
      )
      .option("-o, --out <zip>", "where to write the zip", "faultline-layer.zip")
      .option(
        "--standalone [build]",
        "also carry a node binary, for runtimes without node (Python, Java, provided.*): stripped (default), plain, or xz (smallest; unpacked into /tmp at cold start)",
      )
      .action(async (options: LayerBuildOptions) => {
        const standalone = options.standalone;
        if (typeof standalone === "string" && !(BUILDS as readonly string[]).includes(standalone)) {
          throw new UsageError(`--standalone ${standalone}: must be one of ${BUILDS.join(", ")}`);
        }
        const { buildLayer } = await import("@faultline/extension/layer");
        const built = await buildLayer({
          out: options.out,
          standalone: standalone as boolean | (typeof BUILDS)[number] | undefined,
        });
        const node = built.standalone ? `, with node (${built.standalone})` : "";
        io.stdout(
          `${built.zipPath}\n  zip ${built.zipBytes} bytes, extension.cjs ${built.bundleBytes} bytes, unzipped ${built.unzippedBytes} bytes${node}\n` +
            "  set AWS_LAMBDA_EXEC_WRAPPER=/opt/faultline/bootstrap and AWS_FIS_CONFIGURATION_LOCATION on the function\n",
        );
      });
  },
};
