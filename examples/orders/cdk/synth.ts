/**
 * `npm run synth -w examples/orders`: the orders stack → examples/orders/cdk.out/, offline (no AWS account, no
 * network, no Docker, no cdk CLI). Builds what the stack's assets need first — the three functions (esbuild, as the
 * local demo does) and the faultline layer zip — then synthesises with aws-cdk-lib's App. `cdk deploy --app
 * cdk.out` deploys the result (docs/cdk.md).
 *
 *   npm run synth -w examples/orders [-- --extension aws-fis] [--out DIR]
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { App } from "aws-cdk-lib";
import type { CloudAssembly } from "aws-cdk-lib/cx-api";
import { buildLayer, DEFAULT_LAYER_ZIP } from "../../../packages/extension/src/layer.ts";
import { buildFunctions } from "../build.ts";
import { OrdersStack } from "./stack.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
export const CDK_OUT = join(HERE, "..", "cdk.out");
export const STACK_NAME = "FaultlineOrders";

export interface SynthOptions {
  outdir?: string;
  useAwsFisExtension?: boolean;
  /** CDK's built-in CloudFormation validation of every resource (default on, as `cdk synth` does). */
  validate?: boolean;
  /** The functions and the layer zip are built already (buildAssets). */
  prebuilt?: boolean;
}

/** What the stack's assets need: the three functions (esbuild, as the local demo) and the faultline layer zip. */
export async function buildAssets(): Promise<{ layerZip: string }> {
  const [layer] = await Promise.all([buildLayer(), buildFunctions()]);
  return { layerZip: layer.zipPath };
}

export async function synthOrders(
  options: SynthOptions = {},
): Promise<{ assembly: CloudAssembly; stack: OrdersStack }> {
  const layerZip = options.prebuilt ? DEFAULT_LAYER_ZIP : (await buildAssets()).layerZip;
  const app = new App({
    outdir: options.outdir ?? CDK_OUT,
    builtinCloudFormationValidation: options.validate ?? true,
  });
  const stack = new OrdersStack(app, STACK_NAME, {
    layerZip,
    useAwsFisExtension: options.useAwsFisExtension === true,
    description:
      "faultline's orders example: REST API → Lambda → DynamoDB, with two FIS experiment templates",
  });
  return { assembly: app.synth(), stack };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { extension: { type: "string", default: "faultline" }, out: { type: "string" } },
  });
  if (values.extension !== "faultline" && values.extension !== "aws-fis") {
    console.error("synth: --extension takes faultline or aws-fis");
    process.exit(2);
  }
  const started = performance.now();
  const { assembly } = await synthOrders({
    ...(values.out ? { outdir: resolve(values.out) } : {}),
    useAwsFisExtension: values.extension === "aws-fis",
  });
  const stack = assembly.getStackByName(STACK_NAME);
  const templates = Object.values(stack.template.Resources as Record<string, { Type: string }>).filter(
    (r) => r.Type === "AWS::FIS::ExperimentTemplate",
  ).length;
  console.log(
    `synthesised ${STACK_NAME} (${Object.keys(stack.template.Resources).length} resources, ${templates} experiment templates) into ${assembly.directory} in ${Math.round(performance.now() - started)} ms`,
  );
}
