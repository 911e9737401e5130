// The README's code examples type-check against lib/ and run, so they cannot drift.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = fileURLToPath(new URL("..", import.meta.url));
const blocks = [...readFileSync(join(root, "README.md"), "utf8").matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

test("the README's TypeScript examples type-check and run", () => {
  assert.ok(blocks.length > 0);
  const dir = mkdtempSync(join(root, "spec", ".readme-"));
  try {
    const files = blocks.map((code, i) => {
      const file = join(dir, `example-${i}.mts`);
      writeFileSync(file, code.replaceAll('from "skein"', `from ${JSON.stringify(join(root, "lib", "index.js"))}`));
      return file;
    });
    const program = ts.createProgram(files, {
      module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022,
      strict: true, noEmit: true, types: ["node"], skipLibCheck: true,
    });
    const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    assert.equal(problems, []);
    for (const file of files) execFileSync(process.execPath, ["--import", "tsx", file], { cwd: root, stdio: "pipe" });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
