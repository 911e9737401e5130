// The core runs in a real browser: lib/index.ts bundled by esbuild for the browser (no `node:`
// import may survive), served on 127.0.0.1 and loaded as an ES module by a page in headless
// Chromium (Debian's /usr/bin/chromium, driven by playwright-core), where real-clock programs
// over run, fork, all, race, timeout, cancel, channels, select and mailboxes must behave.
// Chromium missing is a failure, not a skip: .ci/run installs it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { build } from "esbuild";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const CHROMIUM = process.env.SKEIN_CHROMIUM ?? "/usr/bin/chromium";
const FLAGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run",
];
const programs = readFileSync(new URL("fixtures/browser-programs.mjs", import.meta.url), "utf8");

/** The core as a browser bundler makes it: one ES module, platform browser. */
async function browserBundle(): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL("../lib/index.ts", import.meta.url))],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}

const bundle = await browserBundle();

test("the core bundled with esbuild --platform=browser imports no node: module and nothing else", () => {
  assert.not.match(bundle, /(?:\bfrom|\bimport|\brequire)\s*\(?\s*["']node:/, "a node: import survived in the browser bundle");
  assert.not.match(bundle, /\brequire\(/, "a require() survived in the browser bundle");
  assert.not.match(bundle, /^\s*import\s.+from\s/m, "the bundle still imports something");
  assert.match(bundle, /export\s*\{/);
});

/** A server on 127.0.0.1: the page, the bundle and the programs, nothing else. */
async function serve(): Promise<{ server: Server; url: string }> {
  const files: Record<string, [string, string]> = {
    "/": [
      "text/html",
      `<!doctype html><meta charset="utf-8"><title>skein</title>
<script type="module">
  import * as skein from "/skein.mjs";
  import { runAll } from "/programs.mjs";
  runAll(skein).then((r) => { window.results = r; }, (e) => { window.failure = String(e && e.stack || e); });
</script>`,
    ],
    "/skein.mjs": ["text/javascript", bundle],
    "/programs.mjs": ["text/javascript", programs],
  };
  const server = createServer((req, res) => {
    const file = files[req.url ?? ""];
    if (file === undefined) return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": `${file[0]}; charset=utf-8`, "cache-control": "no-store" }).end(file[1]);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

type Results = Record<string, { value?: unknown; ms?: number; [k: string]: unknown }>;
/** The page's global object, as the programs leave it (the spec type-checks without DOM types). */
type PageGlobal = { results?: Results; failure?: string };
declare const window: PageGlobal;

test("in headless Chromium, real-clock programs over run, fork, all, race, timeout, cancel, channels, select and mailboxes behave", async () => {
  if (!existsSync(CHROMIUM)) {
    assert.unreachable(`Chromium is not installed at ${CHROMIUM}: apt-get install -y chromium (.ci/run does), or set SKEIN_CHROMIUM`);
  }
  const { server, url } = await serve();
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 60_000 });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(url, { timeout: 30_000 });
    await page.waitForFunction(() => window.results !== undefined || window.failure !== undefined, null, { timeout: 60_000, polling: 50 });
    const failure = await page.evaluate(() => window.failure);
    assert.is(failure, undefined, `the programs failed in the page: ${failure}`);
    assert.equal(errors, []);
    const r = (await page.evaluate(() => window.results))!;
    const ms = (name: string) => r[name]!.ms as number;
    // Bounds are generous: the machine may be loaded; each says what would be wrong.
    const LATE = 3000;

    assert.equal(r.environment!.process, "undefined", "a real browser: no process object");
    assert.match(String(r.environment!.userAgent), /HeadlessChrome|Chrome/);

    assert.is(r.run!.value, "slept");
    assert.ok(ms("run") >= 45 && ms("run") < LATE, `sleep(50) took ${ms("run")} ms`);

    assert.is(r.fork!.value, "parent body done");
    // Concurrent: every child began its sleep before any ended (in a sequence they would alternate).
    // The parent waited for all three; each slept its time, and they ended in the order of their
    // deadlines (a child that began late, after a stalled host turn, ends late).
    type Note = { ms: number; started?: true; start: number; end: number };
    const notes = r.fork!.log as Note[];
    assert.equal(notes.slice(0, 3).map((n) => n.started && n.ms), [150, 50, 100], "children run concurrently: all began before one ended");
    const ended = notes.slice(3);
    assert.equal(ended.map((n) => n.ms).sort((a, b) => a - b), [50, 100, 150], "the parent waited for all its children");
    for (const n of ended) assert.ok(n.end - n.start >= n.ms - 1, `sleep(${n.ms}) lasted ${(n.end - n.start).toFixed(1)} ms`);
    for (let i = 1; i < ended.length; i++) {
      const [a, b] = [ended[i - 1]!, ended[i]!];
      assert.ok(a.start + a.ms <= b.start + b.ms + 1, `sleep(${a.ms}) begun at ${a.start.toFixed(1)} ms ended before sleep(${b.ms}) begun at ${b.start.toFixed(1)} ms`);
    }
    assert.ok(ms("fork") >= 145 && ms("fork") < LATE, `fork: ${ms("fork")} ms`);

    assert.equal(r.all!.value, ["a", "b", "c"]);
    assert.ok(ms("all") >= 55 && ms("all") < LATE, `all: ${ms("all")} ms`);

    assert.is(r.race!.value, "fast");
    assert.equal(r.race!.logAtReturn, ["fast ended", "slow ended"], "the loser was torn down before race returned");
    assert.ok(ms("race") < LATE, `race waited for the loser: ${ms("race")} ms`);

    assert.ok(r.timeout!.isTimeoutError, String(r.timeout!.message));
    assert.match(String(r.timeout!.message), /30 ms/);
    assert.equal(r.timeout!.log, ["body ended"]);
    assert.ok(ms("timeout") >= 25 && ms("timeout") < LATE, `timeout: ${ms("timeout")} ms`);

    assert.is(r.cancel!.state, "cancelled");
    assert.ok(r.cancel!.isCancelled);
    assert.match(String(r.cancel!.message), /the page said so/);
    assert.equal(r.cancel!.log, ["finally"]);

    assert.equal(r.channel!.value, Array.from({ length: 20 }, (_, i) => i + 1));
    assert.ok(ms("channel") >= 15 && ms("channel") < LATE, `channel: ${ms("channel")} ms`);

    assert.equal(r.select!.value, [{ case: "b", value: "from b" }, { case: "timeout" }]);
    assert.ok(ms("select") >= 45 && ms("select") < LATE, `select: ${ms("select")} ms`);

    assert.is(r.mailbox!.value, (200 * 201) / 2);
    assert.ok(ms("mailbox") < LATE * 2, `mailbox: ${ms("mailbox")} ms`);

    assert.is(r.many!.value, 10_000);
    assert.ok(ms("many") >= 15 && ms("many") < LATE * 5, `10,000 sleepers: ${ms("many")} ms`);
  } finally {
    await browser.close();
    server.close();
  }
});

test.run();
