/** DeleteOrder — DELETE /orders/{id} → 204, or 404 when there was no such order. */
import { ConditionalCheckFailedException, DeleteItemCommand } from "@aws-sdk/client-dynamodb";
import { type ApiEvent, type ApiResult, dynamodb, emitMetric, reply, TABLE } from "../http.ts";

export const handler = async (event: ApiEvent): Promise<ApiResult> => {
  const id = event.pathParameters?.id;
  if (!id) return reply(400, { message: "id: missing from the path" });
  try {
    await dynamodb.send(
      new DeleteItemCommand({
        TableName: TABLE,
        Key: { id: { S: id } },
        ConditionExpression: "attribute_exists(id)",
      }),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException)
      return reply(404, { message: `order ${id} not found` });
    throw error;
  }
  emitMetric("OrdersDeleted", 1);
  return { statusCode: 204, headers: {}, body: "" };
};
