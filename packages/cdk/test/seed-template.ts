/**
 * The seed experiment's pieces as CloudFormation renders them (AWS::FIS::ExperimentTemplate's casing): what the
 * constructs' tests and the orders example's stack test both expect.
 */
import { Match } from "aws-cdk-lib/assertions";

/** `LambdaTarget.fromTags({ FISExperimentReady: "Yes" })`, selection ALL. */
export const TAGGED_FUNCTIONS = {
  Functions: {
    ResourceType: "aws:lambda:function",
    ResourceTags: { FISExperimentReady: "Yes" },
    SelectionMode: "ALL",
  },
};

/** A report to the `Reports` bucket under `reports`, one dashboard, PT5M before and after. */
export const REPORT_CONFIGURATION = {
  Outputs: {
    ExperimentReportS3Configuration: {
      BucketName: { Ref: Match.stringLikeRegexp("^Reports") },
      Prefix: "reports",
    },
  },
  DataSources: { CloudWatchDashboards: [{ DashboardIdentifier: Match.anyValue() }] },
  PreExperimentDuration: "PT5M",
  PostExperimentDuration: "PT5M",
};

/** One action on the `Functions` target, PT5M, 100 %, with its own parameters. */
export const onTaggedFunctions = (ActionId: string, parameters: Record<string, string>) => ({
  ActionId,
  Parameters: { duration: "PT5M", ...parameters, invocationPercentage: "100" },
  Targets: { Functions: "Functions" },
});
