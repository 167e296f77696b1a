/** The lab config file of a command (`up`, `lab up`, `test`): one that does not validate is a UsageError (exit 2). */
import type { LabConfig } from "@faultline/lab";
import { UsageError } from "./errors.ts";

/** `prefix` says where the path came from (e.g. "orders.yaml: lab: "). */
export async function readLabConfig(path: string, prefix = ""): Promise<LabConfig> {
  // Loaded on use: the lab package is heavy and the API-client commands never need it.
  const { LabConfigError, loadLabConfig } = await import("@faultline/lab");
  try {
    return loadLabConfig(path);
  } catch (error) {
    if (error instanceof LabConfigError) throw new UsageError(`${prefix}${error.message}`);
    throw error;
  }
}
