/** GetOrder — GET /orders/{id} → 200 the order, or 404. */
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { type ApiEvent, type ApiResult, dynamodb, reply, TABLE } from "../http.ts";

export const handler = async (event: ApiEvent): Promise<ApiResult> => {
  const id = event.pathParameters?.id;
  if (!id) return reply(400, { message: "id: missing from the path" });
  const { Item } = await dynamodb.send(
    new GetItemCommand({ TableName: TABLE, Key: { id: { S: id } }, ConsistentRead: true }),
  );
  if (!Item) return reply(404, { message: `order ${id} not found` });
  return reply(200, {
    id: Item.id?.S,
    item: Item.item?.S,
    quantity: Number(Item.quantity?.N),
    createdAt: Number(Item.createdAt?.N),
  });
};
