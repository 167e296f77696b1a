/**
 * External tools the suites use (the AWS CLI v1 and v2, moto_server, Chromium), found on PATH — never by a
 * fixed path, so a machine that installs them elsewhere works. One rule for every suite: a missing tool skips
 * its tests with a reason on a developer's machine and fails them under CI=true, where setup installs
 * everything and a silent skip would hide a broken install.
 */
import { execFileSync } from "node:child_process";
import { accessSync, constants, realpathSync } from "node:fs";
import { delimiter, join } from "node:path";

export interface Tool {
  /** What the tool is, for messages ("AWS CLI v2"). */
  readonly label: string;
  /** Its path, or undefined when no executable on PATH qualifies. */
  readonly path: string | undefined;
  /** For node:test's `skip` option: a reason when missing (locally), false when present or under CI. */
  readonly skip: string | false;
  /** The path; throws (failing the test) when the tool is missing. */
  require(): string;
}

export interface ToolSpec {
  label: string;
  /** Executable names tried in order in every PATH directory. */
  names: string[];
  /** Extra acceptance (e.g. a version check); the first executable passing it wins. */
  accept?: (path: string) => boolean;
  /** How to get it, for the skip reason. */
  install: string;
}

/** Every executable called one of `names` on PATH, in PATH order, duplicates (same real file) removed. */
export function executablesOnPath(names: string[], pathVar = process.env.PATH ?? ""): string[] {
  const found: string[] = [];
  const seen = new Set<string>();
  for (const dir of pathVar.split(delimiter)) {
    if (!dir) continue;
    for (const name of names) {
      const candidate = join(dir, name);
      try {
        accessSync(candidate, constants.X_OK);
        const real = realpathSync(candidate);
        if (seen.has(real)) continue;
        seen.add(real);
        found.push(candidate);
      } catch {
        // not here
      }
    }
  }
  return found;
}

export function findTool(spec: ToolSpec, env: NodeJS.ProcessEnv = process.env): Tool {
  let resolved: { path: string | undefined } | undefined;
  const lookup = () => {
    resolved ??= { path: executablesOnPath(spec.names, env.PATH).find((p) => spec.accept?.(p) ?? true) };
    return resolved.path;
  };
  const missing = () => `${spec.label} not found on PATH (${spec.install})`;
  return {
    label: spec.label,
    get path() {
      return lookup();
    },
    get skip() {
      if (lookup() !== undefined || env.CI === "true") return false;
      return missing();
    },
    require() {
      const path = lookup();
      if (path === undefined) throw new Error(`${missing()}; CI=true requires every tool`);
      return path;
    },
  };
}

function awsCliMajor(path: string): number | undefined {
  try {
    const out = execFileSync(path, ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const m = /aws-cli\/(\d+)\./.exec(out);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The AWS CLI v1 (botocore; preinstalled through pyenv here). */
export const awsCliV1 = findTool({
  label: "AWS CLI v1",
  names: ["aws"],
  accept: (p) => awsCliMajor(p) === 1,
  install: "pip install awscli",
});

/** The AWS CLI v2 (Debian's awscli package). */
export const awsCliV2 = findTool({
  label: "AWS CLI v2",
  names: ["aws"],
  accept: (p) => awsCliMajor(p) === 2,
  install: "apt-get install awscli",
});

/** moto_server, a second, independent AWS implementation. */
export const motoServer = findTool({
  label: "moto_server",
  names: ["moto_server"],
  install: "pip install 'moto[server]'",
});

/** Headless Chromium, for PDFs, screenshots and browser tests. */
export const chromium = findTool({
  label: "Chromium",
  names: ["chromium", "chromium-browser", "google-chrome-stable", "google-chrome"],
  install: "apt-get install chromium",
});
