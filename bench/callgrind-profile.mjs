// Where the instructions of one item of a workload go, by function, JIT code named (node
// --perf-basic-prof writes /tmp/perf-<pid>.map; callgrind shows JIT code as ???:0x…): the
// workload run at A and at B items, the difference divided by B − A, the ROWS largest shown:
//   npm run build && node bench/callgrind-profile.mjs WORKLOAD [A] [B] [ROWS]
//   node bench/callgrind-profile.mjs pingpong 5000 55000          (a bench/callgrind.mjs workload)
//   node bench/callgrind-profile.mjs echo-skein 48000 112000 300  (or echo-callbacks; below
//   48,000 skein's side still compiles: see bench/io/callgrind.mjs)
//   node bench/callgrind-profile.mjs http-server-skein 20000 100000 300   (or http-server-node)
// echo-skein and echo-callbacks are the TCP echo of bench/io/echo.mjs, 100 clients (CLIENTS=n in
// the environment for another number), both ends in the process (a count of n sends n + 99
// messages; the 99 cancel out in the difference).
// http-server-skein and http-server-node are bench/io/server.mjs's hello server (skein's `serve`
// or `node:http`) alone under callgrind, n requests sent to it over one keep-alive connection
// from this process, as `bench/io/callgrind.mjs http-server KIND A B 1` counts them.
// Inlined functions are counted in their caller. Needs valgrind (callgrind_annotate too).
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadPrintedPort, nodeUnderCallgrind } from "./valgrind.mjs";

const [w, a = "5000", b = "55000", rows = "30"] = process.argv.slice(2);
const echo = /^echo-(skein|callbacks)$/.exec(w);
const http = /^http-server-(skein|node)$/.exec(w);
const script = fileURLToPath(new URL(echo ? "./io/echo.mjs" : http ? "./io/server.mjs" : "./callgrind.mjs", import.meta.url));
const args = (n) => (echo ? [echo[1], process.env.CLIENTS ?? "100", n] : http ? [http[1] === "node" ? "node:http" : "skein", "hello", "serve"] : [w, n]);

/** Run the workload at `n` items under callgrind, into `out`. */
async function counted(n, out) {
  const drive = http ? (child) => loadPrintedPort(child, Number(n), 1) : undefined;
  await nodeUnderCallgrind([`--callgrind-out-file=${out}`], ["--perf-basic-prof", script, ...args(n)], drive);
}

async function profile(n) {
  const out = `/tmp/callgrind-profile.${process.pid}.${n}`;
  await counted(n, out);
  const text = execFileSync("callgrind_annotate", ["--threshold=100", out], { encoding: "utf8", maxBuffer: 1 << 28 });
  // The pid from the profile's own header (a stale /tmp/perf-*.map of another process is never read).
  const pid = /^pid:\s*(\d+)/m.exec(readFileSync(out, "utf8").slice(0, 4000))?.[1];
  const map = [];
  try {
    for (const line of readFileSync(`/tmp/perf-${pid}.map`, "utf8").split("\n")) {
      const [start, size, ...name] = line.split(" ");
      if (name.length > 0) map.push([parseInt(start, 16), parseInt(size, 16), name.join(" ")]);
    }
    rmSync(`/tmp/perf-${pid}.map`);
  } catch {}
  for (const f of readdirSync(".")) if (f.endsWith(`-${pid}-v8.log`)) rmSync(f); // the log --perf-basic-prof turns on
  map.sort((x, y) => x[0] - y[0]);
  const named = (addr) => {
    let lo = 0, hi = map.length - 1, found = null;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (map[mid][0] <= addr) (found = map[mid]), (lo = mid + 1);
      else hi = mid - 1;
    }
    return found !== null && addr < found[0] + found[1] ? `JIT ${found[2]}` : null;
  };
  const by = new Map();
  for (const line of text.split("\n")) {
    const m = /^\s*([\d,]+) \([\s\d.]+%\)\s+(.*)$/.exec(line);
    if (m === null || m[2].startsWith("PROGRAM TOTALS")) continue;
    // A recursion level ('2) is counted with its function: JIT code named from the map, the rest
    // (builtins, C++) by its name without the level.
    const jit = /^\?\?\?:0x([0-9a-f]+)(?:'\d+)? /.exec(m[2]);
    const key = (jit && named(parseInt(jit[1], 16))) ?? m[2].replace(/'\d+(?= \[)/, "");
    by.set(key, (by.get(key) ?? 0) + Number(m[1].replaceAll(",", "")));
  }
  rmSync(out);
  return by;
}

const A = await profile(a), B = await profile(b), items = Number(b) - Number(a);
const diff = [...new Set([...A.keys(), ...B.keys()])].map((k) => [((B.get(k) ?? 0) - (A.get(k) ?? 0)) / items, k]).sort((x, y) => y[0] - x[0]);
console.log(`${w}: ${Math.round(diff.reduce((s, [d]) => s + d, 0))} instructions per item, by function (${a} vs ${b} items)`);
for (const [d, k] of diff.slice(0, Number(rows))) if (Math.abs(d) >= 3) console.log(`${d.toFixed(1).padStart(8)}  ${k.slice(0, 120)}`);
