/**
 * A template's JSON in a textarea. A ValidationException naming a field is shown beside that field's line, and
 * the line is selected (the engine's messages start with the field's path).
 */
import { useEffect, useRef } from "preact/hooks";
import { ApiError } from "./api.ts";

/** Where a field path (`actions.fault.parameters.duration`) is in JSON text: its 1-based line, or undefined. */
export function lineOf(json: string, field: string): number | undefined {
  let at = 0;
  let found = false;
  for (const key of field.split(".")) {
    if (/^\d+$/.test(key)) continue;
    const i = json.indexOf(`"${key}"`, at);
    if (i < 0) break;
    at = i;
    found = true;
  }
  return found ? json.slice(0, at).split("\n").length : undefined;
}

/** The line an error names in this JSON, if it names one. */
export function errorLine(json: string, error: Error | undefined): number | undefined {
  return error instanceof ApiError && error.field ? lineOf(json, error.field) : undefined;
}

export function JsonEditor(props: {
  label: string;
  value: string;
  onInput: (json: string) => void;
  error: Error | undefined;
}) {
  const { value: json, error } = props;
  const ref = useRef<HTMLTextAreaElement>(null);
  const line = errorLine(json, error);
  useEffect(() => {
    const el = ref.current;
    if (!line || !el) return;
    const all = json.split("\n");
    const start = all.slice(0, line - 1).join("\n").length + (line > 1 ? 1 : 0);
    el.focus();
    el.setSelectionRange(start, start + (all[line - 1]?.length ?? 0));
    // Only when a new error arrives: the user's own selection is left alone while typing.
  }, [error]);
  return (
    <div class="field">
      <label for="json">{props.label}</label>
      <div class="json-editor">
        <textarea
          id="json"
          ref={ref}
          spellcheck={false}
          rows={Math.max(16, json.split("\n").length + 1)}
          value={json}
          aria-invalid={line ? "true" : undefined}
          aria-describedby={line ? "json-err" : undefined}
          onInput={(e) => props.onInput(e.currentTarget.value)}
        />
        {line && error ? (
          <p
            id="json-err"
            class="error json-error"
            role="alert"
            // Beside the line it names (the editor's line height is 1.4 × 13 px).
            style={{ marginTop: `${(line - 1) * 18.2}px` }}
          >
            ← line {line}: {error.message}
          </p>
        ) : null}
      </div>
    </div>
  );
}
