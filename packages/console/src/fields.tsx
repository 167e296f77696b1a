/** Labelled form controls that show the error naming their field beside them (aria-invalid, described by it). */
interface FieldProps {
  label: string;
  /** The template field it edits (`actions.fault.parameters.duration`): its id and the tests' handle. */
  path: string;
  value: string;
  onInput: (v: string) => void;
  error?: string | undefined;
}

const idOf = (path: string) => `f-${path.replace(/\W/g, "-")}`;

function FieldError({ id, error }: { id: string; error: string | undefined }) {
  return error ? (
    <p id={`${id}-err`} class="error field-error" role="alert">
      {error}
    </p>
  ) : null;
}

/** Plain attributes passed to the input (hints and the browser's own checks). */
interface InputHints {
  placeholder?: string;
  title?: string;
  required?: boolean;
  inputMode?: "numeric" | "text";
  pattern?: string;
}

export function Field(props: FieldProps & InputHints) {
  const { label, path, value, onInput, error, ...rest } = props;
  const fid = idOf(path);
  return (
    <div class="field">
      <label for={fid}>{label}</label>
      <input
        id={fid}
        data-field={path}
        value={value}
        aria-invalid={error ? "true" : undefined}
        aria-describedby={error ? `${fid}-err` : undefined}
        onInput={(e) => onInput(e.currentTarget.value)}
        {...rest}
      />
      <FieldError id={fid} error={error} />
    </div>
  );
}

export function TextArea({ label, path, value, onInput, error }: FieldProps) {
  const fid = idOf(path);
  return (
    <div class="field">
      <label for={fid}>{label}</label>
      <textarea
        id={fid}
        data-field={path}
        rows={3}
        value={value}
        aria-invalid={error ? "true" : undefined}
        aria-describedby={error ? `${fid}-err` : undefined}
        onInput={(e) => onInput(e.currentTarget.value)}
      />
      <FieldError id={fid} error={error} />
    </div>
  );
}
