import { conformanceTargetFromEnvironment, runtimeApiConformance } from "../../testing/src/index.ts";
import { startRuntimeApi } from "../src/runtime-api/index.ts";

runtimeApiConformance("lab Runtime API server", async () => {
  const api = await startRuntimeApi();
  return { runtimeApi: api.address, invoke: (input) => api.invoke(input), close: () => api.close() };
});

// Any other implementation, named by FAULTLINE_CONFORMANCE_TARGET (or _RUNTIME_API + _INVOKE_URL): see
// packages/testing/src/runtime-api-conformance.ts. Nothing runs here when neither is set.
const external = await conformanceTargetFromEnvironment();
if (external) runtimeApiConformance(external.name, external.makeHarness, external.options);
