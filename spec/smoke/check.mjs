// Package smoke test: pack skein as npm would publish it, install the tarball into a scratch
// consumer, load it with `import` and with `require` (apart, and both in one process next to a
// second copy of another version), and type-check TypeScript consumers of both.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const here = dirname(fileURLToPath(import.meta.url));
const work = mkdtempSync(join(tmpdir(), "skein-smoke-"));
// Bounded: a hang or a runaway allocation fails the smoke test instead of stalling it.
const run = (cmd, args, cwd = work) =>
  execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });

try {
  const packed = JSON.parse(run("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", work], root));
  const files = packed[0].files.map((f) => f.path);
  const needs = ["index", "node", "core"].flatMap((e) => [".mjs", ".cjs", ".d.mts", ".d.cts"].map((x) => `dist/${e}${x}`));
  needs.push("dist/wrapper/index.mjs", "dist/wrapper/node.mjs", "LICENSE");
  for (const need of [...needs, "package.json"]) {
    if (!files.includes(need)) throw new Error(`the package lacks ${need}`);
  }
  // Functions and classes keep their names in the bundles: stack traces, task trees and `call`
  // frames show them. Two of one name in one bundle get one renamed (`timer$1`).
  for (const f of files.filter((f) => /^dist\/.*\.(mjs|cjs)$/.test(f))) {
    const renamed = readFileSync(join(root, f), "utf8").match(
      /^(?:(?:async )?(?:function\*? |class )\w+\$\d+\b|(?:const|let|var) \w+\$\d+ = (?:async )?(?:function\b|class\b|\([^)]*\) =>|\w+ =>))/gm,
    );
    if (renamed !== null) throw new Error(`${f} renames ${renamed.join(", ")}: give the functions of lib/ distinct names`);
  }
  const pkgDir = join(work, "node_modules", "skein");
  mkdirSync(pkgDir, { recursive: true });
  run("tar", ["-xzf", join(work, packed[0].filename), "-C", pkgDir, "--strip-components=1"]);
  // A second copy of another version, as a dependency that bundles or pins its own skein brings.
  const otherDir = join(work, "node_modules", "skein-other");
  mkdirSync(otherDir, { recursive: true });
  run("tar", ["-xzf", join(work, packed[0].filename), "-C", otherDir, "--strip-components=1"]);
  for (const f of ["dist/core.cjs", "dist/core.mjs"]) {
    const path = join(otherDir, f);
    const text = readFileSync(path, "utf8");
    const changed = text.replace(/const VERSION = "[^"]+"/, 'const VERSION = "0.0.0-other"');
    if (changed === text) throw new Error(`${f} does not define VERSION as the smoke test expects`);
    writeFileSync(path, changed);
  }
  writeFileSync(join(work, "package.json"), JSON.stringify({ name: "consumer", private: true }));
  for (const f of readdirSync(join(here, "consumer"))) cpSync(join(here, "consumer", f), join(work, f));

  const esm = run("node", ["esm.mjs"]).trim();
  const cjs = run("node", ["cjs.cjs"]).trim();
  const expected = "3 completed 1000";
  if (esm !== expected) throw new Error(`import: expected "${expected}", got "${esm}"`);
  if (cjs !== expected) throw new Error(`require: expected "${expected}", got "${cjs}"`);
  for (const file of ["node.mjs", "node.cjs"]) {
    const out = run("node", [file]).trim();
    if (out !== "echo ping") throw new Error(`skein/node (${file}): expected "echo ping", got "${out}"`);
  }

  // skein/redis loads from both formats without its optional peer (ioredis is loaded when a queue opens).
  const redisEsm = run("node", ["--input-type=module", "-e", 'import { queue } from "skein/redis"; import { Task } from "skein"; console.log(typeof queue, typeof Task)']).trim();
  const redisCjs = run("node", ["-e", 'const { queue } = require("skein/redis"); const { Task } = require("skein"); console.log(typeof queue, typeof Task)']).trim();
  if (redisEsm !== "function function" || redisCjs !== "function function") throw new Error(`skein/redis: import gave "${redisEsm}", require gave "${redisCjs}"`);

  const mixed = run("node", ["--max-old-space-size=256", "mixed.mjs"]).trim();
  if (!/^ok \d+$/.test(mixed)) throw new Error(`import and require in one process: ${mixed}`);

  // A browser bundler resolves "skein" to the pure ESM build, which imports no node: module.
  writeFileSync(join(work, "browser-entry.mjs"), 'export * from "skein";\n');
  const web = await build({
    entryPoints: [join(work, "browser-entry.mjs")], absWorkingDir: work, bundle: true, format: "esm",
    platform: "browser", write: false, metafile: true, logLevel: "silent",
  });
  const inputs = Object.keys(web.metafile.inputs).filter((f) => f.includes("node_modules/skein/")).sort();
  if (inputs.join() !== "node_modules/skein/dist/core.mjs,node_modules/skein/dist/index.mjs") {
    throw new Error(`a browser bundle of "skein" should use dist/index.mjs and dist/core.mjs, used ${inputs.join(", ")}`);
  }
  if (/(?:\bfrom|\bimport|\brequire)\s*\(?\s*["']node:/.test(web.outputFiles[0].text)) throw new Error("the browser bundle of skein imports a node: module");

  // A CommonJS dependency that requires skein, in the same browser bundle: still one copy.
  mkdirSync(join(work, "node_modules", "cjsdep"), { recursive: true });
  writeFileSync(join(work, "node_modules", "cjsdep", "package.json"), JSON.stringify({ name: "cjsdep", main: "index.js" }));
  writeFileSync(join(work, "node_modules", "cjsdep", "index.js"), 'exports.Task = require("skein").Task;\n');
  writeFileSync(join(work, "mixed-entry.mjs"), 'import { Task } from "skein";\nimport { Task as Theirs } from "cjsdep";\nexport const same = Task === Theirs;\n');
  const both = await build({
    entryPoints: [join(work, "mixed-entry.mjs")], absWorkingDir: work, bundle: true, format: "esm",
    platform: "browser", write: false, metafile: true, logLevel: "silent",
  });
  const copies = Object.keys(both.metafile.inputs).filter((f) => f.includes("node_modules/skein/")).sort();
  if (copies.join() !== "node_modules/skein/dist/core.mjs,node_modules/skein/dist/index.mjs") {
    throw new Error(`a bundle with a CommonJS dependency that requires skein should hold one copy, held ${copies.join(", ")}`);
  }

  // are-the-types-wrong: every entry's types resolve under node10, node16 (import and require) and bundler.
  try {
    run("node", [join(root, "node_modules", "@arethetypeswrong", "cli", "dist", "index.js"), join(work, packed[0].filename), "--format", "ascii"]);
  } catch (e) {
    throw new Error(`are-the-types-wrong found problems:\n${e.stdout}${e.stderr}`);
  }

  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  try {
    run("node", [tsc, "-p", "tsconfig.json"]);
    // skein/node's declarations need Node's, as any Node library's do.
    symlinkSync(join(root, "node_modules", "@types"), join(work, "node_modules", "@types"));
    run("node", [tsc, "-p", "tsconfig.node.json"]);
  } catch (e) {
    throw new Error(`the types do not resolve for a TypeScript consumer:\n${e.stdout}${e.stderr}`);
  }
  console.log(`smoke: packed ${files.length} files, their functions named as in lib/; import, require, both in one process (${mixed}), a browser bundle, are-the-types-wrong, and TypeScript consumers (ESM and CJS) of skein and skein/node, and skein/redis loaded both ways ok`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
