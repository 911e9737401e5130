// A million coroutines at once: each is a generator, a small task record and a timer slot, so a
// million sleeping at the same time fit in a few hundred MB. Measured on the heap, and printed
// beside the documented sizes of an Erlang process, a goroutine and an OS thread (quoted
// constants, not measured: this demo runs no Erlang or Go).
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { call, fork, sleep, type Operation } from "../lib/index.js";
import type { Demo } from "./demo.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void; // a gc() for this process, to measure the heap

function heap(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/**
 * Sleep `nap` ms, again and again until all are forked and measured (`wake.measured`), then
 * count the wake-up. Always parked on one timer: a sleeping coroutine.
 */
function* sleeper(nap: number, wake: { measured: boolean; n: number }): Operation<void> {
  do yield* sleep(nap);
  while (!wake.measured);
  wake.n++;
}

export const demo: Demo = {
  summary: "1,000,000 concurrent sleeping coroutines: heap bytes each, beside the documented sizes of an Erlang process and a goroutine",
  *main({ quick, log }) {
    const count = quick ? 100_000 : 1_000_000;
    const nap = quick ? 1000 : 2000;
    const woke = { measured: false, n: 0 };
    const before = heap();
    let perCoroutine = 0;
    let spawnMs = 0;
    let asleepAtMeasure = 0;
    const t0 = performance.now();
    yield* call(function* () {
      // However long forking takes on a loaded machine, none ends before all are forked and
      // measured: one that wakes sooner sleeps again.
      for (let i = 0; i < count; i++) yield* fork(sleeper(nap, woke));
      spawnMs = performance.now() - t0;
      const during = heap();
      asleepAtMeasure = count - woke.n;
      perCoroutine = (during - before) / count;
      log(`${count.toLocaleString("en")} coroutines forked in ${spawnMs.toFixed(0)} ms; ${asleepAtMeasure.toLocaleString("en")} asleep at once when measured.`);
      log(`heap: +${((during - before) / 1e6).toFixed(0)} MB, ${perCoroutine.toFixed(0)} bytes per sleeping coroutine\n`);
      woke.measured = true;
    }); // the call returns when every fork has woken and finished
    const total = performance.now() - t0;
    log(`All ${woke.n.toLocaleString("en")} woke and finished ${total.toFixed(0)} ms after the first started.\n`);
    // Only the first row is measured here; the others are quoted from their documentation.
    const rows: [string, number, string][] = [
      ["skein coroutine", perCoroutine, "measured above: heap growth / count"],
      ["Erlang process", 327 * 8, "quoted: 327 words × 8 B when spawned (Erlang/OTP 27 Efficiency Guide, Processes)"],
      ["goroutine", 2048, "quoted: minimum stack, 2 KiB (Go 1.4 release notes; _StackMin in runtime/stack.go)"],
      ["OS thread", 8 * 1024 * 1024, "quoted: Linux default stack, ulimit -s 8192 KiB (address space reserved, not all touched)"],
    ];
    for (const [name, bytes, source] of rows) {
      const size = bytes >= 1e6 ? `${(bytes / 1024 / 1024).toFixed(0)} MiB` : `${bytes.toFixed(0)} B`;
      log(`  ${name.padEnd(16)} ${size.padStart(8)}   ${source}`);
    }
    log(`\nA sleeping coroutine costs less than an Erlang process or a goroutine's first stack (those two`);
    log(`are their documented sizes, not measured on this machine), and a million of them sleep in one`);
    log(`Node process.`);
    return { count, perCoroutine, woke: woke.n, spawnMs, asleepAtMeasure };
  },
};
