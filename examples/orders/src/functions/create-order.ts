/** CreateOrder — POST /orders {"item": "book", "quantity": 2} → 201 {"id", "item", "quantity", "createdAt"}. */
import { randomUUID } from "node:crypto";
import { PutItemCommand } from "@aws-sdk/client-dynamodb";
import { type ApiEvent, type ApiResult, dynamodb, emitMetric, reply, TABLE } from "../http.ts";

export const handler = async (event: ApiEvent): Promise<ApiResult> => {
  let input: { item?: unknown; quantity?: unknown };
  try {
    const text = event.isBase64Encoded ? Buffer.from(event.body ?? "", "base64").toString() : event.body;
    input = JSON.parse(text || "{}");
  } catch {
    return reply(400, { message: "body: must be JSON" });
  }
  if (typeof input.item !== "string" || input.item.length === 0) {
    return reply(400, { message: "item: must be a non-empty string" });
  }
  const quantity = input.quantity === undefined ? 1 : Number(input.quantity);
  if (!Number.isInteger(quantity) || quantity < 1) {
    return reply(400, { message: "quantity: must be a positive integer" });
  }
  const order = { id: randomUUID(), item: input.item, quantity, createdAt: Date.now() };
  await dynamodb.send(
    new PutItemCommand({
      TableName: TABLE,
      Item: {
        id: { S: order.id },
        item: { S: order.item },
        quantity: { N: String(order.quantity) },
        createdAt: { N: String(order.createdAt) },
      },
      ConditionExpression: "attribute_not_exists(id)",
    }),
  );
  emitMetric("OrdersCreated", 1);
  return reply(201, order);
};
