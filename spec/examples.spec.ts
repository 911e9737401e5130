// Every TypeScript example in the README and the guide (docs/*.md) type-checks against lib/ and
// runs, so none can drift from the code. A comment `// type of NAME: TYPE` in an example is a
// claim the compiler checks: NAME's type is exactly TYPE, at the end of that line.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import ts from "typescript";
import { startRedis, type RedisServer } from "./redis/server.js";

const run = promisify(execFile);
const root = fileURLToPath(new URL("..", import.meta.url));
const pages = ["README.md", ...readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
const blocks = pages.flatMap((page) =>
  [...readFileSync(join(root, page), "utf8").matchAll(/```ts\n([\s\S]*?)```/g)].map((m, i) => ({ page, i, code: m[1]! })),
);

/** Exact type equality (assignability both ways is not enough: `any` would pass). */
const sameType = [
  "type Same_<X, Y> = (<V>() => V extends X ? 1 : 2) extends <V>() => V extends Y ? 1 : 2 ? true : false;",
  "type Claim_<T extends true> = T;",
].join("\n");
const CLAIM = /\/\/ type of ([\w.]+): (.+?)\s*$/;

/** The example's code with each type claim turned into a compile-time check on the next line. */
function withClaims(code: string, claims: Map<number, string>, where: string): string {
  const out: string[] = [];
  for (const line of code.split("\n")) {
    out.push(line);
    const m = CLAIM.exec(line);
    if (m === null) continue;
    claims.set(out.length, `${where}: the type of ${m[1]} is not ${m[2]}`); // the check's 0-based line
    out.push(`type Claim${out.length} = Claim_<Same_<typeof ${m[1]}, ${m[2]}>>;`);
  }
  return `${out.join("\n")}\n${sameType}\n`;
}

test("the TypeScript examples of the README and the guide type-check and run, and their type claims hold", async () => {
  assert.ok(blocks.length > 0);
  // Examples of skein/redis talk to a real redis-server of their own, at REDIS_URL.
  const redis: RedisServer | undefined = blocks.some((b) => b.code.includes('from "skein/redis"')) ? await startRedis() : undefined;
  const dir = mkdtempSync(join(root, "spec", ".examples-"));
  const claims = new Map<string, Map<number, string>>();
  try {
    const files = blocks.map(({ page, i, code }) => {
      const file = join(dir, `${page.replace(/\W/g, "_")}-${i}.mts`);
      // Relative, so that the examples compiled below import lib/ compiled beside them.
      const local = code
        .replaceAll('from "skein/node"', 'from "../../lib/node/index.js"')
        .replaceAll('from "skein/redis"', 'from "../../lib/redis/index.js"')
        .replaceAll('from "skein"', 'from "../../lib/index.js"');
      const mine = new Map<number, string>();
      writeFileSync(file, withClaims(local, mine, `${page}, example ${i + 1}`));
      claims.set(file, mine);
      return file;
    });
    const claimed = [...claims.values()].reduce((n, m) => n + m.size, 0);
    assert.ok(claimed >= 5, `the examples claim ${claimed} types; the README's and the guide's should claim more`);
    // The program that checks the examples also compiles them and lib/ to JavaScript (out/, the
    // tree under root kept), so each runs on plain node: tsx in each of forty processes cost about
    // a CPU-second each, most of this spec's time.
    const out = join(dir, "out");
    const program = ts.createProgram(files, {
      module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022,
      strict: true, types: ["node"], skipLibCheck: true, outDir: out, rootDir: root, sourceMap: true,
    });
    const problems = ts
      .getPreEmitDiagnostics(program)
      .map((d) => {
        const line = d.file !== undefined && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : -1;
        const claim = d.file === undefined ? undefined : claims.get(d.file.fileName)?.get(line);
        return claim ?? `${d.file?.fileName.split("/").pop()}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
      });
    assert.equal(problems, []);
    const emitted = program.emit();
    assert.ok(!emitted.emitSkipped, ts.formatDiagnostics(emitted.diagnostics, ts.createCompilerHost({})));
    // Each example runs in a process of its own, three at a time (most of an example's time is
    // node starting, or the example waiting on a timer or a socket). Not counted in the coverage
    // (what they run, the specs cover), so they do not write it either.
    const env: NodeJS.ProcessEnv = { ...process.env, ...(redis === undefined ? {} : { REDIS_URL: redis.url }) };
    delete env.NODE_V8_COVERAGE;
    const failed: string[] = [];
    const queue = [...files];
    const runner = async () => {
      for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
        try {
          const js = join(out, relative(root, file)).replace(/\.mts$/, ".mjs");
          await run(process.execPath, ["--enable-source-maps", js], { cwd: root, timeout: 30_000, env });
        } catch (e) {
          failed.push(`${file.split("/").pop()} failed:\n${(e as { stderr?: string }).stderr ?? e}`);
        }
      }
    };
    await Promise.all([runner(), runner(), runner()]);
    assert.ok(failed.length === 0, failed.join("\n\n"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await redis?.remove();
  }
});

test.run();
