// A TypeDoc plugin for skein's API reference: the index page shows the README without its own
// "# skein" heading (TypeDoc already titles the page with the project's name), and each guide
// page is named by its first heading instead of its file name.
import { Converter, ReflectionKind } from "typedoc";

/** @param {import("typedoc").Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_END, (context) => {
    const project = context.project;
    const first = project.readme?.[0];
    if (first?.kind === "text") first.text = first.text.replace(/^# [^\n]*\n+/, "");
    for (const doc of project.getReflectionsByKind(ReflectionKind.Document)) {
      const text = doc.content?.[0];
      const heading = text?.kind === "text" ? /^# ([^\n]+)\n+/.exec(text.text) : null;
      if (heading === null) continue;
      doc.name = heading[1];
      text.text = text.text.slice(heading[0].length); // the page is titled with it already
    }
  });
}
