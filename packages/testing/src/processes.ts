/** Finds processes the lab marked as its own (env FAULTLINE_LAB_OWNER=<pid>). */
import { readdirSync, readFileSync } from "node:fs";

export function labOwnedProcesses(ownerPid: number = process.pid): string[] {
  const marker = `FAULTLINE_LAB_OWNER=${ownerPid}\0`;
  const found: string[] = [];
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const environ = readFileSync(`/proc/${pid}/environ`, "utf8");
      if (!`${environ}\0`.includes(marker)) continue;
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim();
      // Zombies have an empty cmdline and are being reaped.
      if (cmd) found.push(`${pid} ${cmd}`);
    } catch {
      // exited while we looked
    }
  }
  return found;
}
