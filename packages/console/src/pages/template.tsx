/**
 * One template: what it does, a target preview (FIS's `actionsMode: skip-all`: targets resolved and checked,
 * nothing injected), Start behind a confirmation naming the targets, Edit and Delete.
 */
import type { RefObject } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { call, type Experiment, enc, listAll, type ResolvedTarget, TERMINAL, type Template } from "../api.ts";
import { Problem } from "../ui.tsx";

interface Preview {
  experiment: Experiment;
  targets: ResolvedTarget[];
}

async function runPreview(templateId: string): Promise<Preview> {
  const started = await call<{ experiment: Experiment }>("POST", "/experiments", {
    experimentTemplateId: templateId,
    experimentOptions: { actionsMode: "skip-all" },
    tags: { "faultline:console": "preview" },
  });
  let experiment = started.experiment;
  const deadline = Date.now() + 60_000;
  while (!TERMINAL.has(experiment.state.status) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    experiment = (await call<{ experiment: Experiment }>("GET", `/experiments/${enc(experiment.id)}`))
      .experiment;
  }
  const targets = await listAll<ResolvedTarget>(
    `/experiments/${enc(experiment.id)}/resolvedTargets`,
    "resolvedTargets",
  );
  return { experiment, targets };
}

/** Readiness in words, from the resolved target's information (engine targets.ts). */
export function readiness(info: Record<string, string>): string {
  if (info.ready === "true") return "Ready: its extension will read this experiment's faults.";
  return `Not ready: ${info.problems ?? "the engine could not confirm a fault extension"}.`;
}

