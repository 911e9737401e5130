// The file tree shows the layers (DESIGN §1, §4): a folder of lib/ imports only from the folders
// beneath it, the platform-neutral layers import no `node:` module, and the scheduler reaches
// effects only through the handler table it is given.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const lib = fileURLToPath(new URL("../lib", import.meta.url));
/** Bottom to top: each folder may import from itself and the folders before it. */
const layers = ["core", "combinators", "sync", "debug", "node", "redis"];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/** The specifiers a file imports or re-exports. */
function imports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?\sfrom\s+"([^"]+)"|import\("([^"]+)"\)/g)].map((m) => (m[1] ?? m[2])!);
}

const files = sources(lib).map((f) => relative(lib, f));
const layerOf = (path: string) => (path.includes("/") ? path.split("/")[0]! : "index");

test("every file of lib/ is in a layer folder, but the entry points", () => {
  const loose = files.filter((f) => !f.includes("/") && f !== "index.ts");
  assert.equal(loose, []);
  for (const f of files) if (f.includes("/")) assert.ok(layers.includes(layerOf(f)), `${f} is in no known layer`);
});

test("a folder imports only from itself and the folders beneath it", () => {
  const wrong: string[] = [];
  for (const f of files) {
    const from = layerOf(f);
    for (const spec of imports(join(lib, f))) {
      if (!spec.startsWith(".")) continue;
      const target = relative(lib, join(dirname(join(lib, f)), spec));
      const to = layerOf(target);
      if (from === "index") {
        if (to === "node" || to === "redis") wrong.push(`${f} → ${target}: the core entry must stay platform-neutral`);
        continue;
      }
      if (to === "index") wrong.push(`${f} → ${target}: only the entry points import the entry points`);
      else if (layers.indexOf(to) > layers.indexOf(from)) wrong.push(`${f} → ${target}: ${from} is beneath ${to}`);
    }
  }
  assert.equal(wrong, []);
});

test("the platform-neutral layers import no node: module", () => {
  const wrong = files
    .filter((f) => ["index", "core", "combinators", "sync", "debug"].includes(layerOf(f)))
    .flatMap((f) => imports(join(lib, f)).filter((s) => s.startsWith("node:")).map((s) => `${f} imports ${s}`));
  assert.equal(wrong, []);
});

test("the scheduler does not import the handlers: it is given their table", () => {
  assert.not.ok(imports(join(lib, "core/scheduler.ts")).some((s) => /handlers/.test(s)));
});

test.run();
