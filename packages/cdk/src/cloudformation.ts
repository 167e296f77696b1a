/**
 * CloudFormation's AWS::FIS::ExperimentTemplate and the FIS API name the same fields differently (PascalCase;
 * `Outputs.ExperimentReportS3Configuration` is the API's `outputs.s3Configuration`). One table describes the
 * template; both directions are read from it, so the construct's output and `faultline up`'s input cannot drift.
 */
import { CloudFormationTemplateError } from "./errors.ts";

/**
 * A field: its CloudFormation name, its API name, and what it holds. `map` keeps its keys (target names, tags,
 * parameters); `json` marks CloudFormation properties CDK types as `any`, passed through as written.
 */
type Shape = "value" | "map" | { fields: readonly Field[]; json?: true } | { list: Shape } | { mapOf: Shape };
type Field = readonly [cfn: string, api: string, shape: Shape];

const S3_LOCATION: Shape = {
  fields: [
    ["BucketName", "bucketName", "value"],
    ["Prefix", "prefix", "value"],
  ],
};

export const EXPERIMENT_TEMPLATE: readonly Field[] = [
  ["Description", "description", "value"],
  ["RoleArn", "roleArn", "value"],
  [
    "Targets",
    "targets",
    {
      mapOf: {
        fields: [
          ["ResourceType", "resourceType", "value"],
          ["ResourceArns", "resourceArns", "value"],
          ["ResourceTags", "resourceTags", "map"],
          [
            "Filters",
            "filters",
            {
              list: {
                fields: [
                  ["Path", "path", "value"],
                  ["Values", "values", "value"],
                ],
              },
            },
          ],
          ["SelectionMode", "selectionMode", "value"],
          ["Parameters", "parameters", "map"],
        ],
      },
    },
  ],
  [
    "Actions",
    "actions",
    {
      mapOf: {
        fields: [
          ["ActionId", "actionId", "value"],
          ["Description", "description", "value"],
          ["Parameters", "parameters", "map"],
          ["Targets", "targets", "map"],
          ["StartAfter", "startAfter", "value"],
        ],
      },
    },
  ],
  [
    "StopConditions",
    "stopConditions",
    {
      list: {
        fields: [
          ["Source", "source", "value"],
          ["Value", "value", "value"],
        ],
      },
    },
  ],
  [
    "LogConfiguration",
    "logConfiguration",
    {
      fields: [
        [
          "CloudWatchLogsConfiguration",
          "cloudWatchLogsConfiguration",
          { fields: [["LogGroupArn", "logGroupArn", "value"]], json: true },
        ],
        ["S3Configuration", "s3Configuration", { ...S3_LOCATION, json: true }],
        ["LogSchemaVersion", "logSchemaVersion", "value"],
      ],
    },
  ],
  [
    "ExperimentOptions",
    "experimentOptions",
    {
      fields: [
        ["AccountTargeting", "accountTargeting", "value"],
        ["EmptyTargetResolutionMode", "emptyTargetResolutionMode", "value"],
      ],
    },
  ],
  [
    "ExperimentReportConfiguration",
    "experimentReportConfiguration",
    {
      fields: [
        [
          "Outputs",
          "outputs",
          { fields: [["ExperimentReportS3Configuration", "s3Configuration", S3_LOCATION]] },
        ],
        [
          "DataSources",
          "dataSources",
          {
            fields: [
              [
                "CloudWatchDashboards",
                "cloudWatchDashboards",
                { list: { fields: [["DashboardIdentifier", "dashboardIdentifier", "value"]] } },
              ],
            ],
          },
        ],
        ["PreExperimentDuration", "preExperimentDuration", "value"],
        ["PostExperimentDuration", "postExperimentDuration", "value"],
      ],
    },
  ],
  ["Tags", "tags", "map"],
];

type Naming = "cfn" | "api" | "cdk";
/** CDK's L1 props are CloudFormation's names with a lower-case first letter, except inside `json` properties. */
const nameOf = (field: Field, naming: Naming, inJson: boolean): string => {
  if (naming === "api") return field[1];
  if (naming === "cfn" || inJson) return field[0];
  return field[0].charAt(0).toLowerCase() + field[0].slice(1);
};

function convert(
  value: unknown,
  shape: Shape,
  from: Naming,
  to: Naming,
  path: string,
  inJson: boolean,
): unknown {
  if (shape === "value" || shape === "map" || value === undefined) return value;
  if ("list" in shape) {
    if (!Array.isArray(value)) throw new CloudFormationTemplateError(`${path}: expected a list`);
    return value.map((item, i) => convert(item, shape.list, from, to, `${path}.${i}`, inJson));
  }
  if (!isObject(value)) throw new CloudFormationTemplateError(`${path}: expected an object`);
  if ("mapOf" in shape) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, convert(v, shape.mapOf, from, to, `${path}.${k}`, inJson)]),
    );
  }
  return convertFields(value, shape.fields, from, to, path, inJson || shape.json === true);
}

