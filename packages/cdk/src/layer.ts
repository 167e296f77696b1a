import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Architecture, Code, LayerVersion, Runtime } from "aws-cdk-lib/aws-lambda";
import type { Construct } from "constructs";
import { FaultlinePropsError } from "./errors.ts";

export interface FaultlineLayerProps {
  /** The layer zip. Default: `./faultline-layer.zip` (`faultline layer build`'s), else @faultline/extension's. */
  zipPath?: string;
  /**
   * The zip carries its own node (`faultline layer build --standalone`), so it also serves Python, Java, .NET and
   * Ruby functions — on the architecture of the machine that built it only.
   */
  standalone?: boolean;
  /** Default: both for a plain layer (JavaScript only), this machine's for a standalone one. */
  compatibleArchitectures?: Architecture[];
  layerVersionName?: string;
  description?: string;
}

const NODE_RUNTIMES = [Runtime.NODEJS_18_X, Runtime.NODEJS_20_X, Runtime.NODEJS_22_X, Runtime.NODEJS_24_X];
/** Runtimes that honour AWS_LAMBDA_EXEC_WRAPPER besides Node (the FIS docs' requirement for the wrapper). */
const OTHER_RUNTIMES = [
  Runtime.PYTHON_3_12,
  Runtime.PYTHON_3_13,
  Runtime.JAVA_17,
  Runtime.JAVA_21,
  Runtime.DOTNET_8,
  Runtime.RUBY_3_3,
];

/** faultline's extension as a Lambda layer version, from the packaged layer zip. */
export class FaultlineLayer extends LayerVersion {
  constructor(scope: Construct, id: string, props: FaultlineLayerProps = {}) {
    const zipPath = props.zipPath ?? defaultLayerZip();
    if (!existsSync(zipPath)) {
      throw new FaultlinePropsError(
        `FaultlineLayer ${id}`,
        "zipPath",
        `no layer zip at ${zipPath}: build one in the app's folder with \`npx -p @faultline/cli faultline layer build\` (in a checkout: \`npm run build:layer\`) or pass zipPath`,
      );
    }
    super(scope, id, {
      code: Code.fromAsset(zipPath),
      compatibleRuntimes: props.standalone ? [...NODE_RUNTIMES, ...OTHER_RUNTIMES] : NODE_RUNTIMES,
      compatibleArchitectures:
        props.compatibleArchitectures ??
        (props.standalone
          ? [process.arch === "arm64" ? Architecture.ARM_64 : Architecture.X86_64]
          : [Architecture.X86_64, Architecture.ARM_64]),
      description: props.description ?? "faultline: fault injection for AWS Lambda, compatible with AWS FIS",
      ...(props.layerVersionName ? { layerVersionName: props.layerVersionName } : {}),
    });
  }
}

/**
 * The zip a default FaultlineLayer uses: `./faultline-layer.zip` where `faultline layer build` writes it (synth runs
 * in the app's folder), else `<@faultline/extension>/dist/faultline-layer.zip` (a checkout's `npm run build:layer`).
 */
export function defaultLayerZip(cwd = process.cwd()): string {
  const built = resolve(cwd, "faultline-layer.zip");
  if (existsSync(built)) return built;
  let entry: string;
  try {
    entry = fileURLToPath(import.meta.resolve("@faultline/extension"));
  } catch {
    return built; // @faultline/cdk alone: only `faultline layer build` makes one
  }
  // src/index.ts in a checkout, dist/index.js when installed: the package is one level up either way.
  return join(dirname(dirname(entry)), "dist", "faultline-layer.zip");
}
