import { ValidationException } from "./errors.ts";

/** Offset pagination with opaque tokens, maxResults 1–100 as FIS allows. */
export function paginate<T>(
  all: T[],
  page: { maxResults?: number; nextToken?: string },
): { items: T[]; nextToken?: string } {
  const max = page.maxResults ?? 100;
  if (!Number.isInteger(max) || max < 1 || max > 100) {
    throw new ValidationException("maxResults", "must be a whole number from 1 to 100");
  }
  let offset = 0;
  if (page.nextToken !== undefined && page.nextToken.length > 1024) {
    throw new ValidationException("nextToken", "must be at most 1024 characters");
  }
  if (page.nextToken) {
    const decoded = Number(Buffer.from(page.nextToken, "base64url").toString("utf8"));
    if (!Number.isInteger(decoded) || decoded < 0)
      throw new ValidationException("nextToken", "is not a valid token");
    offset = decoded;
  }
  const items = all.slice(offset, offset + max);
  const next =
    offset + max < all.length ? Buffer.from(String(offset + max)).toString("base64url") : undefined;
  return next ? { items, nextToken: next } : { items };
}
