/** A process tree as /proc shows it, for the lifetime tests (npx → sh → faultline). */
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";

/** Every descendant of `pid`, depth first. */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  const walk = (p: number) => {
    let children: number[] = [];
    try {
      children = readFileSync(`/proc/${p}/task/${p}/children`, "utf8")
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map(Number);
    } catch {
      return;
    }
    for (const c of children) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
}

/** Alive and not a zombie. */
export function alive(pid: number): boolean {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** Resolves true once `ok()` holds (checked every 100 ms), false after `ms`. */
export async function waitFor(ok: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

/** The first line `child` prints on stdout; rejects if it exits first. */
export async function firstLine(child: ChildProcess): Promise<string> {
  const line = once(createInterface({ input: child.stdout! }), "line") as Promise<[string]>;
  const exit = once(child, "exit").then(([code, signal]) => {
    throw new Error(`exited (${code ?? signal}) before printing a line`);
  });
  return (await Promise.race([line, exit]))[0];
}
