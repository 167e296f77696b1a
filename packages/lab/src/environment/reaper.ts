/**
 * Last line of defence against stray processes: every live process group of every environment is SIGKILLed
 * when the lab process exits normally. (On SIGKILL of the lab, setpriv's death signal and the PID namespace do it.)
 */
const live = new Set<number>();
let installed = false;

export function track(pgid: number): void {
  live.add(pgid);
  if (!installed) {
    installed = true;
    process.once("exit", killAllOnExit);
  }
}

export function untrack(pgid: number): void {
  live.delete(pgid);
}

export function killAllOnExit(): void {
  for (const pgid of live) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // gone already
    }
  }
  live.clear();
}