export function TargetTable({ targets }: { targets: ResolvedTarget[] }) {
  if (targets.length === 0) return <p class="error">No function matched the template's targets.</p>;
  return (
    <div class="scroll">
      <table>
        <caption>Resolved targets ({targets.length})</caption>
        <thead>
          <tr>
            <th scope="col">Function</th>
            <th scope="col">Target</th>
            <th scope="col">Readiness</th>
            <th scope="col">Extension</th>
          </tr>
        </thead>
        <tbody>
          {targets.map((t) => (
            <tr key={`${t.targetName}/${t.targetInformation.arn}`}>
              <td>
                {t.targetInformation.functionName}
                <div class="muted mono">{t.targetInformation.arn}</div>
              </td>
              <td>{t.targetName}</td>
              <td class={t.targetInformation.ready === "true" ? "ok" : "error"}>
                {readiness(t.targetInformation)}
              </td>
              <td>
                {t.targetInformation.extension ?? "none found"}
                {t.targetInformation.extensionVersion ? (
                  <div class="muted">version {t.targetInformation.extensionVersion}</div>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The template, loaded once per id, and the page's one error (from loading or from an action). */
function useTemplate(id: string) {
  const [template, setTemplate] = useState<Template>();
  const [error, setError] = useState<Error>();
  useEffect(() => {
    call<{ experimentTemplate: Template }>("GET", `/experimentTemplates/${enc(id)}`)
      .then((r) => setTemplate(r.experimentTemplate))
      .catch(setError);
  }, [id]);
  return { template, error, setError };
}

/** What runs behind the page's buttons: preview the targets, start an experiment, delete the template. */
function useTemplateActions(id: string, setError: (error: Error | undefined) => void) {
  const [preview, setPreview] = useState<Preview>();
  const [busy, setBusy] = useState<string>();
  const previewTargets = async () => {
    setBusy("Resolving targets…");
    setError(undefined);
    try {
      const p = await runPreview(id);
      setPreview(p);
      return p;
    } catch (e) {
      setError(e as Error);
      return undefined;
    } finally {
      setBusy(undefined);
    }
  };
  const start = async () => {
    setBusy("Starting…");
    try {
      const r = await call<{ experiment: Experiment }>("POST", "/experiments", { experimentTemplateId: id });
      location.hash = `#/experiments/${r.experiment.id}`;
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(undefined);
    }
  };
  const remove = async () => {
    try {
      await call("DELETE", `/experimentTemplates/${enc(id)}`);
      location.hash = "#/templates";
    } catch (e) {
      setError(e as Error);
    }
  };
  return { preview, busy, previewTargets, start, remove };
}

export function TemplatePage({ id }: { id: string }) {
  const { template, error, setError } = useTemplate(id);
  const { preview, busy, previewTargets, start, remove } = useTemplateActions(id, setError);
  const startDialog = useRef<HTMLDialogElement>(null);
  const deleteDialog = useRef<HTMLDialogElement>(null);
  const disabled = !template || !!busy;
  return (
    <section>
      <div class="title">
        <h1 tabIndex={-1}>{template?.tags?.Name ?? id}</h1>
        <div class="buttons">
          <button type="button" onClick={previewTargets} disabled={disabled}>
            Preview targets
          </button>
          <button
            type="button"
            class="primary"
            onClick={async () => {
              if (await previewTargets()) startDialog.current?.showModal();
            }}
            disabled={disabled}
          >
            Start experiment…
          </button>
          <a class="button" href={`#/templates/${enc(id)}/edit`}>
            Edit
          </a>
          <button type="button" class="danger" onClick={() => deleteDialog.current?.showModal()}>
            Delete…
          </button>
        </div>
      </div>
      {template ? <p>{template.description}</p> : null}
      <Problem error={error} />
      {busy ? <p aria-busy="true">{busy}</p> : null}
      {preview ? <PreviewSection preview={preview} /> : null}
      {template ? <TemplateJson id={id} template={template} /> : null}
      <StartDialog
        dialog={startDialog}
        template={template}
        preview={preview}
        onStart={() => {
          startDialog.current?.close();
          return start();
        }}
      />
      <DeleteDialog
        dialog={deleteDialog}
        id={id}
        onDelete={() => {
          deleteDialog.current?.close();
          return remove();
        }}
      />
    </section>
  );
}

function PreviewSection({ preview }: { preview: Preview }) {
  return (
    <section aria-labelledby="preview-h">
      <h2 id="preview-h">Target preview</h2>
      <p class="muted">
        Preview experiment <a href={`#/experiments/${preview.experiment.id}`}>{preview.experiment.id}</a>:
        nothing was injected.
      </p>
      <TargetTable targets={preview.targets} />
    </section>
  );
}

function TemplateJson({ id, template }: { id: string; template: Template }) {
  return (
    <section aria-labelledby="json-h">
      <h2 id="json-h">Template</h2>
      <pre class="json">{JSON.stringify(template, null, 2)}</pre>
      <p>
        <a href={`#/experiments?template=${enc(id)}`}>Experiments from this template</a>
      </p>
    </section>
  );
}

/** Start behind a confirmation naming the functions the preview resolved, and how many are not ready. */
function StartDialog(props: {
  dialog: RefObject<HTMLDialogElement | null>;
  template: Template | undefined;
  preview: Preview | undefined;
  onStart: () => void;
}) {
  const { dialog, template, preview } = props;
  const names = [...new Set(preview?.targets.map((t) => t.targetInformation.functionName ?? "?") ?? [])];
  const notReady = preview?.targets.filter((t) => t.targetInformation.ready !== "true").length ?? 0;
  return (
    <dialog ref={dialog} aria-labelledby="start-h">
      <h2 id="start-h">Start this experiment?</h2>
      <p>
        <strong>This is not a simulation.</strong> faultline will inject{" "}
        {template
          ? Object.values(template.actions)
              .map((a) => a.actionId)
              .join(", ")
          : "faults"}{" "}
        into {names.length === 1 ? "this function" : `these ${names.length} functions`}:
      </p>
      <ul class="targets">
        {names.map((n) => (
          <li key={n}>{n}</li>
        ))}
      </ul>
      {notReady > 0 ? (
        <p class="error">{notReady} of them are not ready: faults will not reach them.</p>
      ) : null}
      <div class="buttons">
        {/* Cancel first: the dialog focuses it, so Enter alone never starts an experiment. */}
        <button type="button" onClick={() => dialog.current?.close()}>
          Cancel
        </button>
        <button type="button" class="danger" onClick={props.onStart} disabled={names.length === 0}>
          Start: inject faults into {names.length} function{names.length === 1 ? "" : "s"}
        </button>
      </div>
    </dialog>
  );
}

function DeleteDialog(props: {
  dialog: RefObject<HTMLDialogElement | null>;
  id: string;
  onDelete: () => void;
}) {
  const { dialog } = props;
  return (
    <dialog ref={dialog} aria-labelledby="del-h">
      <h2 id="del-h">Delete template {props.id}?</h2>
      <p>Experiments already run from it are kept.</p>
      <div class="buttons">
        <button type="button" onClick={() => dialog.current?.close()}>
          Cancel
        </button>
        <button type="button" class="danger" onClick={props.onDelete}>
          Delete
        </button>
      </div>
    </dialog>
  );
}
