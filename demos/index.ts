// npm run demo [-- NAME] [-- --list] [-- --quick]: runs one demo (download-pages by default).
// Ctrl-C cancels the demo cleanly: every server it started is closed.
import { main } from "../lib/node/index.js";
import { demos } from "./registry.js";

const args = process.argv.slice(2);
if (args.includes("--list")) {
  for (const [name, d] of Object.entries(demos)) console.log(`${name.padEnd(22)} ${d.summary}`);
} else {
  const name = args.find((a) => !a.startsWith("--")) ?? "download-pages";
  const chosen = demos[name];
  if (!chosen) {
    console.error(`no demo named "${name}"; npm run demo -- --list shows them`);
    process.exitCode = 2;
  } else {
    main(() => chosen.main({ quick: args.includes("--quick"), log: (line) => console.log(line) }), { name });
  }
}
