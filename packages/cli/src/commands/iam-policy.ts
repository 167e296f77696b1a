/**
 * `faultline iam-policy function|engine --bucket B [--prefix P] [--report-bucket R] [--log-bucket L]`: prints a
 * least-privilege IAM policy document — for the functions' execution role (read the fault objects) or for the
 * role the engine runs with (exactly the calls it makes; see ENGINE_CALLS).
 */
import type { CliCommand } from "../command.ts";
import { UsageError } from "../errors.ts";

interface PolicyCliOptions {
  bucket: string;
  prefix: string;
  reportBucket?: string;
  logBucket?: string;
  partition: string;
}

export const iamPolicy: CliCommand = {
  name: "iam-policy",
  register(program, io) {
    program
      .command("iam-policy")
      .description(
        "Print a least-privilege IAM policy: `function` (execution role) or `engine` (the engine's role)",
      )
      .argument("<role>", "function | engine")
      .requiredOption("--bucket <bucket>", "the bucket fault objects are written to")
      .option("--prefix <prefix>", "the key prefix of fault objects", "FisConfigs/")
      .option("--report-bucket <bucket>", "engine: where experiment reports are uploaded")
      .option("--log-bucket <bucket>", "engine: where experiment logs are delivered")
      .option("--partition <partition>", "ARN partition", "aws")
      .action(async (role: string, o: PolicyCliOptions) => {
        if (role !== "function" && role !== "engine")
          throw new UsageError(`iam-policy ${role}: expected function or engine`);
        const { enginePolicy, functionPolicy } = await import("@faultline/api");
        const options = {
          bucket: o.bucket,
          prefix: o.prefix,
          partition: o.partition,
          ...(o.reportBucket ? { reportBucket: o.reportBucket } : {}),
          ...(o.logBucket ? { logBucket: o.logBucket } : {}),
        };
        const policy = role === "function" ? functionPolicy(options) : enginePolicy(options);
        io.stdout(`${JSON.stringify(policy, null, 2)}\n`);
      });
  },
};
