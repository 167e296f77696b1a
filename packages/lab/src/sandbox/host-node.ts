/**
 * The host's Node.js install, hidden from OS-only (provided.*) runtimes. Lambda's docs describe those runtimes as
 * "an OS environment" for binaries "which [don't] require a dedicated language runtime" (runtimes-provided): there
 * is no node on provided.al2023 or provided.al2, so a function (or a layer such as faultline's standalone build)
 * that works there must not be quietly using the lab machine's node.
 *
 * In the namespace sandbox each hidden path disappears: its parent directory gets a read-only overlay whose top
 * layer holds an overlayfs whiteout (a 0/0 character device) of the same name. If overlayfs is refused, the
 * holder falls back to bind-mounting an empty directory or an empty, non-executable file over it.
 */
import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, realpathSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, dirname, join, sep } from "node:path";

/** One directory whose entries `names` are hidden; `whiteouts` holds a whiteout for each. */
export interface HiddenEntries {
  parent: string;
  whiteouts: string;
  names: string[];
}

const COMMANDS = ["node", "nodejs", "npm", "npx", "corepack"];

/** What a Node install leaves besides its binaries, under the prefix of `<prefix>/bin/node`. */
const PREFIX_PARTS = [
  "lib/node_modules",
  "include/node",
  "share/doc/node",
  "share/doc/nodejs",
  "share/nodejs",
];

/**
 * Every existing host path of a Node install: this process's node (as invoked and its real path), node and its
 * companions on the lab's PATH and in the usual bin dirs, the install prefix's modules, headers and docs, and
 * version managers' dirs (nvm, n, fnm, volta). Outermost paths only (hiding a dir hides what is under it).
 */
export function hostNodePaths(env: NodeJS.ProcessEnv = process.env): string[] {
  const found = new Set<string>();
  // By its parent's real path: /bin/node is /usr/bin/node where /bin links to /usr/bin.
  const add = (p: string | undefined) => {
    if (p && exists(p)) found.add(join(realPath(dirname(p)), basename(p)));
  };
  const binDirs = new Set(["/usr/bin", "/usr/local/bin", "/bin", ...(env.PATH ?? "").split(":")]);
  binDirs.add(dirname(process.execPath));
  const binaries = [process.execPath];
  for (const dir of binDirs) {
    if (!dir.startsWith("/")) continue;
    for (const name of COMMANDS) add(join(dir, name));
    binaries.push(join(dir, "node"));
  }
  for (const binary of binaries) {
    if (!exists(binary)) continue;
    add(binary);
    const real = realPath(binary);
    add(real);
    const prefix = dirname(dirname(real));
    // A self-contained install (nvm's versions/node/vX, /opt/node-v20-linux-x64…): the whole prefix goes, but
    // only when its path says node (never /usr, /opt or a home dir).
    if (basename(dirname(real)) === "bin" && /node/i.test(prefix)) add(prefix);
    for (const part of PREFIX_PARTS) add(join(prefix, part));
  }
  const home = env.HOME ?? homedir();
  for (const dir of [env.NVM_DIR, env.N_PREFIX && join(env.N_PREFIX, "n"), env.FNM_DIR, env.VOLTA_HOME])
    add(dir);
  for (const dir of [".nvm", ".fnm", ".volta", ".local/share/fnm"]) add(join(home, dir));
  // Never an overlay on the root itself.
  return outermost([...found].filter((p) => dirname(p) !== "/"));
}

/** Groups `paths` by parent and writes each group's whiteouts under `root` (once per lab: see sandbox/index.ts). */
export async function whiteoutDirs(paths: string[], root: string): Promise<HiddenEntries[]> {
  const byParent = new Map<string, string[]>();
  for (const p of paths) byParent.set(dirname(p), [...(byParent.get(dirname(p)) ?? []), basename(p)]);
  const out: HiddenEntries[] = [];
  for (const [parent, names] of byParent) {
    const whiteouts = join(root, String(out.length));
    await mkdir(whiteouts, { recursive: true, mode: 0o755 });
    // node:fs has no mknod; coreutils' mknod makes the 0/0 character device overlayfs reads as a whiteout.
    for (const name of names) {
      if (!existsSync(join(whiteouts, name))) execFileSync("mknod", [join(whiteouts, name), "c", "0", "0"]);
    }
    out.push({ parent, whiteouts, names });
  }
  return out;
}

function outermost(paths: string[]): string[] {
  const sorted = [...new Set(paths)].sort((a, b) => a.length - b.length);
  const kept: string[] = [];
  for (const p of sorted) if (!kept.some((k) => p.startsWith(k + sep))) kept.push(p);
  return kept.sort();
}

function exists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

function realPath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}
