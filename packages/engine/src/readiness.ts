/**
 * Whether faults written for a function will be injected, decided from what the function runs — its exec
 * wrapper, its configuration location and the *content* of its layers — never from a layer's name: a layer zip
 * can be published under any name, and AWS's own FIS extension reads the same fault objects.
 */
import type { FunctionConfiguration } from "@aws-sdk/client-lambda";
import {
  type ConfigurationLocation,
  FAULTLINE_VERSION,
  parseConfigurationLocation,
} from "@faultline/protocol";
import { compareVersions, type ExtensionVersionProbe, VERSION_FILE } from "./extension-version.ts";

export interface Readiness {
  ready: boolean;
  /** Plain-language problems; any one makes `ready` false. */
  problems: string[];
}

export interface ReadinessOptions {
  /** The exec wrapper the faultline layer ships. */
  wrapper: string;
  /** When set, a configuration location in another bucket is a problem. */
  expectedBucket?: string;
  /**
   * Fail a Lambda action when any of its targets is not ready. Default false: inject into the ready targets and
   * list the others (the action's reason, the experiment log, the resolved targets).
   */
  requireAllTargetsReady?: boolean;
}

export const DEFAULT_READINESS: ReadinessOptions = { wrapper: "/opt/faultline/bootstrap" };

/** AWS's FIS extension: its wrapper and the layer FIS publishes in its own accounts, one per Region. */
export const AWS_FIS_WRAPPER = "/opt/aws-fis/bootstrap";
/** `arn:aws:lambda:<region>:<FIS account>:layer:aws-fis-extension-{x86_64|arm64}:<n>` (fis-lambda.md §2.1). */
const AWS_FIS_LAYER =
  /^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:layer:aws-fis-extension-(?:x86_64|arm64):\d+$/i;

export const isAwsFisLayer = (arn: string): boolean => AWS_FIS_LAYER.test(arn);

/** What readiness found about a function's environment; the layers are checked after, by content. */
export interface EnvironmentVerdict {
  readiness: Readiness;
  location?: ConfigurationLocation;
  /** The extension the wrapper asks for, when it is one faultline knows. */
  expects?: "faultline" | "aws-fis";
}

/** The synchronous half: wrapper and configuration location, from the function's environment variables. */
export function checkEnvironment(
  config: FunctionConfiguration,
  options: ReadinessOptions,
): EnvironmentVerdict {
  const name = config.FunctionName ?? "(unnamed)";
  const env = config.Environment?.Variables ?? {};
  const problems: string[] = [];
  const wrapper = env.AWS_LAMBDA_EXEC_WRAPPER;
  const expects =
    wrapper === options.wrapper ? "faultline" : wrapper === AWS_FIS_WRAPPER ? "aws-fis" : undefined;
  if (!expects) {
    problems.push(
      wrapper === undefined
        ? `function ${name} does not set AWS_LAMBDA_EXEC_WRAPPER=${options.wrapper}`
        : `function ${name} sets AWS_LAMBDA_EXEC_WRAPPER=${wrapper}, expected ${options.wrapper} (or AWS FIS's ${AWS_FIS_WRAPPER})`,
    );
  }
  let location: ConfigurationLocation | undefined;
  const raw = env.AWS_FIS_CONFIGURATION_LOCATION;
  if (raw === undefined) {
    problems.push(
      `function ${name} has no AWS_FIS_CONFIGURATION_LOCATION: the extension is not configured, so there is nowhere to write its faults`,
    );
  } else {
    try {
      location = parseConfigurationLocation(raw);
      if (options.expectedBucket && location.bucket !== options.expectedBucket) {
        problems.push(
          `function ${name} reads faults from bucket ${location.bucket}, not the expected ${options.expectedBucket}`,
        );
      }
    } catch (error) {
      problems.push(
        `function ${name} has an unusable AWS_FIS_CONFIGURATION_LOCATION: ${(error as Error).message}`,
      );
    }
  }
  return {
    readiness: { ready: problems.length === 0, problems },
    ...(location ? { location } : {}),
    ...(expects ? { expects } : {}),
  };
}

/** What the layer check adds to a resolved function. */
export interface LayerVerdict {
  problems: string[];
  /** e.g. `faultline 0.1.0`, `aws-fis-extension-x86_64:9`, `faultline (layer not read)`. */
  extension?: string;
  /** The faultline version file's content, or `unknown (why)` when no layer could be read. */
  extensionVersion?: string;
}

/**
 * The asynchronous half: which extension the layers carry. AWS FIS's layer is known by its ARN (its content is
 * AWS's); faultline's by `faultline/VERSION` inside it, read through the probe (absent → layers are not read).
 */
export async function checkLayers(
  name: string,
  layerArns: string[],
  expects: EnvironmentVerdict["expects"],
  probe: Pick<ExtensionVersionProbe, "probe"> | undefined,
): Promise<LayerVerdict> {
  const listed = layerArns.join(", ") || "none";
  const fis = layerArns.find(isAwsFisLayer);
  if (expects === "aws-fis") {
    if (fis) return { problems: [], extension: fis.split(":").slice(-2).join(":") };
    return {
      problems: [
        `function ${name} sets AWS_LAMBDA_EXEC_WRAPPER=${AWS_FIS_WRAPPER} but has no AWS FIS extension layer (aws-fis-extension-x86_64 or -arm64) attached (layers: ${listed})`,
      ],
    };
  }
  const candidates = layerArns.filter((arn) => !isAwsFisLayer(arn));
  if (candidates.length === 0) {
    const problems = [`function ${name} has no faultline layer attached (layers: ${listed})`];
    return fis ? { problems, extension: fis.split(":").slice(-2).join(":") } : { problems };
  }
  if (!probe) return { problems: [], extension: "faultline (layer not read)" };
  const unknown: string[] = [];
  for (const arn of candidates) {
    const finding = await probe.probe(arn);
    if (finding.kind === "version") return faultlineVersion(name, arn, finding.version);
    if (finding.kind === "unknown") unknown.push(finding.reason);
  }
  // A layer that could not be read may well be faultline's: report what was seen, do not guess.
  if (unknown.length > 0) {
    return { problems: [], extension: "faultline (unknown)", extensionVersion: `unknown (${unknown[0]})` };
  }
  if (expects === undefined) return { problems: [] };
  return {
    problems: [
      `function ${name} has no faultline layer: none of its layers (${listed}) contains ${VERSION_FILE}, so no faultline extension will read the faults (build it with \`faultline layer build\`)`,
    ],
  };
}

function faultlineVersion(name: string, arn: string, version: string): LayerVerdict {
  const found = { extension: `faultline ${version}`, extensionVersion: version };
  if (compareVersions(version, FAULTLINE_VERSION) >= 0) return { problems: [], ...found };
  return {
    ...found,
    problems: [
      `function ${name} runs faultline extension ${version} (layer ${arn}), older than this engine's ${FAULTLINE_VERSION}: rebuild the layer with \`faultline layer build\` and publish it`,
    ],
  };
}
