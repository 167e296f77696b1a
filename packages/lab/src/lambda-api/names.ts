/**
 * Resolves the FunctionName parameter as Lambda accepts it: a name, a partial ARN (123456789012:function:name)
 * or a full ARN, each optionally with `:qualifier`, plus the `?Qualifier=` query parameter.
 * The lab has only $LATEST, plus the aliases a function's config names (each pointing at $LATEST): any other
 * qualifier is a function it does not have (ResourceNotFound).
 */
import { InvalidParameterValueError, ResourceNotFoundError } from "../errors.ts";

const FUNCTION_NAME =
  /^(?:arn:aws[a-zA-Z-]*:lambda:(?<region>[a-z]{2}(?:-gov)?-[a-z]+-\d):)?(?:(?<account>\d{12}):)?(?:function:)?(?<name>[a-zA-Z0-9_-]{1,64})(?::(?<qualifier>\$LATEST|[a-zA-Z0-9_-]{1,128}))?$/;

export interface ResolvedName {
  name: string;
  qualifier?: string;
  /** The ARN the caller meant, qualified if they gave a qualifier (Lambda-Runtime-Invoked-Function-Arn). */
  invokedArn: string;
}

export function resolveFunctionName(
  raw: string,
  queryQualifier: string | null,
  lab: {
    region: string;
    accountId: string;
    has(name: string): boolean;
    hasAlias?(name: string, alias: string): boolean;
  },
): ResolvedName {
  const match = FUNCTION_NAME.exec(raw);
  const groups = match?.groups;
  if (!groups?.name) {
    throw new InvalidParameterValueError(
      `1 validation error detected: Value '${raw}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?`,
    );
  }
  const fromName = groups.qualifier;
  if (fromName && queryQualifier && fromName !== queryQualifier) {
    throw new InvalidParameterValueError(
      "The derived qualifier from the function name does not match the specified qualifier.",
    );
  }
  const qualifier = fromName ?? queryQualifier ?? undefined;
  const region = groups.region ?? lab.region;
  const account = groups.account ?? lab.accountId;
  const unqualified = `arn:aws:lambda:${region}:${account}:function:${groups.name}`;
  const invokedArn = qualifier ? `${unqualified}:${qualifier}` : unqualified;
  const known =
    region === lab.region &&
    account === lab.accountId &&
    lab.has(groups.name) &&
    (!qualifier || qualifier === "$LATEST" || lab.hasAlias?.(groups.name, qualifier) === true);
  if (!known) throw ResourceNotFoundError.forFunction(invokedArn);
  return qualifier ? { name: groups.name, qualifier, invokedArn } : { name: groups.name, invokedArn };
}
