/**
 * The few XML shapes S3 speaks, written by hand: escaping on the way out, a tiny tag extractor on the way in
 * (DeleteObjects, CompleteMultipartUpload and CreateBucket bodies are flat lists of known elements).
 */

export const S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/";
const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};

/** Text and attribute escaping. Characters XML 1.0 cannot carry at all are written as character references. */
export function escapeXml(text: string): string {
  return text.replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: they are exactly what must not reach the XML raw.
    /[&<>"']|[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g,
    (c) => ESCAPES[c] ?? `&#${c.charCodeAt(0)};`,
  );
}

/** Already-rendered XML (from `el`/`text`); undefined and false are left out, so optional elements read inline. */
export type Child = string | undefined | false;

/** `<name>text</name>` with the text escaped; nothing when the value is undefined. */
export function text(name: string, value: string | number | boolean | undefined): string {
  if (value === undefined) return "";
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** `<name>…children…</name>`; children that are undefined/false are left out. */
export function el(name: string, ...children: Child[]): string {
  return `<${name}>${children.filter((c) => typeof c === "string").join("")}</${name}>`;
}

/** A whole response document: declaration + root element in S3's namespace. */
export function document(root: string, ...children: Child[]): string {
  const body = children.filter((c) => typeof c === "string").join("");
  return body
    ? `${DECLARATION}<${root} xmlns="${S3_NAMESPACE}">${body}</${root}>`
    : `${DECLARATION}<${root} xmlns="${S3_NAMESPACE}"/>`;
}

/** A document without the namespace (S3's Error shape has none). */
export function bareDocument(root: string, ...children: Child[]): string {
  return `${DECLARATION}${el(root, ...children)}`;
}

/**
 * The inner XML of every `<tag>` element (namespace prefixes and attributes tolerated), in order. Enough for S3's
 * request bodies, which nest known elements without mixed content; not a general XML parser.
 */
export function elements(xml: string, tag: string): string[] {
  const pattern = new RegExp(
    `<(?:\\w+:)?${tag}(?:\\s[^>]*)?(?:/>|>([\\s\\S]*?)</(?:\\w+:)?${tag}\\s*>)`,
    "g",
  );
  return Array.from(xml.matchAll(pattern), (m) => m[1] ?? "");
}

/** The decoded text of the first `<tag>`, or undefined when absent. */
export function textOf(xml: string, tag: string): string | undefined {
  const found = elements(xml, tag)[0];
  return found === undefined ? undefined : unescapeXml(found);
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** Entities and character references decoded; CDATA sections taken verbatim. */
export function unescapeXml(value: string): string {
  return value.replace(
    /<!\[CDATA\[([\s\S]*?)\]\]>|&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g,
    (_m, cdata: string | undefined, entity: string | undefined) => {
      if (cdata !== undefined) return cdata;
      if (entity?.startsWith("#x")) return String.fromCodePoint(Number.parseInt(entity.slice(2), 16));
      if (entity?.startsWith("#")) return String.fromCodePoint(Number.parseInt(entity.slice(1), 10));
      return ENTITIES[entity ?? ""] ?? "";
    },
  );
}
