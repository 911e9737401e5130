// npm run demo [-- NAME] [--list] [--quick] [--trace FILE] [--help]: runs one demo (download-pages
// by default). Ctrl-C cancels the demo cleanly: every server it started is closed.
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { defaultScheduler, recordTrace } from "../lib/index.js";
import { main } from "../lib/node/index.js";
import { demos } from "./registry.js";

const usage = `usage: npm run demo -- [NAME] [options]

Runs one demo (download-pages if no NAME is given).

options:
  --list         list the demos
  --quick        a short run (what the specs check)
  --trace FILE   record a trace of every task's runs and waits to FILE, to open in
                 https://ui.perfetto.dev or chrome://tracing
  --help         this text
`;

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: { list: { type: "boolean" }, quick: { type: "boolean" }, trace: { type: "string" }, help: { type: "boolean" } },
  });
} catch (e) {
  console.error(`${(e as Error).message}\n\n${usage}`);
  process.exit(2);
}
const { values, positionals } = parsed;
const name = positionals[0] ?? "download-pages";
const chosen = demos[name];
if (values.help) {
  process.stdout.write(usage);
} else if (values.list) {
  for (const [n, d] of Object.entries(demos)) console.log(`${n.padEnd(22)} ${d.summary}`);
} else if (positionals.length > 1 || chosen === undefined) {
  console.error(`${positionals.length > 1 ? `one demo at a time, got ${positionals.join(", ")}` : `no demo named "${name}"`}; npm run demo -- --list shows them\n\n${usage}`);
  process.exitCode = 2;
} else {
  const trace = values.trace;
  main(
    function* demo() {
      const recording = trace === undefined ? undefined : recordTrace(defaultScheduler());
      try {
        return yield* chosen.main({ quick: values.quick === true, log: (line) => console.log(line) });
      } finally {
        if (recording !== undefined) {
          writeFileSync(trace!, JSON.stringify(recording.stop()));
          console.log(`\ntrace written to ${trace}: open it in https://ui.perfetto.dev or chrome://tracing`);
        }
      }
    },
    { name },
  );
}
