import { runtimeApiConformance } from "../../testing/src/index.ts";
import { startRuntimeApi } from "../src/runtime-api/index.ts";

runtimeApiConformance("lab Runtime API server", async () => {
  const api = await startRuntimeApi();
  return { runtimeApi: api.address, invoke: (input) => api.invoke(input), close: () => api.close() };
});
