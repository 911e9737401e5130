// Instructions per request or message of the I/O workloads, repeatable on a shared machine:
//   npm run build
//   node bench/io/callgrind.mjs http node:http|skein [A B] [CONNECTIONS] [--cache]
//   node bench/io/callgrind.mjs http-server node:http|skein [A B] [CONNECTIONS] [--cache]
//   node bench/io/callgrind.mjs tcp callbacks|skein [A B] [CLIENTS] [--cache]
// Each runs twice under callgrind, at A and at B requests (messages), and prints
// (Ir(B) − Ir(A)) / (B − A): start-up and warm-up cancel out. V8's seeds are fixed, so a count
// repeats within a few instructions. `http`: bench/io/server.mjs loading itself over raw
// keep-alive connections (default 100), the client's share included, the same for every kind:
// compare differences. `http-server`: the server alone under callgrind, in its own process, loaded
// by the same client from this one: what a request costs the server (as bench/io.ts's "CPU a
// request"). `tcp`: bench/io/echo.mjs, both ends in one process, CLIENTS connections (default
// 100). `--cache`: callgrind's cache and branch simulation as well, slower: first-level
// instruction and data misses and mispredicted branches per item, which instruction counts do not
// show and timings do. SKEIN_DIST=dir measures another build.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { loadHttp } from "./client.mjs";

const argv = process.argv.slice(2);
const cache = argv.includes("--cache");
const [what = "http", kind = "skein", a = "2000", b = "6000", clients = "100"] = argv.filter((x) => x !== "--cache");
if (!["http", "http-server", "tcp"].includes(what)) throw new Error(`unknown workload ${what}: http, http-server or tcp`);
const here = (f) => fileURLToPath(new URL(f, import.meta.url));
const valgrind = [
  "--tool=callgrind",
  "--smc-check=all-non-file",
  "--callgrind-out-file=/dev/null",
  ...(cache ? ["--cache-sim=yes", "--branch-sim=yes"] : []),
  "node",
  "--single-threaded",
  "--random-seed=1",
  "--hash-seed=1",
];

/** Run `args` under callgrind; `drive` (given the child) loads it if it needs a client. Returns
 * the event counts callgrind collected, by name (Ir, and with --cache I1mr, D1mr, Bcm…). */
async function counted(args, drive) {
  const child = spawn("valgrind", [...valgrind, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  if (drive) await Promise.race([drive(child), exited.then((code) => Promise.reject(new Error(`exited with ${code}: ${err}`)))]);
  child.stdin.end();
  const code = await exited;
  if (code !== 0) throw new Error(`${args[0]} exited with ${code}: ${err}`);
  const events = /Events\s*:\s*(.*)/.exec(err);
  const totals = /Collected\s*:\s*(.*)/.exec(err);
  if (events === null || totals === null) throw new Error(`no counts from callgrind:\n${err}`);
  const values = totals[1].trim().split(/\s+/).map(Number);
  return Object.fromEntries(events[1].trim().split(/\s+/).map((name, i) => [name, values[i]]));
}

/** The server alone under callgrind, loaded from here once it has printed its port. */
async function serverOnly(child, requests) {
  let out = "";
  const port = await new Promise((resolve) =>
    child.stdout.on("data", (d) => {
      out += d;
      if (out.includes("\n")) resolve(Number(out.trim()));
    }),
  );
  await loadHttp(port, requests, Number(clients));
}

const measure = {
  http: (n) => counted([here("server.mjs"), kind, "hello", "load", String(n), clients]),
  "http-server": (n) => counted([here("server.mjs"), kind, "hello", "serve"], (child) => serverOnly(child, n)),
  tcp: (n) => counted([here("echo.mjs"), kind, clients, String(n)]),
}[what];
const A = await measure(Number(a));
const B = await measure(Number(b));
const per = (name) => (B[name] - A[name]) / (b - a);
const unit = what === "tcp" ? "message" : "request";
console.log(`${what} ${kind} ${clients} connections: ${Math.round(per("Ir"))} instructions per ${unit} (${A.Ir} at ${a}, ${B.Ir} at ${b})`);
if (cache) {
  const names = { I1mr: "instruction-cache misses", D1mr: "data-cache read misses", D1mw: "data-cache write misses", Bcm: "mispredicted branches", Bim: "mispredicted indirect calls" };
  console.log(Object.entries(names).map(([k, v]) => `${per(k).toFixed(0)} ${v}`).join(", ") + ` per ${unit} (first-level caches, callgrind's model)`);
}
