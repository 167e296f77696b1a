/**
 * The seed's orders stack on AWS: a REST API → CreateOrder / GetOrder / DeleteOrder (the same handler source the
 * local demo runs, bundled the same way) → DynamoDB, a dashboard, a bucket for fault objects and one for reports,
 * and the two experiments (2 s start delay; invocation error) with their roles. Every function tagged
 * FISExperimentReady=Yes is enabled by FaultlineAspect, and the experiments select functions by that tag.
 */
import { join } from "node:path";
import {
  ExperimentAction,
  FaultlineAspect,
  FaultlineLayer,
  LambdaFaultExperiment,
  LambdaTarget,
} from "@faultline/cdk";
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Tags } from "aws-cdk-lib";
import { LambdaIntegration, RestApi } from "aws-cdk-lib/aws-apigateway";
import { Dashboard, GraphWidget, type MathExpression, Metric, TextWidget } from "aws-cdk-lib/aws-cloudwatch";
import { AttributeType, BillingMode, Table } from "aws-cdk-lib/aws-dynamodb";
import { Code, type ILayerVersion, Function as LambdaFunction, Runtime } from "aws-cdk-lib/aws-lambda";
import { BlockPublicAccess, Bucket, BucketEncryption } from "aws-cdk-lib/aws-s3";
import type { Construct } from "constructs";
import { BUILD_DIR, FUNCTIONS } from "../build.ts";

/** The tag the seed's templates select functions by. */
export const READY_TAG = { key: "FISExperimentReady", value: "Yes" } as const;
export const FAULT_PREFIX = "FisConfigs/";

export interface OrdersStackProps extends StackProps {
  /** The faultline layer zip (packages/extension/dist/faultline-layer.zip, built by `npm run build:layer`). */
  layerZip: string;
  /** Use AWS's FIS extension (its public layer, looked up at deploy time) instead of faultline's. */
  useAwsFisExtension?: boolean;
}

export class OrdersStack extends Stack {
  readonly api: RestApi;
  readonly experiments: Record<"delay" | "error", LambdaFaultExperiment>;

