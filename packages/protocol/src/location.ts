import { ConfigurationLocationError } from "./errors.ts";

/** Where fault objects live: `AWS_FIS_CONFIGURATION_LOCATION`, parsed. `prefix` is "" or ends with "/". */
export interface ConfigurationLocation {
  bucket: string;
  prefix: string;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Accepts `arn:aws:s3:::bucket/prefix/` (FIS's documented form, any partition) and `s3://bucket/prefix/`.
 * A trailing `*` (seen in some samples) is dropped; a prefix without a trailing `/` gets one.
 */
export function parseConfigurationLocation(value: string): ConfigurationLocation {
  const text = value.trim();
  let rest: string;
  const arn = /^arn:[a-z-]+:s3:::(.+)$/.exec(text);
  if (arn?.[1]) rest = arn[1];
  else if (text.startsWith("s3://")) rest = text.slice("s3://".length);
  else {
    throw new ConfigurationLocationError(
      `"${value}" is not an S3 location: expected arn:aws:s3:::bucket/prefix/ or s3://bucket/prefix/`,
    );
  }
  const slash = rest.indexOf("/");
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  let prefix = slash === -1 ? "" : rest.slice(slash + 1);
  if (!BUCKET.test(bucket)) throw new ConfigurationLocationError(`"${bucket}" is not a valid S3 bucket name`);
  if (prefix.endsWith("*")) prefix = prefix.slice(0, -1);
  if (prefix !== "" && !prefix.endsWith("/")) prefix += "/";
  return { bucket, prefix };
}

export function formatConfigurationLocation(location: ConfigurationLocation): string {
  return `arn:aws:s3:::${location.bucket}/${location.prefix}`;
}

/** Everything for one function sits under this prefix; the extension lists exactly this. */
export function functionPrefix(location: ConfigurationLocation, functionName: string): string {
  return `${location.prefix}${functionName}/`;
}

/** `<prefix><functionName>/<experimentId>/<actionName>.json` */
export function faultObjectKey(
  location: ConfigurationLocation,
  functionName: string,
  experimentId: string,
  actionName: string,
): string {
  return `${functionPrefix(location, functionName)}${experimentId}/${actionName}.json`;
}

/**
 * The function's change marker, `<prefix>.faultline/markers/<functionName>`: rewritten by the engine after every
 * write or delete of that function's fault objects, and read by the extension with a conditional GET. Outside
 * every `<prefix><functionName>/` (a function name cannot start with "."), so no listing — ours or AWS FIS's
 * extension's — ever sees it as a fault object.
 */
export function changeMarkerKey(location: ConfigurationLocation, functionName: string): string {
  return `${location.prefix}${CHANGE_MARKER_FOLDER}${functionName}`;
}

const CHANGE_MARKER_FOLDER = ".faultline/markers/";

/** The marker key of a fault object's key (`<prefix><functionName>/<experimentId>/<actionName>.json`). */
export function changeMarkerKeyOf(faultKey: string, experimentId: string, actionName: string): string {
  const suffix = `/${experimentId}/${actionName}.json`;
  if (!faultKey.endsWith(suffix))
    throw new ConfigurationLocationError(`"${faultKey}" is not a fault object key`);
  const head = faultKey.slice(0, -suffix.length);
  const slash = head.lastIndexOf("/");
  return changeMarkerKey({ bucket: "", prefix: head.slice(0, slash + 1) }, head.slice(slash + 1));
}
