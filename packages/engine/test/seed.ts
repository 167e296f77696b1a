/** The seed's template: 2000 ms start delay, 100 %, tag-selected. */
export const ARN = "arn:aws:lambda:us-east-1:123456789012:function:demo";
// biome-ignore lint/suspicious/noExplicitAny: tests mutate this JSON freely to build bad templates.
export function seedTemplate(): Record<string, any> {
  return {
    description: "lambda latency",
    roleArn: "arn:aws:iam::123456789012:role/fis",
    stopConditions: [{ source: "none" }],
    targets: {
      fns: {
        resourceType: "aws:lambda:function",
        resourceTags: { FISExperimentReady: "Yes" },
        selectionMode: "ALL",
      },
    },
    actions: {
      lat: {
        actionId: "aws:lambda:invocation-add-delay",
        parameters: { duration: "PT10M", invocationPercentage: "100", startupDelayMilliseconds: "2000" },
        targets: { Functions: "fns" },
      },
    },
    tags: { Name: "x" },
  };
}
