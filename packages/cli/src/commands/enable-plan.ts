/**
 * What `faultline enable` / `disable` change on one function, computed from its configuration alone (pure, so
 * `--dry-run` prints exactly what would be sent). Every other variable and layer is kept, in order.
 */
import type { FunctionConfiguration } from "@aws-sdk/client-lambda";

export const FAULTLINE_WRAPPER = "/opt/faultline/bootstrap";
/** Lambda's limit on layers per function. */
export const MAX_LAYERS = 5;

/** The variables `enable` may set, and `disable` removes. */
export const POLL_VARIABLES = {
  slowPoll: "AWS_FIS_SLOW_POLL_INTERVAL_SECONDS",
  hotPoll: "FAULTLINE_HOT_POLL_INTERVAL_SECONDS",
  maxWait: "AWS_FIS_POLL_MAX_WAIT_MILLISECONDS",
  markerInterval: "FAULTLINE_MARKER_INTERVAL_MILLISECONDS",
  metrics: "AWS_FIS_EXTENSION_METRICS",
} as const;
const MANAGED = [
  "AWS_LAMBDA_EXEC_WRAPPER",
  "AWS_FIS_CONFIGURATION_LOCATION",
  ...Object.values(POLL_VARIABLES),
];

export interface EnableSettings {
  /** The faultline layer version to attach. */
  layerArn: string;
  /** arn:aws:s3:::bucket/prefix/ */
  location: string;
  /** Optional poll settings, by variable name. */
  variables: Record<string, string>;
  /** Replace another exec wrapper. */
  force: boolean;
}

export interface Plan {
  functionName: string;
  /** Absent when nothing changes. */
  update?: { Layers: string[]; Environment: { Variables: Record<string, string> }; RevisionId?: string };
  /** One line per change, for people. */
  changes: string[];
  /** Why this function is refused (nothing is sent). */
  refused?: string;
}

/** `arn:…:layer:name:3` → `arn:…:layer:name`. */
const unversioned = (arn: string) => arn.replace(/:\d+$/, "");

/**
 * `isFaultline` says whether a layer version carries faultline (its content has faultline/VERSION): such a layer,
 * whatever its name, is the one replaced, so a function never runs two faultline layers.
 */
export function planEnable(
  config: FunctionConfiguration,
  s: EnableSettings,
  isFaultline: (arn: string) => boolean = () => false,
): Plan {
  const functionName = config.FunctionName ?? "";
  const env = { ...(config.Environment?.Variables ?? {}) };
  const layers = (config.Layers ?? []).map((l) => l.Arn ?? "");
  const wrapper = env.AWS_LAMBDA_EXEC_WRAPPER;
  if (wrapper !== undefined && wrapper !== FAULTLINE_WRAPPER && !s.force) {
    return {
      functionName,
      changes: [],
      refused: `${functionName} already uses the exec wrapper ${wrapper}${wrapper === "/opt/aws-fis/bootstrap" ? " (AWS FIS's extension)" : ""}; faultline's would replace it: pass --force to replace it`,
    };
  }
  const changes: string[] = [];
  // The same layer (any version) is replaced where it stands, so the order of layers is kept.
  const at = layers.findIndex((arn) => unversioned(arn) === unversioned(s.layerArn) || isFaultline(arn));
  const nextLayers = [...layers];
  if (at >= 0) {
    if (layers[at] !== s.layerArn) changes.push(`layer ${layers[at]} → ${s.layerArn}`);
    nextLayers[at] = s.layerArn;
  } else {
    if (layers.length >= MAX_LAYERS) {
      return {
        functionName,
        changes: [],
        refused: `${functionName} already has ${layers.length} layers, Lambda's limit is ${MAX_LAYERS}: remove one to attach faultline's`,
      };
    }
    nextLayers.push(s.layerArn);
    changes.push(`layer + ${s.layerArn}`);
  }
  const wanted = {
    AWS_LAMBDA_EXEC_WRAPPER: FAULTLINE_WRAPPER,
    AWS_FIS_CONFIGURATION_LOCATION: s.location,
    ...s.variables,
  };
  for (const [key, value] of Object.entries(wanted)) {
    if (env[key] === value) continue;
    changes.push(env[key] === undefined ? `env + ${key}=${value}` : `env ~ ${key}=${env[key]} → ${value}`);
    env[key] = value;
  }
  if (changes.length === 0) return { functionName, changes: [] };
  return {
    functionName,
    changes,
    update: withRevision({ Layers: nextLayers, Environment: { Variables: env } }, config),
  };
}

/**
 * Removes faultline's layer — named `layerName` or `layerArn` (any version), or found by content — and the
 * variables `enable` sets; other layers and variables stay.
 */
export function planDisable(
  config: FunctionConfiguration,
  layerName: string,
  layerArn?: string,
  isFaultline: (arn: string) => boolean = () => false,
): Plan {
  const functionName = config.FunctionName ?? "";
  const env = { ...(config.Environment?.Variables ?? {}) };
  const wrapper = env.AWS_LAMBDA_EXEC_WRAPPER;
  if (wrapper !== undefined && wrapper !== FAULTLINE_WRAPPER) {
    return {
      functionName,
      changes: [],
      refused: `${functionName} uses the exec wrapper ${wrapper}, not faultline's: left as it is`,
    };
  }
  const isOurs = (arn: string) =>
    (layerArn !== undefined && unversioned(arn) === unversioned(layerArn)) ||
    arn.split(":")[6] === layerName ||
    isFaultline(arn);
  const layers = (config.Layers ?? []).map((l) => l.Arn ?? "");
  const changes = layers.filter(isOurs).map((arn) => `layer - ${arn}`);
  for (const key of MANAGED) {
    if (env[key] === undefined) continue;
    changes.push(`env - ${key}`);
    delete env[key];
  }
  if (changes.length === 0) return { functionName, changes: [] };
  return {
    functionName,
    changes,
    update: withRevision(
      { Layers: layers.filter((arn) => !isOurs(arn)), Environment: { Variables: env } },
      config,
    ),
  };
}

function withRevision(
  update: NonNullable<Plan["update"]>,
  config: FunctionConfiguration,
): NonNullable<Plan["update"]> {
  // RevisionId: an update made by someone else since we read the configuration is not overwritten.
  return config.RevisionId ? { ...update, RevisionId: config.RevisionId } : update;
}
