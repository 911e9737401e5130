// npm run bench [-- --only roundtrip,heap,http] [--peers skein,native] [--core]
// Runs every case for every library, each in its own process, and prints one table of results
// with ratios to native async/await measured in the same run; then the I/O bench (bench/io.ts).
import { execFile, execFileSync } from "node:child_process";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { benchArgs } from "./args.js";
import { whyFailed } from "./failure.js";
import type { CaseResult } from "./case.js";
import { keepNamesBuild } from "./skein.js";

const run = promisify(execFile);
const caseFile = fileURLToPath(new URL("case.ts", import.meta.url));
const allCases = ["roundtrip", "call", "depth", "sleepers", "heap", "heap-fresh", "million", "pingpong", "buffered", "all", "race", "fanout", "tells", "selective"];
const allPeers = ["native", "skein", "skein (keepNames)", "skein (mixed)", "skein (yield*)", "co", "redux-saga", "effection", "Effect", "js-csp"];
const titles: Record<string, string> = {
  roundtrip: "one synchronous effect round trip",
  call: "`call` of a synchronous function",
  "depth-1": "resume at depth 1",
  "depth-10": "resume at depth 10",
  "depth-100": "resume at depth 100",
  sleepers: "spawn and finish 100,000 sleepers (10 ms)",
  heap: "heap per suspended sleeping coroutine",
  "heap-fresh": "the same, its function written in the loop that starts it",
  million: "heap of 1,000,000 sleeping coroutines",
  pingpong: "unbuffered channel ping-pong round trip",
  buffered: "buffered channel, a send and a receive that need not wait",
  all: "all of two sub-operations that return at once",
  race: "race of one that returns at once against a sleep, stopped",
  fanout: "1,000,000 messages to 1,000 consumers and back",
  tells: "1,000,000 tells to one receiving task",
  selective: "selective receive behind 1,000 non-matching messages",
};
const targets: Record<string, string> = {
  roundtrip: "≤ 40 ns", call: "≤ 30 ns", "depth-100": "≤ 1.2× depth 1", sleepers: "≤ 150 ms", heap: "≤ 300 B", million: "≤ 400 MB",
  pingpong: "≤ 150 ns", buffered: "≤ 30 ns",
};

const ioCases = ["http", "http-sleep", "tcp", "pool"];
const usage = `usage: npm run bench -- [options]

Runs the core cases for every library, then the I/O cases (which need the build: npm run bench does it).

options:
  --only LIST    the cases to run, comma-separated: ${[...allCases, ...ioCases].join(", ")}
  --peers LIST   the libraries to compare, comma-separated: ${allPeers.join(", ")}
  --core         the core cases only (npm run bench:core)
  --help         this text
`;
const args = benchArgs(usage, { only: [...allCases, ...ioCases], peers: allPeers }, ["core"]);
const chosen = args.lists.only ?? [...allCases, ...ioCases];
const only = chosen.filter((c) => allCases.includes(c));
const io = args.flags.core ? [] : chosen.filter((c) => ioCases.includes(c));
const peers = (args.lists.peers ?? allPeers).filter((p) => p !== "skein (yield*)" || only.includes("depth"));

// skein as a user's bundle with esbuild's keepNames has it (tsx's too): the same build, every class
// and function given an own `name`, which V8 once made several times slower.
const keepNames = peers.includes("skein (keepNames)") ? await keepNamesBuild() : "";

async function measure(which: string, peer: string): Promise<CaseResult | string> {
  // The variant differs from skein only in how it nests; elsewhere it is skein itself.
  if (peer === "skein (yield*)" && which !== "depth") return "as skein";
  // "skein (mixed)": the build run after a program's mix of effects (bench/mixed.mjs).
  const env: NodeJS.ProcessEnv = { ...process.env, SKEIN_MIXED: peer === "skein (mixed)" ? "1" : "" }; // (not inherited by the others)
  if (peer === "skein (keepNames)") env.SKEIN_DIST = keepNames;
  try {
    const { stdout } = await run(
      process.execPath,
      ["--expose-gc", "--max-old-space-size=16384", "--import", "tsx", caseFile, which, peer === "skein (keepNames)" || peer === "skein (mixed)" ? "skein" : peer],
      { timeout: 180_000, maxBuffer: 1 << 20, env },
    );
    return JSON.parse(stdout.trim().split("\n").pop()!) as CaseResult;
  } catch (e) {
    return (e as { killed?: boolean }).killed ? "timeout" : `failed: ${whyFailed(e)}`;
  }
}

const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

console.log(`skein bench — node ${process.version}, ${cpus()[0]?.model ?? "cpu"} ×${cpus().length}, ${new Date().toISOString().slice(0, 10)}`);
console.log("Each library runs each case in its own process; times are the best of 5-7 runs (noise only adds time);");
console.log("the ratio is to native async/await in this run (lower is better).\n");
const header = ["workload", "unit", ...peers, "skein target"];
const rows: string[][] = [];
const notes: string[] = [];
for (const which of only) {
  const results: Record<string, CaseResult | string> = {};
  for (const peer of peers) {
    results[peer] = await measure(which, peer);
    process.stderr.write(".");
  }
  if (which === "fanout") {
    for (const p of peers) {
      const r = results[p];
      if (typeof r === "object" && r.value !== null && !Number.isNaN(r.value)) notes.push(`${titles[which]}, ${p}: ${r.checked}`);
    }
  }
  const unit = Object.values(results).find((r): r is CaseResult => typeof r === "object" && r.unit !== "")?.unit ?? "";
  // A case measured in several variants at once gives one row per variant.
  const variants = Object.keys(Object.values(results).find((r): r is CaseResult => typeof r === "object")?.rows ?? { [which]: 0 });
  for (const variant of variants) {
    const pick = (r: CaseResult | string) => (typeof r === "string" ? r : r.rows?.[variant] ?? r.value);
    const native = results.native === undefined ? undefined : pick(results.native); // (--peers without native: no ratios)
    const base = typeof native === "number" && native !== null && !Number.isNaN(native) ? native : undefined;
    rows.push([
      titles[variant] ?? variant,
      unit,
      ...peers.map((p) => {
        const v = pick(results[p]!);
        if (typeof v === "string") return v;
        if (v === null || Number.isNaN(v)) return "—"; // NaN (JSON null): not offered
        return `${fmt(v)}${base !== undefined ? ` (${(v / base).toFixed(2)}×)` : ""}`;
      }),
      targets[variant] ?? "",
    ]);
  }
}
process.stderr.write("\n");
console.log(`| ${header.join(" | ")} |`);
console.log(`|${header.map((_, i) => (i < 2 ? "---" : "---:")).join("|")}|`);
for (const r of rows) console.log(`| ${r.join(" | ")} |`);
for (const n of notes) console.log(`\n${n}`);
const depth = (name: string) => rows.find((r) => r[0] === titles[name]);
const d1 = depth("depth-1");
const d100 = depth("depth-100");
if (d1 && d100) {
  const col = header.indexOf("skein");
  const ratio = parseFloat(d100[col]!) / parseFloat(d1[col]!);
  if (Number.isFinite(ratio)) console.log(`\nskein resume cost at depth 100 / depth 1: ${ratio.toFixed(2)}×`);
}

if (io.length > 0) {
  console.log("");
  execFileSync(process.execPath, ["--import", "tsx", fileURLToPath(new URL("io.ts", import.meta.url)), "--only", io.join(",")], { stdio: "inherit" });
}
