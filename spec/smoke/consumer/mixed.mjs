// skein loaded with `import` and with `require` in one process, as an app whose dependencies mix
// formats does: one copy, so either's effects, tasks and errors work with the other's. Then a
// second, different copy (node_modules/skein-other, another version): its effects and tasks fail
// with a TypeError naming the cause, never a hang, an out-of-memory or a wrong value; its errors
// are recognised. Prints "ok" and what it checked, or throws.
import { createRequire } from "node:module";
import * as E from "skein";
import * as EN from "skein/node";

const require = createRequire(import.meta.url);
const C = require("skein");
const CN = require("skein/node");
const O = await import("skein-other");
const checked = [];

function check(ok, what) {
  if (!ok) throw new Error(`mixed formats: ${what}`);
  checked.push(what);
}

// One copy.
check(E.Task === C.Task && E.Effect === C.Effect && E.run === C.run, "import and require give the same classes and functions");
check(EN.readFile === CN.readFile && EN.Socket === CN.Socket, "skein/node likewise");
check(E.defaultScheduler() === C.defaultScheduler(), "one default scheduler");

const mixed = await E.run(function* () {
  yield* C.sleep(5); // an effect from require, in a task started by import
  const [a, b] = yield* C.all([function* () { yield* E.sleep(1); return 1; }, E.call(() => 2)]);
  const ch = C.channel(1);
  yield* E.fork(function* () { yield* ch.send(a + b); });
  const got = yield* ch.receive();
  const t = C.run(function* () { yield* E.sleep(1); return "joined"; });
  const joined = yield* t;
  let timedOut = false;
  try {
    yield* C.timeout(5, E.sleep(1000));
  } catch (e) {
    timedOut = e instanceof E.TimeoutError;
  }
  const text = yield* CN.readFile(new URL(import.meta.url), "utf8");
  return { got, joined, timedOut, read: text.startsWith("// skein loaded") };
});
check(mixed.got === 3, "channels and all across formats");
check(mixed.joined === "joined", "a task started by require is joined by an import task, with its value");
check(mixed.timedOut, "instanceof TimeoutError across formats");
check(mixed.read, "skein/node's readFile from require in an import task");

const actor = C.run(function* () { return yield* E.receive(); });
check(E.tell(actor, "hi") === true, "tell() accepts a task started by require");
check((await actor) === "hi", "and the message arrives");
const victim = E.run(function* () { yield* C.sleep(1000); });
await victim.cancel();
const why = await victim.then(() => null, (e) => e);
check(C.isCancelled(why) && E.isCancelled(why), "isCancelled across formats");

// Another copy, another version.
check(O.Task !== E.Task, "skein-other is a second copy");
async function failure(what, body) {
  const started = Date.now();
  const error = await E.run(body).then(() => null, (e) => e);
  check(Date.now() - started < 5000, `${what}: fails at once`);
  check(error instanceof TypeError, `${what}: fails with a TypeError (got ${error})`);
  check(/of another copy of skein \(0\.0\.0-other; this one is \d+\.\d+\.\d+/.test(error.message), `${what}: the TypeError names the cause (${error.message})`);
  return error;
}
await failure("yield* another copy's sleep", function* () { yield* O.sleep(5); });
await failure("another copy's all", function* () { yield* O.all([O.sleep(1)]); });
await failure("another copy's channel", function* () { yield* O.channel().receive(); });
const otherTask = O.run(function* () { return 42; });
await otherTask;
await failure("joining another copy's task", function* () { return yield* otherTask; });
await failure("yield another copy's task", function* () { return yield otherTask; });
await failure("tell() to another copy's task", function* () { E.tell(otherTask, "hi"); });
let otherTimeout;
await O.run(function* () {
  try {
    yield* O.timeout(1, O.sleep(1000));
  } catch (e) {
    otherTimeout = e;
  }
});
check(otherTimeout instanceof E.TimeoutError && otherTimeout instanceof C.TimeoutError, "another copy's TimeoutError is instanceof this one's");
const otherVictim = O.run(function* () { yield* O.sleep(1000); });
await otherVictim.cancel();
check(E.isCancelled(await otherVictim.then(() => null, (e) => e)), "isCancelled knows another copy's Cancelled");

console.log(`ok ${checked.length}`);
