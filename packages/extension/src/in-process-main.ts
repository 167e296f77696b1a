// Entry point of faultline/in-process.cjs: preloaded into the Node runtime by the exec wrapper (NODE_OPTIONS
// --require) when the launcher chose the in-process mode. Kept small: the fault side is the separate
// faultline/in-process-faults.cjs, required only when the runtime asks for its first event.
import { join } from "node:path";
import type { openFaultSide } from "./in-process/fault-side.ts";
import { installInProcess } from "./in-process/index.ts";

const FAULT_SIDE = join(__dirname, "in-process-faults.cjs");

try {
  installInProcess({
    env: process.env,
    loadFaultSide: () => require(FAULT_SIDE) as { openFaultSide: typeof openFaultSide },
  });
} catch (error) {
  // Never take the function down: without the hook every invocation simply passes through.
  console.error(
    `FAULTLINE EXTENSION - in-process mode failed to start, passing through: ${(error as Error).stack}`,
  );
}
