// npm run demo [-- NAME] [-- --list] [-- --quick]: runs one demo (download-pages by default).
import { run } from "../lib/index.js";
import type { Demo } from "./demo.js";
import { demo as downloadPages } from "./download-pages.js";

export const demos: Record<string, Demo> = { "download-pages": downloadPages };

const args = process.argv.slice(2);
if (args.includes("--list")) {
  for (const [name, d] of Object.entries(demos)) console.log(`${name.padEnd(16)} ${d.summary}`);
} else {
  const name = args.find((a) => !a.startsWith("--")) ?? "download-pages";
  const chosen = demos[name];
  if (!chosen) {
    console.error(`no demo named "${name}"; npm run demo -- --list shows them`);
    process.exitCode = 2;
  } else {
    await run(() => chosen.main({ quick: args.includes("--quick"), log: (line) => console.log(line) }), { name });
  }
}
