import { type ConfigurationLocation, parseConfigurationLocation } from "@faultline/protocol";
import { SettingsError } from "./errors.ts";

export type LogLevel = "DEBUG" | "INFO" | "WARN" | "ERROR";

export interface S3Settings {
  /** e.g. http://127.0.0.1:4569; absent → the regional AWS endpoint (virtual-hosted style). */
  endpoint?: string;
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
}

/** Everything the extension reads from its environment, read once at start. */
export interface Settings {
  functionName: string;
  /** `AWS_LAMBDA_FUNCTION_VERSION`, used to match a numeric `functionQualifier` when invoked through an alias. */
  functionVersion: string;
  /** Absent → no fault source: pure pass-through. */
  location?: ConfigurationLocation;
  slowPollMs: number;
  hotPollMs: number;
  pollMaxWaitMs: number;
  /** `FAULTLINE_MARKER_INTERVAL_MILLISECONDS`: how often the change marker is read; 0 = never (list poll only). */
  markerCheckMs: number;
  logLevel: LogLevel;
  logFormat: "text" | "json";
  metrics: boolean;
  /** Explicit `AWS_FIS_PROXY_LISTENER_PORT`; absent → 9100, falling back to an ephemeral port. */
  listenerPort?: number;
  /** host:port of the Runtime API the proxy forwards to; absent → the proxy cannot run. */
  upstream?: string;
  /** host:port of the Extensions API (always Lambda's own `AWS_LAMBDA_RUNTIME_API`). */
  extensionsApi?: string;
  /** Where the chosen proxy port is written for the exec wrapper. */
  portFile: string;
  s3: S3Settings;
}

export const DEFAULT_SLOW_POLL_SECONDS = 60;
export const DEFAULT_HOT_POLL_SECONDS = 5;
/**
 * Why 1000 and not FIS's 0: with 0 a short function invoked rarely never sees its fault (the poll is frozen
 * with the environment). The hold only happens when the last poll is older than the interval (at most once a
 * minute while idle), and an S3 GET in-region takes tens of milliseconds.
 */
export const DEFAULT_POLL_MAX_WAIT_MS = 1000;
/**
 * One conditional GET a second while the environment is thawed: a 304 costs a GET (a tenth of a LIST's price),
 * and a fault or a stop reaches a function invoked once a second within about 2 s.
 */
export const DEFAULT_MARKER_INTERVAL_MS = 1000;
export const DEFAULT_LISTENER_PORT = 9100;
export const DEFAULT_PORT_FILE = "/tmp/.faultline/proxy-port";

export interface ReadSettingsResult {
  settings: Settings;
  /** One message per unusable setting. Non-empty → the extension passes everything through. */
  problems: string[];
}

type Env = Readonly<Record<string, string | undefined>>;

