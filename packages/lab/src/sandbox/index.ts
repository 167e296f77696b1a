/**
 * How an environment's processes are started so that Lambda's absolute paths resolve, function code runs as an
 * unprivileged user, and nothing outlives the lab. What this does and does not protect: docs/security.md.
 *
 * "namespace" (root, util-linux `unshare`/`nsenter`/`setpriv`): one sandbox per environment, as Lambda has one
 * execution environment. A holder process creates a private mount namespace and a private PID namespace with its
 * own /proc; in it the merged layers are bind-mounted read-only at /opt, the code read-only at /var/task, the
 * runtime interface client read-only at /var/runtime, the lab's node read-only at /var/lang/bin (an empty dir for
 * OS-only runtimes, which also do not see the host's node install: host-node.ts), and last a private dir at /tmp
 * owned by the sandbox user. The holder then sleeps as the namespace's PID 1. Every runtime
 * and extension process enters those namespaces (`nsenter`), drops to the sandbox user (uid 993, Lambda's
 * sbx_user1051, no capabilities, no new privileges) and runs as PID 2, 3… beside the others, as in Lambda (so a
 * process that signals itself dies, which PID 1 would not). Killing the namespace's init kills every process in
 * it; `setpriv --pdeathsig KILL` and `--kill-child` do that even when the lab is SIGKILLed.
 *
 * "plain" (fallback: not root, or namespaces refused): processes run on the host paths as the lab's own user.
 * Lambda's variables the lab sets (LAMBDA_TASK_ROOT, PATH, NODE_PATH, LD_LIBRARY_PATH, the wrapper and bootstrap
 * paths) point at the real directories instead, but absolute `/opt/...` or `/var/task/...` paths written inside
 * code or scripts do NOT resolve, and /tmp is the host's. A process that calls setsid() can escape the kill of
 * its process group, and only the group leader carries the death signal.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { chmod, chown, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { SandboxError } from "../environment/errors.ts";
import { track, untrack } from "../environment/reaper.ts";
import { labWorkRoot } from "../layers.ts";
import { type HiddenEntries, hostNodePaths, whiteoutDirs } from "./host-node.ts";

export type SandboxMode = "namespace" | "plain";

/** Lambda runs function code as sbx_user1051: uid 993, gid 990. */
export const SANDBOX_UID = 993;
export const SANDBOX_GID = 990;

/** Host directories that appear as /opt, /var/task, /tmp, /var/runtime and /var/lang/bin inside the environment. */
export interface SandboxMounts {
  opt: string;
  task: string;
  tmp: string;
  /** The runtime interface client's package directory (Lambda's /var/runtime). */
  runtime: string;
  /** The directory of the node binary (Lambda's /var/lang/bin). */
  lang: string;
}

/** One environment's sandbox: spawn its processes, then destroy it (every process in it dies). */
export interface Sandbox {
  readonly mode: SandboxMode;
  /** The paths as the processes see them. */
  readonly paths: SandboxMounts;
  /** Spawns `argv` as the leader of a new process group, with `cwd` as seen inside. stdout/stderr are pipes. */
  spawn(argv: string[], env: Record<string, string>, cwd: string): ChildProcess;
  /** Kills every process of the sandbox; resolves when its holder is gone. Idempotent. */
  destroy(): Promise<void>;
}

/** The environment's own mount and PID namespaces; the probe tries exactly what the holder will run. */
const UNSHARE_FLAGS = [
  "--mount",
  "--propagation",
  "private",
  "--pid",
  "--fork",
  "--kill-child=SIGKILL",
  "--mount-proc",
];

let detected: SandboxMode | undefined;
let setprivAvailable: boolean | undefined;

/** "namespace" when this process may create mount and PID namespaces (probed once), else "plain". */
export function detectSandboxMode(): SandboxMode {
  if (detected) return detected;
  detected = "plain";
  if (process.getuid?.() === 0 && existsSync("/usr/bin/unshare") && existsSync("/usr/bin/nsenter")) {
    const probe = spawnSync("unshare", [...UNSHARE_FLAGS, "true"], { stdio: "ignore", timeout: 5000 });
    if (probe.status === 0) detected = "namespace";
  }
  return detected;
}

export function resolveSandboxMode(requested: "auto" | SandboxMode | undefined): SandboxMode {
  if (requested === undefined || requested === "auto") return detectSandboxMode();
  if (requested === "namespace" && detectSandboxMode() !== "namespace") {
    throw new SandboxError(
      "sandbox: namespace mode requested but this process cannot create mount namespaces",
    );
  }
  return requested;
}

/** The paths a process sees for /opt, /var/task, /tmp, /var/runtime and /var/lang/bin in this mode. */
export function visiblePaths(mode: SandboxMode, mounts: SandboxMounts): SandboxMounts {
  return mode === "namespace"
    ? { opt: "/opt", task: "/var/task", tmp: "/tmp", runtime: "/var/runtime", lang: "/var/lang/bin" }
    : mounts;
}

