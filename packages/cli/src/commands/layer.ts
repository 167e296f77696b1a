/**
 * `faultline layer build [--out <zip>] [--standalone]`: writes the extension's Lambda layer zip (see
 * docs/extension.md). Prints the path and sizes; --standalone also carries this machine's node binary.
 */
import type { CliCommand } from "../command.ts";
import { group } from "../command.ts";

interface LayerBuildOptions {
  out?: string;
  standalone?: boolean;
}

export const layerBuild: CliCommand = {
  name: "layer build",
  register(program, io) {
    group(program, "layer", "The faultline Lambda layer (extension + exec wrapper)")
      .command("build")
      .description(
        "Build the layer zip: /opt/extensions/faultline, /opt/faultline/{bootstrap,extension.cjs,VERSION}",
      )
      .option("-o, --out <zip>", "where to write the zip", "faultline-layer.zip")
      .option("--standalone", "also carry a node binary, for runtimes without node (Python, Java…)")
      .action(async (options: LayerBuildOptions) => {
        const { buildLayer } = await import("@faultline/extension/layer");
        const built = await buildLayer({ out: options.out, standalone: options.standalone });
        io.stdout(
          `${built.zipPath}\n  zip ${built.zipBytes} bytes, extension.cjs ${built.bundleBytes} bytes${options.standalone ? ", with node" : ""}\n` +
            "  set AWS_LAMBDA_EXEC_WRAPPER=/opt/faultline/bootstrap and AWS_FIS_CONFIGURATION_LOCATION on the function\n",
        );
      });
  },
};
