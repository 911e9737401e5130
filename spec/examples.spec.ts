// Every TypeScript example in the README and the guide (docs/*.md) type-checks against lib/ and
// runs, so none can drift from the code.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { startRedis, type RedisServer } from "./redis/server.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const pages = ["README.md", ...readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
const blocks = pages.flatMap((page) =>
  [...readFileSync(join(root, page), "utf8").matchAll(/```ts\n([\s\S]*?)```/g)].map((m, i) => ({ page, i, code: m[1]! })),
);

test("the TypeScript examples of the README and the guide type-check and run", async () => {
  assert.ok(blocks.length > 0);
  // Examples of skein/redis talk to a real redis-server of their own, at REDIS_URL.
  const redis: RedisServer | undefined = blocks.some((b) => b.code.includes('from "skein/redis"')) ? await startRedis() : undefined;
  const dir = mkdtempSync(join(root, "spec", ".examples-"));
  try {
    const files = blocks.map(({ page, i, code }) => {
      const file = join(dir, `${page.replace(/\W/g, "_")}-${i}.mts`);
      const local = code
        .replaceAll('from "skein/node"', `from ${JSON.stringify(join(root, "lib", "node", "index.js"))}`)
        .replaceAll('from "skein/redis"', `from ${JSON.stringify(join(root, "lib", "redis", "index.js"))}`)
        .replaceAll('from "skein"', `from ${JSON.stringify(join(root, "lib", "index.js"))}`);
      writeFileSync(file, local);
      return file;
    });
    const program = ts.createProgram(files, {
      module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022,
      strict: true, noEmit: true, types: ["node"], skipLibCheck: true,
    });
    const problems = ts
      .getPreEmitDiagnostics(program)
      .map((d) => `${d.file?.fileName.split("/").pop()}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
    assert.equal(problems, []);
    for (const file of files) {
      try {
        const env = redis === undefined ? process.env : { ...process.env, REDIS_URL: redis.url };
        execFileSync(process.execPath, ["--import", "tsx", file], { cwd: root, stdio: "pipe", timeout: 30_000, env });
      } catch (e) {
        assert.unreachable(`${file.split("/").pop()} failed:\n${(e as { stderr?: Buffer }).stderr}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await redis?.remove();
  }
});

test.run();
