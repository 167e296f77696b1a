/**
 * "What you test locally is what you deploy": the experiment templates of a synthesised stack, read from cdk.out
 * and turned into FIS CreateExperimentTemplate requests — intrinsics resolved to the local stand-ins (the lab's
 * account, buckets and a role ARN) and CloudFormation's casing mapped to the API's (one table, @faultline/cdk).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fisTemplateFromCloudFormation, resolveIntrinsics } from "@faultline/cdk";

export interface LocalValues {
  accountId: string;
  region: string;
  /** Physical names for the stack's resources, by logical-id prefix (the construct id): `Reports` → `faultline-reports`. */
  names: Record<string, string>;
  /** The role ARN every experiment template gets (the local engine uses its own credentials). */
  roleArn: string;
}

/** Every AWS::FIS::ExperimentTemplate in `<cdkOut>/<stack>.template.json`, as FIS API request bodies, by logical id. */
export function experimentTemplatesFromCdkOut(
  cdkOut: string,
  stackName: string,
  local: LocalValues,
): Record<string, Record<string, unknown>> {
  const template = JSON.parse(readFileSync(join(cdkOut, `${stackName}.template.json`), "utf8")) as {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  };
  const ids = Object.keys(template.Resources);
  const refs: Record<string, string> = {
    "AWS::AccountId": local.accountId,
    "AWS::Region": local.region,
    "AWS::Partition": "aws",
  };
  const attributes: Record<string, string> = {};
  for (const id of ids) {
    const prefix = Object.keys(local.names).find((p) => id.startsWith(p));
    if (prefix) refs[id] = local.names[prefix]!;
    if (template.Resources[id]!.Type === "AWS::IAM::Role") attributes[`${id}.Arn`] = local.roleArn;
  }
  const out: Record<string, Record<string, unknown>> = {};
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== "AWS::FIS::ExperimentTemplate") continue;
    const resolved = resolveIntrinsics(resource.Properties, { refs, attributes }, id) as Record<
      string,
      unknown
    >;
    out[id] = fisTemplateFromCloudFormation(resolved);
  }
  return out;
}
