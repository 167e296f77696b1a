/** Headless Chromium: PDF and screenshots of a report file. Optional: callers skip cleanly when it is absent. */
import { spawn } from "node:child_process";
import { accessSync, constants, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ChromiumError } from "./errors.ts";

const NAMES = ["chromium", "chromium-browser", "google-chrome-stable", "google-chrome"];

/** The Chromium binary (`FAULTLINE_CHROMIUM` first, else the first of its usual names on PATH), or undefined. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dirs = (env.PATH ?? "").split(delimiter).filter(Boolean);
  const list = env.FAULTLINE_CHROMIUM
    ? [env.FAULTLINE_CHROMIUM]
    : dirs.flatMap((d) => NAMES.map((n) => join(d, n)));
  for (const c of list) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

export interface ChromiumOptions {
  binary?: string;
  timeoutMs?: number;
}

/** Prints `htmlPath` to `pdfPath` (no header/footer). */
export async function printToPdf(
  htmlPath: string,
  pdfPath: string,
  options: ChromiumOptions = {},
): Promise<void> {
  await run(
    [`--no-pdf-header-footer`, `--print-to-pdf=${resolve(pdfPath)}`, url(htmlPath)],
    pdfPath,
    options,
  );
}

/** Screenshots `htmlPath` to a PNG of the given size (what a person sees in the first `height` pixels). */
export async function screenshot(
  htmlPath: string,
  pngPath: string,
  size = { width: 1200, height: 2400 },
  options: ChromiumOptions = {},
): Promise<void> {
  await run(
    [
      `--window-size=${size.width},${size.height}`,
      "--hide-scrollbars",
      `--screenshot=${resolve(pngPath)}`,
      url(htmlPath),
    ],
    pngPath,
    options,
  );
}

const url = (p: string) => pathToFileURL(resolve(p)).href;

/** environment.md: without the background-networking flags Chromium keeps calling hosts this network refuses. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

async function run(args: string[], output: string, options: ChromiumOptions): Promise<void> {
  const binary = options.binary ?? findChromium();
  if (!binary)
    throw new ChromiumError("Chromium is not installed (set FAULTLINE_CHROMIUM or install chromium)");
  const profile = mkdtempSync(join(tmpdir(), "faultline-chromium-"));
  const child = spawn(
    binary,
    ["--headless", ...CHROMIUM_ARGS, `--user-data-dir=${profile}`, ...args],
    // Its own process group, so a timeout ends Chromium's helpers too.
    { stdio: ["ignore", "ignore", "pipe"], detached: true },
  );
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => {
    if (stderr.length < 8192) stderr += c.toString();
  });
  const timeoutMs = options.timeoutMs ?? 60_000;
  try {
    const code = await new Promise<number | null>((done, fail) => {
      const timer = setTimeout(() => {
        killGroup(child.pid);
        fail(new ChromiumError(`Chromium did not finish within ${timeoutMs} ms`));
      }, timeoutMs);
      child.on("error", (e) => {
        clearTimeout(timer);
        fail(new ChromiumError(`cannot run ${binary}: ${e.message}`));
      });
      child.on("exit", (c) => {
        clearTimeout(timer);
        done(c);
      });
    });
    let size = 0;
    try {
      size = statSync(output).size;
    } catch {
      // reported below
    }
    if (code !== 0 || size === 0) {
      throw new ChromiumError(
        `Chromium exited with ${code} without writing ${output}: ${stderr.trim().slice(-500)}`,
      );
    }
  } finally {
    // Helpers left in the group (should be none after a clean exit) go with it.
    killGroup(child.pid);
    rmSync(profile, { recursive: true, force: true });
  }
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
}
