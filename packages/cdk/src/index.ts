export {
  type AddDelayProps,
  type DurationLike,
  ExperimentAction,
  type HttpIntegrationResponseProps,
  type InvocationErrorProps,
  type LambdaFaultProps,
  LambdaTarget,
  type LambdaTargetOptions,
  type SelectionMode,
} from "./actions.ts";
export {
  cloudFormationFromFisTemplate,
  fisTemplateFromCloudFormation,
  type IntrinsicValues,
  resolveIntrinsics,
} from "./cloudformation.ts";
export {
  AWS_FIS_LAYER_PARAMETER,
  AWS_FIS_WRAPPER,
  FAULTLINE_WRAPPER,
  Faultline,
  FaultlineAspect,
  type FaultlineAspectProps,
  type FaultlineEnableOptions,
} from "./enable.ts";
export { CloudFormationTemplateError, FaultlinePropsError } from "./errors.ts";
export {
  type ExperimentReportProps,
  LambdaFaultExperiment,
  type LambdaFaultExperimentProps,
} from "./experiment.ts";
export { FaultlineLayer, type FaultlineLayerProps } from "./layer.ts";