function convertFields(
  value: Record<string, unknown>,
  fields: readonly Field[],
  from: Naming,
  to: Naming,
  path: string,
  inJson: boolean,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const known = new Set<string>();
  for (const field of fields) {
    const source = nameOf(field, from, inJson);
    known.add(source);
    if (value[source] === undefined) continue;
    const at = path === "" ? source : `${path}.${source}`;
    const shape = field[2];
    const childJson = inJson || (typeof shape === "object" && "json" in shape && shape.json === true);
    out[nameOf(field, to, inJson)] = convert(value[source], shape, from, to, at, childJson);
  }
  for (const key of Object.keys(value)) {
    if (!known.has(key)) {
      throw new CloudFormationTemplateError(`${path === "" ? key : `${path}.${key}`}: not a known field`);
    }
  }
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * AWS::FIS::ExperimentTemplate `Properties` (intrinsics already resolved, see resolveIntrinsics) → the body of a
 * FIS CreateExperimentTemplate request, as `aws fis create-experiment-template --cli-input-json` takes it.
 */
export function fisTemplateFromCloudFormation(properties: Record<string, unknown>): Record<string, unknown> {
  return convertFields(properties, EXPERIMENT_TEMPLATE, "cfn", "api", "", false);
}

/** A FIS API template body → AWS::FIS::ExperimentTemplate `Properties` (PascalCase). */
export function cloudFormationFromFisTemplate(body: Record<string, unknown>): Record<string, unknown> {
  return convertFields(body, EXPERIMENT_TEMPLATE, "api", "cfn", "", false);
}

/** A FIS API template body → CfnExperimentTemplate's props (CDK's camelCase of CloudFormation's names). */
export function cdkPropsFromFisTemplate(body: Record<string, unknown>): Record<string, unknown> {
  return convertFields(body, EXPERIMENT_TEMPLATE, "api", "cdk", "", false);
}

/** What the intrinsic functions in a synthesised template stand for once deployed (or run locally). */
export interface IntrinsicValues {
  /** `{ Ref: id }` → value, by logical id (parameters and resources; pseudo parameters such as AWS::Region too). */
  refs: Readonly<Record<string, string>>;
  /** `{ "Fn::GetAtt": [id, attribute] }` → value, by `id.attribute`. */
  attributes?: Readonly<Record<string, string>>;
}

/**
 * Resolves Ref, Fn::GetAtt, Fn::Join, Fn::Select and Fn::Sub (without a variable map, plus with one) the way
 * CloudFormation would, given the values they stand for. Anything unknown fails naming the path.
 */
export function resolveIntrinsics(value: unknown, values: IntrinsicValues, path = ""): unknown {
  if (Array.isArray(value)) return value.map((v, i) => resolveIntrinsics(v, values, `${path}.${i}`));
  if (!isObject(value)) return value;
  const keys = Object.keys(value);
  const fn = keys.length === 1 ? keys[0]! : "";
  const arg = value[fn];
  const lookup = (table: Readonly<Record<string, string>> | undefined, key: string, what: string) => {
    const found = table?.[key];
    if (found === undefined) throw new CloudFormationTemplateError(`${path}: no value for ${what} ${key}`);
    return found;
  };
  switch (fn) {
    case "Ref":
      return lookup(values.refs, String(arg), "Ref");
    case "Fn::GetAtt": {
      const [id, attribute] = Array.isArray(arg) ? arg : String(arg).split(".");
      return lookup(values.attributes, `${id}.${attribute}`, "Fn::GetAtt");
    }
    case "Fn::Join": {
      const [separator, parts] = arg as [string, unknown[]];
      return (resolveIntrinsics(parts, values, path) as string[]).join(separator);
    }
    case "Fn::Select": {
      const [index, list] = arg as [number | string, unknown];
      return (resolveIntrinsics(list, values, path) as unknown[])[Number(index)];
    }
    case "Fn::Sub": {
      const [text, vars] = Array.isArray(arg)
        ? (arg as [string, Record<string, unknown>])
        : [String(arg), {}];
      const local = resolveIntrinsics(vars, values, path) as Record<string, string>;
      return text.replace(/\$\{([^}!]+)\}/g, (_, name: string) =>
        name in local
          ? local[name]!
          : name.includes(".")
            ? lookup(values.attributes, name, "Fn::GetAtt")
            : lookup(values.refs, name, "Ref"),
      );
    }
    default:
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [
          k,
          resolveIntrinsics(v, values, path === "" ? k : `${path}.${k}`),
        ]),
      );
  }
}
