// Instructions per request or message of the I/O workloads, steadier than times on a shared machine:
//   npm run build
//   node bench/io/callgrind.mjs http node:http|skein [A B] [CONNECTIONS] [--cache]
//   node bench/io/callgrind.mjs http-server node:http|skein [A B] [CONNECTIONS] [--cache]
//   node bench/io/callgrind.mjs tcp callbacks|skein [A B] [CLIENTS] [--cache]
// Each runs twice under callgrind, at A and at B requests (messages), and prints
// (Ir(B) − Ir(A)) / (B − A): start-up cancels out, and warm-up does once A is past it (TurboFan
// still compiles in the first few thousand; at A = 1,000 a request counts five times its cost).
// V8's seeds are fixed: `http` at 8,000 vs 40,000 repeats within a few instructions, `tcp` at
// 4,000 vs 16,000 within a few hundred, though now and then a run is thousands off: take two.
// But `tcp skein` is still warming up there: TurboFan compiles ~3,000 instructions a message of
// it between 4,000 and 16,000 (callbacks' none), ~1,200 between 16,000 and 48,000, and ~130
// from 48,000 to 112,000: compare kinds at 48000 112000 (a few minutes), where the count is the
// steady state's (2026-12-06, 100 clients: skein 33,096 and callbacks 27,012, 82 %; see
// docs/performance.md, the thirty-second and thirty-third rounds).
// A client whose connection fails now fails the run, saying which (it waited for ever: at 1,000
// clients Node's default backlog, 511, overflowed; the echo's servers now have one for all), and
// clients send once the server has accepted every connection (Node 20 accepts one a loop turn:
// before, a 1,000-client count ran with 435 to 668 of them accepted).
// `http`: bench/io/server.mjs loading itself over raw keep-alive connections (default 100), the
// client's share included, the same for every kind: compare differences. `http-server`: the
// server alone under callgrind, in its own process, loaded by the same client from this one:
// what a request costs the server (as bench/io.ts's "CPU a request").
// How many requests arrive in one turn of its event loop then depends on both processes' speeds
// and moves the count by a thousand or two: compare kinds run side by side, or use one connection
// (each request alone in its turn). `tcp`: bench/io/echo.mjs, both ends in one process, CLIENTS
// connections (default 100). `--cache`: callgrind's model of the first-level caches and of branch
// prediction as well: misses and mispredicted branches per item, which instruction counts do not
// show. It runs about twice as slowly, and so changes the counts of `http-server` and `tcp` (more
// events in a turn): compare runs made with it only with each other. SKEIN_DIST=dir (absolute or
// relative) measures another build.
import { fileURLToPath } from "node:url";
import { loadPrintedPort, nodeUnderCallgrind } from "../valgrind.mjs";

const argv = process.argv.slice(2);
const cache = argv.includes("--cache");
const [what = "http", kind = "skein", a = "2000", b = "6000", clients = "100"] = argv.filter((x) => x !== "--cache");
const kinds = { http: ["node:http", "skein"], "http-server": ["node:http", "skein"], tcp: ["callbacks", "skein"] };
const [A0, B0, C] = [a, b, clients].map(Number);
const bad =
  kinds[what] === undefined ? `unknown workload ${what}`
  : !kinds[what].includes(kind) ? `${what} measures ${kinds[what].join(" or ")}, not ${kind}`
  : ![A0, B0, C].every((n) => Number.isInteger(n) && n >= 1) ? `A, B and the connections must be whole numbers ≥ 1, got ${a} ${b} ${clients}`
  : A0 === B0 ? `A and B must differ (the count is the difference of two runs), got ${a} and ${b}`
  : null;
if (bad !== null) {
  console.error(`${bad}\nusage: node bench/io/callgrind.mjs http|http-server node:http|skein [A B] [CONNECTIONS] [--cache]\n       node bench/io/callgrind.mjs tcp callbacks|skein [A B] [CLIENTS] [--cache]`);
  process.exit(2);
}
const here = (f) => fileURLToPath(new URL(f, import.meta.url));
const options = ["--callgrind-out-file=/dev/null", ...(cache ? ["--cache-sim=yes", "--branch-sim=yes"] : [])];

/** Run `args` under callgrind; `drive` (given the child) loads it if it needs a client. Returns
 * the event counts callgrind collected, by name (Ir, and with --cache I1mr, D1mr, Bcm…). */
async function counted(args, drive) {
  const err = await nodeUnderCallgrind(options, args, drive);
  const events = /Events\s*:\s*(.*)/.exec(err);
  const totals = /Collected\s*:\s*(.*)/.exec(err);
  if (events === null || totals === null) throw new Error(`no counts from callgrind:\n${err}`);
  const values = totals[1].trim().split(/\s+/).map(Number);
  return Object.fromEntries(events[1].trim().split(/\s+/).map((name, i) => [name, values[i]]));
}

const measure = {
  http: (n) => counted([here("server.mjs"), kind, "hello", "load", String(n), String(C)]),
  "http-server": (n) => counted([here("server.mjs"), kind, "hello", "serve"], (child) => loadPrintedPort(child, n, C)),
  tcp: (n) => counted([here("echo.mjs"), kind, String(C), String(n)]),
}[what];
const A = await measure(A0);
const B = await measure(B0);
const per = (name) => (B[name] - A[name]) / (B0 - A0);
const unit = what === "tcp" ? "message" : "request";
console.log(`${what} ${kind} ${C} ${what === "tcp" ? "clients" : "connections"}: ${Math.round(per("Ir"))} instructions per ${unit} (${A.Ir} at ${A0}, ${B.Ir} at ${B0})`);
if (cache) {
  const names = { I1mr: "instruction-cache misses", D1mr: "data-cache read misses", D1mw: "data-cache write misses", Bcm: "mispredicted branches", Bim: "mispredicted indirect calls" };
  console.log(Object.entries(names).map(([k, v]) => `${per(k).toFixed(0)} ${v}`).join(", ") + ` per ${unit} (first-level caches, callgrind's model)`);
}
