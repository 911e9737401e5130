// Each demo's quick mode runs and its printed claims hold, so a demo cannot rot.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { run } from "../lib/index.js";
import { demo as downloadPages } from "../demos/download-pages.js";

test("download-pages: the concurrent version takes about one latency, the sequential two", async () => {
  const lines: string[] = [];
  const claims = await run(() => downloadPages.main({ quick: true, log: (l) => lines.push(l) }));
  assert.ok(claims.concurrent! < claims.sequential!, JSON.stringify(claims));
  assert.ok(claims.sequential! >= 2 * claims.latency!);
  assert.ok(claims.concurrent! < 1.8 * claims.latency!);
  assert.match(lines.join("\n"), /faster: the two waits overlap/);
});

test("npm run demo -- --list lists the demos, one line each", () => {
  const out = execFileSync(process.execPath, ["--import", "tsx", "demos/index.ts", "--list"], {
    cwd: new URL("..", import.meta.url),
    encoding: "utf8",
  });
  assert.match(out, /^download-pages\s+get page A then page B/m);
});

test.run();
