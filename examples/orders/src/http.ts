/** What the orders functions share: the table, one DynamoDB client per environment, API Gateway v2 shapes. */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";

export const TABLE = process.env.ORDERS_TABLE ?? "Orders";

// Created once per execution environment (outside the handler), as Lambda functions should. The endpoint comes
// from AWS_ENDPOINT_URL_DYNAMODB, which the lab injects; on AWS it is unset and the SDK uses DynamoDB's own.
export const dynamodb = new DynamoDBClient({});

/** The parts of an HTTP API (payload 2.0) event these functions read. */
export interface ApiEvent {
  routeKey: string;
  rawPath: string;
  body?: string;
  isBase64Encoded?: boolean;
  pathParameters?: Record<string, string>;
}

export interface ApiResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export const reply = (statusCode: number, body: unknown): ApiResult => ({
  statusCode,
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

/** One CloudWatch Embedded Metric Format line: the lab (and CloudWatch Logs on AWS) turn it into a metric. */
export function emitMetric(name: string, value: number, unit: "Count" | "Milliseconds" = "Count"): void {
  console.log(
    JSON.stringify({
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [
          { Namespace: "Orders", Dimensions: [["Service"]], Metrics: [{ Name: name, Unit: unit }] },
        ],
      },
      Service: "orders",
      [name]: value,
    }),
  );
}
