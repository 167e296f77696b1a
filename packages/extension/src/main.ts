// Entry point of the bundled extension (faultline/extension.cjs in the layer).
import { startExtension } from "./extension.ts";

// The runtime reaches Lambda only through this process: a bug here must not take the function down with it.
process.on("uncaughtException", (error) =>
  console.error(`FAULTLINE EXTENSION - internal error: ${error.stack}`),
);
process.on("unhandledRejection", (error) =>
  console.error(`FAULTLINE EXTENSION - internal error: ${String(error)}`),
);

startExtension({ env: process.env }).then(
  (extension) => {
    const exit = () => void extension.stop().then(() => process.exit(0));
    process.once("SIGTERM", exit);
    process.once("SIGINT", exit);
    void extension.done.then(() => process.exit(0));
  },
  (error: Error) => {
    console.error(`FAULTLINE EXTENSION - fatal: ${error.message}`);
    process.exit(1);
  },
);