function deathSig(): string[] {
  setprivAvailable ??= spawnSync("setpriv", ["--version"], { stdio: "ignore" }).status === 0;
  return setprivAvailable ? ["setpriv", "--pdeathsig", "KILL", "--"] : [];
}

export interface SandboxOptions {
  /**
   * An OS-only runtime (provided.*): the host's node install is hidden (namespace mode only; see host-node.ts).
   * The caller also mounts an empty dir at /var/lang/bin for it.
   */
  osOnly?: boolean;
}

/** Starts the environment's sandbox (namespace mode: the holder, mounts done) or the plain stand-in. */
export async function openSandbox(
  mode: SandboxMode,
  mounts: SandboxMounts,
  options: SandboxOptions = {},
): Promise<Sandbox> {
  return mode === "namespace" ? openNamespace(mounts, options) : plainSandbox(mounts);
}

function plainSandbox(mounts: SandboxMounts): Sandbox {
  return {
    mode: "plain",
    paths: mounts,
    spawn: (argv, env, cwd) => spawnLeader([...deathSig(), ...argv], { ...env, PWD: cwd }, cwd),
    destroy: async () => {},
  };
}

// Mount order matters: the host's node is hidden first (OS-only runtimes), /tmp last, because the sources may
// themselves live under the host's /tmp (a checkout in /tmp, the lab's scratch dirs). Whatever a process needs
// from the host must be mounted before it. After the 8 fixed arguments come triples: a dir, its overlay
// lowerdir (whiteouts:dir, escaped) and the whiteouts dir whose entries are the names hidden in it.
const HOLDER_SCRIPT = [
  "set -e",
  'ro() { mount --bind "$1" "$2"; mount -o remount,bind,ro "$2"; }',
  "opt=$1 task=$2 tmp=$3 runtime=$4 lang=$5 tasklower=$6 etc=$7 empty=$8",
  "shift 8",
  'while [ "$#" -ge 3 ]; do',
  // Fallback without overlayfs: an empty dir over a dir, an empty 0644 file over anything else.
  '  mount -t overlay overlay -o "ro,lowerdir=$2" "$1" 2>/dev/null || for w in "$3"/* "$3"/.[!.]*; do',
  '    [ -c "$w" ] || continue',
  '    t="$1/$(basename "$w")"',
  '    if [ -d "$t" ]; then ro "$empty" "$t"; else ro "$etc/absent" "$t"; fi',
  "  done",
  "  shift 3",
  "done",
  'ro "$opt" /opt',
  // The code dir's own mode must not matter (a mkdtemp dir is 0700): Lambda's /var/task is root's, 0755. A
  // read-only overlay whose top layer is an empty 0755 dir gives exactly that; a plain bind if overlay fails.
  'mount -t overlay overlay -o "ro,lowerdir=$tasklower" /var/task 2>/dev/null || ro "$task" /var/task',
  'ro "$runtime" /var/runtime',
  'ro "$lang" /var/lang/bin',
  'ro "$etc/passwd" /etc/passwd',
  'ro "$etc/group" /etc/group',
  'mount --bind "$tmp" /tmp',
  "echo ready",
  "exec sleep infinity",
].join("\n");

const MOUNT_POINTS = ["/var/task", "/var/runtime", "/var/lang/bin"];

async function openNamespace(mounts: SandboxMounts, options: SandboxOptions): Promise<Sandbox> {
  for (const mountPoint of MOUNT_POINTS) {
    if (!existsSync(mountPoint)) mkdirSync(mountPoint, { recursive: true });
  }
  // Lambda's /tmp belongs to the function's user, mode 0700.
  await chown(mounts.tmp, SANDBOX_UID, SANDBOX_GID);
  await chmod(mounts.tmp, 0o700);
  const holder = spawnLeader(
    [
      ...deathSig(),
      "unshare",
      ...UNSHARE_FLAGS,
      "--",
      "/bin/sh",
      "-c",
      HOLDER_SCRIPT,
      "sh",
      mounts.opt,
      mounts.task,
      mounts.tmp,
      mounts.runtime,
      mounts.lang,
      `${overlayPath(await emptyDir())}:${overlayPath(mounts.task)}`,
      await sandboxEtc(),
      await emptyDir(),
      ...(options.osOnly ? hideArgs(await hiddenHostNode()) : []),
    ],
    { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
    "/",
  );
  if (holder.pid) track(holder.pid);
  const exited = new Promise<void>((resolve) => {
    holder.once("exit", () => resolve());
    holder.once("error", () => resolve());
  }).then(() => {
    if (holder.pid) untrack(holder.pid);
  });
  const nsInit = await holderReady(holder, exited);
  let destroyed: Promise<void> | undefined;
  return {
    mode: "namespace",
    paths: visiblePaths("namespace", mounts),
    spawn: (argv, env, cwd) =>
      spawnLeader(
        [
          ...deathSig(),
          "nsenter",
          `--target=${nsInit}`,
          "--mount",
          "--pid",
          `--wd=${cwd}`,
          "--",
          "setpriv",
          `--reuid=${SANDBOX_UID}`,
          `--regid=${SANDBOX_GID}`,
          "--clear-groups",
          "--inh-caps=-all",
          "--bounding-set=-all",
          "--no-new-privs",
          "--",
          ...argv,
        ],
        { ...env, PWD: cwd },
        "/",
      ),
    destroy() {
      destroyed ??= (async () => {
        // SIGKILL of the namespace's init: the kernel kills every process in the namespace.
        signal(nsInit, "SIGKILL");
        await exited;
      })();
      return destroyed;
    },
  };
}

/**
 * Made once per lab (the scratch root is the lab process's own), not on every environment start: the cold path
 * only mounts them.
 */
function oncePerLab<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => {
    made ??= make().catch((err: unknown) => {
      made = undefined;
      throw err;
    });
    return made;
  };
}

