/**
 * cdk-nag (AwsSolutions) flags every wildcard resource in an IAM policy (AwsSolutions-IAM5). The constructs need
 * a few — objects under a prefix, actions that have no resource type — and acknowledge exactly those findings,
 * each with its reason, through CDK's own Validations API (so cdk-nag is not a dependency). A finding's id names
 * the resource as cdk-nag renders it (`<Logical.Arn>/FisConfigs/*`), which is only known once logical ids are
 * final: an aspect computes it at synth time.
 */
import { AspectPriority, Aspects, CfnResource, type IAspect, Stack, Validations } from "aws-cdk-lib";
import type { IConstruct } from "constructs";

export interface Wildcard {
  /** The resource as written in the statement (tokens allowed). */
  resource: string;
  reason: string;
}

/** Acknowledges AwsSolutions-IAM5 for these resources on every IAM policy under `scope`. */
export function acknowledgeWildcards(scope: IConstruct, wildcards: readonly Wildcard[]): void {
  const aspect: IAspect = {
    visit(node) {
      if (!(node instanceof CfnResource) || node.cfnResourceType !== "AWS::IAM::Policy") return;
      const stack = Stack.of(node);
      for (const { resource, reason } of wildcards) {
        Validations.of(node).acknowledge({
          id: `AwsSolutions-IAM5[Resource::${render(stack.resolve(resource))}]`,
          reason,
        });
      }
    },
  };
  // Last (it only records acknowledgments), so it may be added from another aspect (FaultlineAspect).
  Aspects.of(scope).add(aspect, { priority: AspectPriority.READONLY });
}

/** A resolved CloudFormation value as cdk-nag writes it in finding ids. */
function render(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value !== "object" || value === null) return String(value);
  const v = value as Record<string, unknown>;
  if ("Ref" in v) return `<${String(v.Ref)}>`;
  if ("Fn::GetAtt" in v) return `<${(v["Fn::GetAtt"] as string[]).join(".")}>`;
  if ("Fn::Join" in v) {
    const [separator, parts] = v["Fn::Join"] as [string, unknown[]];
    return parts.map(render).join(separator);
  }
  return JSON.stringify(value);
}
