/**
 * How an environment's processes are started so that Lambda's absolute paths resolve and nothing outlives the lab.
 *
 * "namespace" (root, util-linux `unshare`): every process gets a private mount namespace in which the merged
 * layers are bind-mounted at /opt, the code at /var/task and a private dir at /tmp — so the same layer zip works
 * unmodified here and in Lambda. It also gets a private PID namespace (`--pid --fork --kill-child`): when its
 * leader dies every descendant dies with it, and `setpriv --pdeathsig KILL` kills the leader if the lab dies,
 * even on SIGKILL.
 *
 * "plain" (fallback: not root, or namespaces refused): processes run on the host paths. Lambda's variables the lab
 * sets (LAMBDA_TASK_ROOT, PATH, NODE_PATH, LD_LIBRARY_PATH, the wrapper and bootstrap paths) point at the real
 * directories instead, but absolute `/opt/...` or `/var/task/...` paths written inside code or scripts do NOT
 * resolve, and /tmp is the host's. A process that calls setsid() can escape the kill of its process group, and
 * only the group leader carries the death signal.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { SandboxError } from "../environment/errors.ts";

export type SandboxMode = "namespace" | "plain";

/** Host directories that appear as /opt, /var/task and /tmp inside the environment. */
export interface SandboxMounts {
  opt: string;
  task: string;
  tmp: string;
  /** The runtime interface client's package directory (Lambda's /var/runtime). */
  runtime: string;
}

let detected: SandboxMode | undefined;
let setprivAvailable: boolean | undefined;

/** "namespace" when this process may create mount and PID namespaces (probed once), else "plain". */
export function detectSandboxMode(): SandboxMode {
  if (detected) return detected;
  detected = "plain";
  if (process.getuid?.() === 0 && existsSync("/usr/bin/unshare")) {
    const probe = spawnSync(
      "unshare",
      ["--mount", "--propagation", "private", "--pid", "--fork", "--kill-child=SIGKILL", "true"],
      { stdio: "ignore", timeout: 5000 },
    );
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

/** The paths a process sees for /opt, /var/task and /tmp in this mode. */
export function visiblePaths(mode: SandboxMode, mounts: SandboxMounts): SandboxMounts {
  return mode === "namespace"
    ? { opt: "/opt", task: "/var/task", tmp: "/tmp", runtime: "/var/runtime" }
    : mounts;
}

function hasSetpriv(): boolean {
  setprivAvailable ??= spawnSync("setpriv", ["--version"], { stdio: "ignore" }).status === 0;
  return setprivAvailable;
}

// Mount order matters: /tmp last, because the sources may themselves live under the host's /tmp (a checkout in
// /tmp, the lab's scratch dirs). Whatever a process needs from the host must be mounted before it: the runtime
// client is, at /var/runtime as in Lambda.
const MOUNT_SCRIPT =
  'mount --bind "$1" /opt && mount --bind "$2" /var/task && mount --bind "$5" /var/runtime && mount --bind "$3" /tmp && cd "$4" && shift 5 && exec "$@"';

/**
 * Spawns `argv` as the leader of a new process group (so the environment can stop, continue and kill the whole
 * group), with `cwd` as seen inside the sandbox. stdout and stderr are pipes.
 */
export function spawnSandboxed(
  mode: SandboxMode,
  mounts: SandboxMounts,
  argv: string[],
  env: Record<string, string>,
  cwd: string,
): ChildProcess {
  const deathSig = hasSetpriv() ? ["setpriv", "--pdeathsig", "KILL", "--"] : [];
  let full: string[];
  if (mode === "namespace") {
    for (const mountPoint of ["/var/task", "/var/runtime"]) {
      if (!existsSync(mountPoint)) mkdirSync(mountPoint, { recursive: true });
    }
    full = [
      ...deathSig,
      "unshare",
      "--mount",
      "--propagation",
      "private",
      "--pid",
      "--fork",
      "--kill-child=SIGKILL",
      "--",
      "/bin/sh",
      "-c",
      MOUNT_SCRIPT,
      "sh",
      mounts.opt,
      mounts.task,
      mounts.tmp,
      cwd,
      mounts.runtime,
      ...argv,
    ];
  } else {
    full = [...deathSig, ...argv];
  }
  const [cmd, ...args] = full;
  return spawn(cmd!, args, {
    cwd: mode === "namespace" ? "/" : cwd,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
}