/**
 * An empty, root-owned 0755 directory: the top layer of the /var/task overlay, and the /var/runtime and
 * /var/lang/bin of OS-only runtimes.
 */
export const emptyDir = oncePerLab(async () => {
  const dir = join(await labWorkRoot(), "empty");
  await mkdir(dir, { recursive: true });
  await chmod(dir, 0o755);
  return dir;
});

/**
 * The host's /etc/passwd and /etc/group plus Lambda's sbx_user1051 (993:990, home /home/sbx_user1051), mounted
 * over the originals in the sandbox: code that asks who it is (os.homedir(), which the AWS SDKs call to find
 * ~/.aws/config) gets an answer, as on Lambda, instead of ENOENT for a uid without an entry. Also `absent`, the
 * empty file bind-mounted over a hidden host file when overlayfs is refused.
 */
const sandboxEtc = oncePerLab(async () => {
  const dir = join(await labWorkRoot(), "etc");
  await mkdir(dir, { recursive: true });
  const host = async (file: string) => (await readFile(file, "utf8").catch(() => "")).replace(/\n*$/, "\n");
  const passwd = await host("/etc/passwd");
  const group = await host("/etc/group");
  const user = `sbx_user1051:x:${SANDBOX_UID}:${SANDBOX_GID}::/home/sbx_user1051:/sbin/nologin\n`;
  await writeFile(
    join(dir, "passwd"),
    new RegExp(`^[^:]*:[^:]*:${SANDBOX_UID}:`, "m").test(passwd) ? passwd : passwd + user,
  );
  const gline = `sbx_user1051:x:${SANDBOX_GID}:\n`;
  await writeFile(
    join(dir, "group"),
    new RegExp(`^[^:]*:[^:]*:${SANDBOX_GID}:`, "m").test(group) ? group : group + gline,
  );
  await writeFile(join(dir, "absent"), "", { mode: 0o644 });
  await chmod(dir, 0o755);
  return dir;
});

/** The whiteouts hiding the host's node install from OS-only runtimes (host-node.ts). */
const hiddenHostNode = oncePerLab(async () =>
  whiteoutDirs(hostNodePaths(), join(await labWorkRoot(), "hide-node")),
);

function hideArgs(hidden: HiddenEntries[]): string[] {
  return hidden.flatMap((h) => [
    h.parent,
    `${overlayPath(h.whiteouts)}:${overlayPath(h.parent)}`,
    h.whiteouts,
  ]);
}

/** overlayfs separates lowerdir entries with ':' and options with ',': escape them in paths. */
function overlayPath(p: string): string {
  return p.replace(/([\\:,])/g, "\\$1");
}

/** Waits for the holder's "ready" (mounts done) and returns the host PID of the namespace's init. */
async function holderReady(holder: ChildProcess, exited: Promise<void>): Promise<number> {
  const stderr: string[] = [];
  createInterface({ input: holder.stderr! }).on("line", (l) => stderr.push(l));
  const ready = new Promise<boolean>((resolve) => {
    createInterface({ input: holder.stdout! }).once("line", (l) => resolve(l === "ready"));
    void exited.then(() => resolve(false));
  });
  if (!(await ready)) {
    signal(-holder.pid!, "SIGKILL");
    await exited;
    throw new SandboxError(`sandbox: could not set up the environment's namespace: ${stderr.join(" ")}`);
  }
  const nsInit = firstChild(holder.pid!);
  if (!nsInit) {
    signal(-holder.pid!, "SIGKILL");
    throw new SandboxError("sandbox: the namespace's init vanished");
  }
  return nsInit;
}

function spawnLeader(full: string[], env: Record<string, string>, cwd: string): ChildProcess {
  const [cmd, ...args] = full;
  return spawn(cmd!, args, { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

function firstChild(pid: number): number | undefined {
  try {
    const c = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/)[0];
    return c ? Number(c) : undefined;
  } catch {
    return undefined;
  }
}