/** Reads every setting; never throws: each bad value becomes a problem naming the variable. */
export function readSettings(env: Env): ReadSettingsResult {
  const problems: string[] = [];
  function attempt<T>(read: () => T, fallback: T): T {
    try {
      return read();
    } catch (error) {
      if (!(error instanceof SettingsError)) throw error;
      problems.push(error.message);
      return fallback;
    }
  }
  const locationText = envString(env, "AWS_FIS_CONFIGURATION_LOCATION");
  const location =
    locationText === undefined
      ? undefined
      : attempt(() => {
          try {
            return parseConfigurationLocation(locationText);
          } catch (error) {
            throw new SettingsError("AWS_FIS_CONFIGURATION_LOCATION", (error as Error).message);
          }
        }, undefined);
  const functionName = envString(env, "AWS_LAMBDA_FUNCTION_NAME") ?? "";
  if (location !== undefined && functionName === "") {
    problems.push("AWS_LAMBDA_FUNCTION_NAME: is not set; cannot tell which faults apply");
  }
  const settings: Settings = {
    functionName,
    functionVersion: envString(env, "AWS_LAMBDA_FUNCTION_VERSION") ?? "$LATEST",
    location,
    slowPollMs:
      1000 *
      attempt(
        () => envInteger(env, "AWS_FIS_SLOW_POLL_INTERVAL_SECONDS", 1, 86_400, DEFAULT_SLOW_POLL_SECONDS),
        DEFAULT_SLOW_POLL_SECONDS,
      ),
    hotPollMs:
      1000 *
      attempt(
        () => envInteger(env, "FAULTLINE_HOT_POLL_INTERVAL_SECONDS", 1, 3600, DEFAULT_HOT_POLL_SECONDS),
        DEFAULT_HOT_POLL_SECONDS,
      ),
    pollMaxWaitMs: attempt(
      () => envInteger(env, "AWS_FIS_POLL_MAX_WAIT_MILLISECONDS", 0, 900_000, DEFAULT_POLL_MAX_WAIT_MS),
      DEFAULT_POLL_MAX_WAIT_MS,
    ),
    markerCheckMs: attempt(() => {
      const ms = envInteger(
        env,
        "FAULTLINE_MARKER_INTERVAL_MILLISECONDS",
        0,
        3_600_000,
        DEFAULT_MARKER_INTERVAL_MS,
      );
      if (ms > 0 && ms < 100)
        throw new SettingsError(
          "FAULTLINE_MARKER_INTERVAL_MILLISECONDS",
          `must be 0 (off) or from 100 to 3600000, got ${ms}`,
        );
      return ms;
    }, DEFAULT_MARKER_INTERVAL_MS),
    logLevel: attempt(
      () => envEnum(env, "AWS_FIS_LOG_LEVEL", ["DEBUG", "INFO", "WARN", "ERROR"] as const, "INFO", true),
      "INFO",
    ),
    logFormat: (envString(env, "AWS_LAMBDA_LOG_FORMAT") ?? "").toUpperCase() === "JSON" ? "json" : "text",
    metrics:
      attempt(() => envEnum(env, "AWS_FIS_EXTENSION_METRICS", ["all", "none"] as const, "none"), "none") ===
      "all",
    listenerPort: attempt(() => envPort(env, "AWS_FIS_PROXY_LISTENER_PORT", "LRAP_LISTENER_PORT"), undefined),
    upstream: attempt(
      () =>
        envHostPort(env, "AWS_FIS_PROXY_RUNTIME_API_ENDPOINT", "LRAP_RUNTIME_API_ENDPOINT") ??
        envHostPort(env, "AWS_LAMBDA_RUNTIME_API"),
      undefined,
    ),
    extensionsApi: attempt(() => envHostPort(env, "AWS_LAMBDA_RUNTIME_API"), undefined),
    portFile: envString(env, "FAULTLINE_PORT_FILE") ?? DEFAULT_PORT_FILE,
    s3: {
      endpoint: attempt(
        () => envUrl(env, "AWS_ENDPOINT_URL_S3") ?? envUrl(env, "AWS_ENDPOINT_URL"),
        undefined,
      ),
      region: envString(env, "AWS_REGION") ?? envString(env, "AWS_DEFAULT_REGION") ?? "us-east-1",
      accessKeyId: envString(env, "AWS_ACCESS_KEY_ID"),
      secretAccessKey: envString(env, "AWS_SECRET_ACCESS_KEY"),
      sessionToken: envString(env, "AWS_SESSION_TOKEN"),
    },
  };
  return { settings, problems };
}

// Typed env helpers: each throws SettingsError naming the variable and saying what was expected.

export function envString(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

export function envInteger(env: Env, name: string, min: number, max: number, fallback: number): number {
  const raw = envString(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw))
    throw new SettingsError(name, `must be a whole number from ${min} to ${max}, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max)
    throw new SettingsError(name, `must be from ${min} to ${max}, got ${value}`);
  return value;
}

export function envEnum<const T extends string>(
  env: Env,
  name: string,
  allowed: readonly T[],
  fallback: T,
  caseInsensitiveUpper = false,
): T {
  let raw = envString(env, name);
  if (raw === undefined) return fallback;
  raw = caseInsensitiveUpper ? raw.toUpperCase() : raw.toLowerCase();
  const found = allowed.find((value) => value === raw);
  if (found === undefined)
    throw new SettingsError(name, `must be one of ${allowed.join(", ")}, got "${raw}"`);
  return found;
}

/** The first of `names` that is set wins. */
export function envPort(env: Env, ...names: string[]): number | undefined {
  for (const name of names) {
    if (envString(env, name) !== undefined) return envInteger(env, name, 1, 65_535, 0);
  }
  return undefined;
}

/** `host:port` (no scheme), as Lambda writes AWS_LAMBDA_RUNTIME_API. The first of `names` that is set wins. */
export function envHostPort(env: Env, ...names: string[]): string | undefined {
  for (const name of names) {
    const raw = envString(env, name);
    if (raw === undefined) continue;
    const match = /^(?:https?:\/\/)?([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})\/?$/.exec(raw);
    if (!match || Number(match[2]) < 1 || Number(match[2]) > 65_535) {
      throw new SettingsError(name, `must be host:port like 127.0.0.1:9001, got "${raw}"`);
    }
    return `${match[1]}:${match[2]}`;
  }
  return undefined;
}

export function envUrl(env: Env, name: string): string | undefined {
  const raw = envString(env, name);
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SettingsError(name, `must be a URL like http://127.0.0.1:4569, got "${raw}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new SettingsError(name, `must be an http or https URL, got "${raw}"`);
  }
  return raw.replace(/\/+$/, "");
}
