import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startRuntimeApi } from "../../lab/src/runtime-api/index.ts";
import { runtimeApiConformance } from "../../testing/src/index.ts";
import { startExtension } from "../src/index.ts";

// The lab's Runtime API conformance suite, run with the extension's proxy in front of the lab's server:
// whatever the runtime sees must be the same as without the proxy.
runtimeApiConformance("extension proxy in front of the lab Runtime API", async () => {
  const api = await startRuntimeApi();
  const dir = mkdtempSync(join(tmpdir(), "faultline-conf-"));
  const extension = await startExtension({
    env: {
      AWS_LAMBDA_RUNTIME_API: api.address,
      AWS_LAMBDA_FUNCTION_NAME: "conformance",
      FAULTLINE_PORT_FILE: join(dir, "proxy-port"),
    },
    register: false,
    write: () => {},
  });
  return {
    runtimeApi: `127.0.0.1:${extension.port}`,
    invoke: (input) => api.invoke(input),
    close: async () => {
      await extension.stop();
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
