import "./style.css";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { LeverBar } from "./lever.tsx";
import { ExperimentPage } from "./pages/experiment.tsx";
import { ExperimentsPage } from "./pages/experiments.tsx";
import { LabPage } from "./pages/lab.tsx";
import { ScenarioPage } from "./pages/scenario.tsx";
import { TemplatePage } from "./pages/template.tsx";
import { TemplateEditPage } from "./pages/template-edit.tsx";
import { TemplatesPage } from "./pages/templates.tsx";

/** Hash routes (`#/templates/EXT…`): the server has one page; every view is a bookmarkable URL. */
function useRoute(): string[] {
  const read = () => (location.hash.replace(/^#\/?/, "") || "templates").split("/").map(decodeURIComponent);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = () => setRoute(read());
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return route;
}

function page(route: string[]) {
  const [section, id, sub] = route;
  if (section === "templates" && id === "new") return <TemplateEditPage />;
  if (section === "templates" && id && sub === "edit") return <TemplateEditPage id={id} />;
  if (section === "templates" && id) return <TemplatePage id={id} />;
  if (section === "templates") return <TemplatesPage />;
  if (section === "experiments" && id) return <ExperimentPage id={id} />;
  if (section === "experiments") return <ExperimentsPage />;
  if (section === "lab") return <LabPage />;
  if (section === "scenarios") return <ScenarioPage {...(id ? { name: id } : {})} />;
  return <p role="alert">No page {route.join("/")}.</p>;
}

function App() {
  const route = useRoute();
  const current = route[0];
  useEffect(() => {
    // Move focus to the new page's heading, as a page load would (keyboard and screen-reader users).
    document.querySelector<HTMLElement>("main h1")?.focus();
  }, [route.join("/")]);
  const link = (to: string, label: string) => (
    <a
      href={`#/${to}`}
      aria-current={current === to || (to === "templates" && current === "scenarios") ? "page" : undefined}
    >
      {label}
    </a>
  );
  return (
    <>
      <button type="button" class="skip" onClick={() => document.getElementById("main")?.focus()}>
        Skip to content
      </button>
      <header>
        <span class="brand">faultline</span>
        <nav aria-label="Sections">
          {link("templates", "Templates")}
          {link("experiments", "Experiments")}
          {link("lab", "Lab")}
        </nav>
        <LeverBar />
      </header>
      <main id="main" tabIndex={-1}>
        {page(route)}
      </main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
