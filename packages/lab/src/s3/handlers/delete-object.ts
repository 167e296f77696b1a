/** DeleteObject (204 whether or not the key existed) and DeleteObjects (up to 1000 keys, Quiet honoured). */
import { readBody } from "../body.ts";
import { type Handler, requireBucket } from "../context.ts";
import { malformedXml } from "../errors.ts";
import { document, el, elements, text, textOf } from "../xml.ts";

export const deleteObject: Handler = async (request) => {
  const bucket = requireBucket(request);
  await request.store.deleteObject(bucket, request.key ?? "");
  return { status: 204 };
};

export const deleteObjects: Handler = async (request) => {
  const bucket = requireBucket(request);
  const xml = (await readBody(request.req)).payload.toString("utf8");
  if (elements(xml, "Delete").length !== 1) throw malformedXml();
  const quiet = textOf(xml, "Quiet")?.trim().toLowerCase() === "true";
  const keys = elements(xml, "Object").map((object) => textOf(object, "Key"));
  if (keys.length === 0 || keys.length > 1000 || keys.some((k) => k === undefined)) throw malformedXml();
  await Promise.all(keys.map((key) => request.store.deleteObject(bucket, key!)));
  return {
    status: 200,
    body: document("DeleteResult", ...(quiet ? [] : keys.map((key) => el("Deleted", text("Key", key))))),
  };
};
