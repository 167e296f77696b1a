// Entry point of faultline/in-process.cjs: preloaded into the Node runtime by the exec wrapper (NODE_OPTIONS
// --require) when the launcher chose the in-process mode.
import { installInProcess } from "./in-process/index.ts";

try {
  installInProcess({ env: process.env });
} catch (error) {
  // Never take the function down: without the hook every invocation simply passes through.
  console.error(
    `FAULTLINE EXTENSION - in-process mode failed to start, passing through: ${(error as Error).stack}`,
  );
}