  constructor(scope: Construct, id: string, props: OrdersStackProps) {
    super(scope, id, props);
    const table = new Table(this, "Orders", {
      partitionKey: { name: "id", type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const bucket = (name: string) =>
      new Bucket(this, name, {
        encryption: BucketEncryption.S3_MANAGED,
        enforceSSL: true,
        blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
        removalPolicy: RemovalPolicy.DESTROY,
      });
    const faults = bucket("FaultConfigs");
    const reports = bucket("Reports");

    const functions = Object.fromEntries(
      Object.entries(FUNCTIONS).map(([name, dir]) => {
        const fn = new LambdaFunction(this, name, {
          runtime: Runtime.NODEJS_22_X,
          handler: "index.handler",
          code: Code.fromAsset(join(BUILD_DIR, dir)),
          environment: { ORDERS_TABLE: table.tableName },
          timeout: Duration.seconds(10),
          memorySize: 256,
        });
        Tags.of(fn).add("app", "orders");
        Tags.of(fn).add(READY_TAG.key, READY_TAG.value);
        return [name, fn];
      }),
    ) as Record<keyof typeof FUNCTIONS, LambdaFunction>;
    table.grant(functions.CreateOrder, "dynamodb:PutItem");
    table.grant(functions.GetOrder, "dynamodb:GetItem");
    table.grant(functions.DeleteOrder, "dynamodb:DeleteItem");

    let layer: ILayerVersion | undefined;
    if (!props.useAwsFisExtension)
      layer = new FaultlineLayer(this, "FaultlineLayer", { zipPath: props.layerZip });
    FaultlineAspect.applyTo(this, {
      tag: READY_TAG,
      configBucket: faults,
      prefix: FAULT_PREFIX,
      ...(layer ? { layer } : {}),
      useAwsFisExtension: props.useAwsFisExtension === true,
      // FIS's own advice for short functions: wait up to 2 s for a due poll, so faults reach them promptly.
      pollMaxWaitMilliseconds: 2000,
      metrics: true,
    });

    this.api = new RestApi(this, "Api", { restApiName: "orders", deployOptions: { stageName: "prod" } });
    const orders = this.api.root.addResource("orders");
    orders.addMethod("POST", new LambdaIntegration(functions.CreateOrder));
    const order = orders.addResource("{id}");
    order.addMethod("GET", new LambdaIntegration(functions.GetOrder));
    order.addMethod("DELETE", new LambdaIntegration(functions.DeleteOrder));

    const dashboard = this.dashboard(functions);
    const target = LambdaTarget.fromTags({ [READY_TAG.key]: READY_TAG.value });
    const report = {
      bucket: reports,
      prefix: "reports",
      dashboards: [dashboard],
      preExperimentDuration: Duration.minutes(5),
      postExperimentDuration: Duration.minutes(5),
    };
    this.experiments = {
      delay: new LambdaFaultExperiment(this, "DelayExperiment", {
        description: "orders: 2000 ms start delay on every invocation",
        configBucket: faults,
        configPrefix: FAULT_PREFIX,
        actions: {
          delay: ExperimentAction.addDelay({
            target,
            duration: Duration.minutes(5),
            startupDelayMilliseconds: 2000,
            invocationPercentage: 100,
          }),
        },
        report,
        tags: { Name: "orders-delay" },
      }),
      error: new LambdaFaultExperiment(this, "ErrorExperiment", {
        description: "orders: every invocation fails without running the handler",
        configBucket: faults,
        configPrefix: FAULT_PREFIX,
        actions: {
          error: ExperimentAction.invocationError({
            target,
            duration: Duration.minutes(5),
            preventExecution: true,
            invocationPercentage: 100,
          }),
        },
        report,
        tags: { Name: "orders-error" },
      }),
    };
    new CfnOutput(this, "ApiUrl", { value: this.api.url });
    new CfnOutput(this, "DelayTemplateId", { value: this.experiments.delay.experimentTemplateId });
    new CfnOutput(this, "ErrorTemplateId", { value: this.experiments.error.experimentTemplateId });
    new CfnOutput(this, "ReportsBucket", { value: reports.bucketName });
  }

  /** The local demo's dashboard (dashboard.json), with the REST API's metric names. */
  private dashboard(functions: Record<string, LambdaFunction>): Dashboard {
    const api = (metricName: string, label: string, statistic = "Sum") =>
      new Metric({
        namespace: "AWS/ApiGateway",
        metricName,
        dimensionsMap: { ApiName: "orders" },
        statistic,
        label,
        period: Duration.minutes(1),
      });
    const each = (f: (fn: LambdaFunction, name: string) => Metric | MathExpression) =>
      Object.entries(functions).map(([name, fn]) => f(fn, name));
    const faultInjected = (actionId: string) =>
      each(
        (fn, name) =>
          new Metric({
            namespace: "aws-fis-extension",
            metricName: "FaultInjected",
            dimensionsMap: { FaultId: actionId, Invocation: fn.functionName },
            statistic: "Sum",
            label: `${name} ${actionId.split(":").pop()}`,
          }),
      );
    const dashboard = new Dashboard(this, "Dashboard", { dashboardName: `orders-${this.stackName}` });
    dashboard.addWidgets(
      new TextWidget({
        markdown:
          "# Orders: API → Lambda → DynamoDB\nRequests at the API, the functions behind it, and the faults injected.",
        width: 24,
        height: 2,
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: "API requests and errors",
        left: [api("Count", "requests"), api("5XXError", "5xx"), api("4XXError", "4xx")],
        width: 12,
      }),
      new GraphWidget({
        title: "API latency",
        left: [api("Latency", "p50", "p50"), api("Latency", "p99", "p99")],
        width: 12,
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: "Invocations",
        left: each((fn, name) => fn.metricInvocations({ label: name })),
        width: 8,
      }),
      new GraphWidget({
        title: "Duration p50 / p99",
        left: each((fn, name) => fn.metricDuration({ statistic: "p99", label: `${name} p99` })),
        width: 8,
      }),
      new GraphWidget({
        title: "Errors",
        left: each((fn, name) => fn.metricErrors({ label: name })),
        width: 8,
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: "FaultInjected per action",
        left: [
          ...faultInjected("aws:lambda:invocation-add-delay"),
          ...faultInjected("aws:lambda:invocation-error"),
        ],
        width: 12,
      }),
      new GraphWidget({
        title: "Orders written to DynamoDB (handler EMF)",
        left: ["OrdersCreated", "OrdersDeleted"].map(
          (metricName) =>
            new Metric({
              namespace: "Orders",
              metricName,
              dimensionsMap: { Service: "orders" },
              statistic: "Sum",
            }),
        ),
        width: 12,
      }),
    );
    return dashboard;
  }
}
