// Instructions per request or message of the I/O workloads, repeatable on a shared machine:
//   npm run build
//   node bench/io/callgrind.mjs http node:http|skein [A B] [CONNECTIONS]
//   node bench/io/callgrind.mjs tcp callbacks|skein [A B] [CLIENTS]
// Each runs twice under callgrind, at A and at B requests (messages), and prints
// (Ir(B) − Ir(A)) / (B − A): start-up and warm-up cancel out. Both ends run in one process, so
// the count includes the client's share, the same for every kind: compare differences. HTTP:
// bench/io/server.mjs loading itself over raw keep-alive connections (default 100); TCP:
// bench/io/echo.mjs with CLIENTS connections (default 100). SKEIN_DIST=dir measures another build.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const [what = "http", kind = "skein", a = "2000", b = "6000", clients = "100"] = process.argv.slice(2);
const here = (f) => fileURLToPath(new URL(f, import.meta.url));
const valgrind = ["--tool=callgrind", "--smc-check=all-non-file", "--callgrind-out-file=/dev/null", "node", "--single-threaded"];

function collected(err) {
  const m = /Collected : (\d+)/.exec(err);
  if (m === null) throw new Error(`no instruction count from callgrind:\n${err}`);
  return Number(m[1]);
}

async function http(requests) {
  const child = spawn("valgrind", [...valgrind, here("server.mjs"), kind, "hello", "load", String(requests), clients], { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  const code = await new Promise((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`server exited with ${code}: ${err}`);
  return collected(err);
}

async function tcp(messages) {
  const child = spawn("valgrind", [...valgrind, here("echo.mjs"), kind, clients, String(messages)], { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  const code = await new Promise((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`echo exited with ${code}: ${err}`);
  return collected(err);
}

const measure = what === "tcp" ? tcp : http;
const A = await measure(Number(a));
const B = await measure(Number(b));
const unit = what === "tcp" ? "message" : "request";
console.log(`${what} ${kind} ${clients} connections: ${Math.round((B - A) / (b - a))} instructions per ${unit} (${A} at ${a}, ${B} at ${b})`);
