// npm run bench:scale [-- --only cancel-channel,select] [--sizes 10000,100000] [--no-million] (--help)
// Each workload at N = 10k, 100k and 1M, each in a process of its own: the cost per item at each
// N, beside native async/await where it has an equivalent. A cost per item that grows more than
// 1.5× from one N to the next is marked ▲: every cost should be flat or falling as N grows.
import { execFile } from "node:child_process";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Operation, Task } from "../lib/index.js";
import { benchArgs } from "./args.js";
import { whyFailed } from "./failure.js";
import { skeinModule } from "./skein.js";

const LONG = 1e9;

/** Resolve after the host has had a turn. */
const turn = () => new Promise<void>((r) => setImmediate(r));

/** Start `n` children of a root, each parked by `park(i)`; resolve once all are parked, with the
 * root (cancel it to cancel them all), boxed: a task is a thenable, which a promise would await. */
async function parked(n: number, park: (i: number) => Operation<unknown>, s = real): Promise<{ root: Task }> {
  let count = 0;
  const root = s.run(function* () {
    for (let i = 0; i < n; i++) {
      yield* spawn(function* () {
        count++;
        yield* park(i);
      });
    }
    yield* sleep(Infinity);
  });
  while (count < n) await turn();
  await turn();
  return { root };
}

/** Time `work`, in ms. */
async function time(work: () => unknown): Promise<number> {
  const t0 = performance.now();
  await work();
  return performance.now() - t0;
}

/** Time the cancellation of a root whose children are parked. */
async function cancelTime({ root }: { root: Task }): Promise<number> {
  return time(() => root.cancel());
}

// ---- native equivalents -------------------------------------------------------------------

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

class PromiseChannel<T> {
  private readonly takers: Array<(v: T) => void> = [];
  private head = 0;
  receive(): Promise<T> {
    return new Promise((resolve) => this.takers.push(resolve));
  }
  send(v: T): void {
    this.takers[this.head++]!(v);
  }
}

class PromiseSemaphore {
  private readonly waiting: Array<() => void> = [];
  private head = 0;
  constructor(private free: number) {}
  acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    if (this.head < this.waiting.length) this.waiting[this.head++]!();
    else this.free++;
  }
}

// ---- the workloads ------------------------------------------------------------------------

interface Workload {
  title: string;
  skein(n: number): Promise<number>;
  native?(n: number): Promise<number>;
  /** What `native` measures, when it is not async/await (default "native"). */
  beside?: string;
}

/** The items of the map rows, made with a plain loop (`Array.from({ length: n })` cost more than most pools). */
function range(n: number): number[] {
  const a: number[] = [];
  for (let i = 0; i < n; i++) a.push(i);
  return a;
}

/** The native pool of the map rows: 100 async workers pulling the items by index. */
function nativePool(n: number, fn: (x: number) => Promise<number>): Promise<number> {
  return time(async () => {
    const items = range(n);
    const out = new Array<number>(n);
    let next = 0;
    const worker = async () => {
      while (next < n) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    };
    await Promise.all(Array.from({ length: 100 }, worker));
  });
}

const workloads: Record<string, Workload> = {
  "sleepers-equal": {
    title: "spawn and finish N sleepers, one deadline (10 ms)",
    skein: (n) =>
      time(() =>
        real.run(function* () {
          for (let i = 0; i < n; i++) yield* fork(() => sleep(10));
        }),
      ),
    native: (n) =>
      time(() => {
        const all: Promise<void>[] = [];
        for (let i = 0; i < n; i++) all.push(delay(10));
        return Promise.all(all);
      }),
  },
  "sleepers-spread": {
    title: "spawn and finish N sleepers, deadlines spread over 1-100 ms",
    skein: (n) =>
      time(() =>
        real.run(function* () {
          for (let i = 0; i < n; i++) yield* fork(() => sleep(1 + (i % 100)));
        }),
      ),
    native: (n) =>
      time(() => {
        const all: Promise<void>[] = [];
        for (let i = 0; i < n; i++) all.push(delay(1 + (i % 100)));
        return Promise.all(all);
      }),
  },
  "sleepers-distinct": {
    title: "N sleepers with distinct deadlines, virtual clock",
    skein: (n) =>
      time(() =>
        virtual.run(function* () {
          for (let i = 0; i < n; i++) yield* fork(() => sleep(i + 1));
        }),
      ),
    beside: "real clock, 1-100 ms",
    native: (n) =>
      time(() =>
        real.run(function* () {
          for (let i = 0; i < n; i++) yield* fork(() => sleep(1 + (i % 100)));
        }),
      ),
  },
  "channel-serve": {
    title: "N receivers blocked on one channel, then served",
    async skein(n) {
      const ch = channel<number>();
      let served = 0;
      const { root } = await parked(n, function* () {
        yield* ch.receive();
        served++;
      });
      // Until every receiver has its value, as native's `Promise.all` waits: the sender alone may
      // finish first (or be preempted behind the receivers it woke), by the slice's timing.
      const t = await time(async () => {
        await real.run(function* () {
          for (let i = 0; i < n; i++) yield* ch.send(i);
        });
        while (served < n) await turn();
      });
      await root.cancel();
      return t;
    },
    async native(n) {
      const ch = new PromiseChannel<number>();
      const all: Promise<number>[] = [];
      for (let i = 0; i < n; i++) all.push((async () => (await ch.receive()) + 1)());
      await turn();
      return time(async () => {
        for (let i = 0; i < n; i++) ch.send(i);
        await Promise.all(all);
      });
    },
  },
  "semaphore-serve": {
    title: "N waiters on one semaphore, served in turn",
    async skein(n) {
      const sem = semaphore(1);
      sem.tryAcquire();
      let done = 0;
      const { root } = await parked(n, function* () {
        yield* sem.acquire();
        done++;
        sem.release();
      });
      const t = await time(async () => {
        sem.release();
        while (done < n) await turn();
      });
      await root.cancel();
      return t;
    },
    async native(n) {
      const sem = new PromiseSemaphore(0);
      const all: Promise<void>[] = [];
      for (let i = 0; i < n; i++) all.push(sem.acquire().then(() => sem.release()));
      await turn();
      return time(() => {
        sem.release();
        return Promise.all(all);
      });
    },
  },
  "cancel-channel": {
    title: "cancel N tasks waiting on one channel",
    skein: async (n) => {
      const ch = channel<number>();
      return cancelTime(await parked(n, () => ch.receive()));
    },
  },
  "cancel-semaphore": {
    title: "cancel N tasks waiting on one semaphore",
    skein: async (n) => {
      const sem = semaphore(1);
      sem.tryAcquire();
      return cancelTime(await parked(n, () => sem.acquire()));
    },
  },
  "cancel-sleep": {
    title: "cancel N sleeping tasks",
    skein: async (n) => cancelTime(await parked(n, () => sleep(LONG))),
    async native(n) {
      // An AbortController per task, as each task's cancel; one shared signal with N listeners
      // is itself quadratic in Node.
      const aborts: AbortController[] = [];
      const all: Promise<void>[] = [];
      for (let i = 0; i < n; i++) {
        const abort = new AbortController();
        aborts.push(abort);
        all.push(
          new Promise<void>((resolve, reject) => {
            const timer = setTimeout(resolve, LONG);
            abort.signal.addEventListener("abort", () => (clearTimeout(timer), reject(abort.signal.reason)), { once: true });
          }).catch(() => {}),
        );
      }
      await turn();
      return time(() => {
        for (const a of aborts) a.abort();
        return Promise.all(all);
      });
    },
  },
  "timeouts-fire": {
    title: "N tasks in `timeout(5, receive)`, all fire and are caught (less the 5 ms)",
    skein: async (n) =>
      (await time(() =>
        real.run(function* () {
          const ch = channel<number>();
          for (let i = 0; i < n; i++) {
            yield* fork(function* () {
              try {
                yield* timeout(5, ch.receive());
              } catch {}
            });
          }
        }),
      )) - 5,
    beside: "`Promise.race`, a timer",
    async native(n) {
      const ch = new PromiseChannel<number>();
      const limited = async () => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const fired = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error("timed out after 5 ms")), 5)));
        try {
          await Promise.race([ch.receive(), fired]);
        } catch {
        } finally {
          clearTimeout(timer);
        }
      };
      return (
        (await time(() => {
          const all: Promise<void>[] = [];
          for (let i = 0; i < n; i++) all.push(limited());
          return Promise.all(all);
        })) - 5
      );
    },
  },
  "cancel-mailbox": {
    title: "cancel N tasks waiting in a mailbox receive",
    skein: async (n) => cancelTime(await parked(n, () => receive())),
  },
  "cancel-tree": {
    title: "cancel a tree of N tasks (fan-out 10) blocked on one channel",
    async skein(n) {
      const ch = channel<number>();
      let count = 0;
      function* node(size: number): Operation<void> {
        count++;
        // This node and its subtrees: size - 1 descendants, split among up to 10 children.
        const rest = size - 1;
        const kids = Math.min(10, rest);
        for (let k = 0; k < kids; k++) {
          const share = Math.floor(rest / kids) + (k < rest % kids ? 1 : 0);
          yield* spawn(() => node(share));
        }
        yield* ch.receive();
      }
      const root = real.run(() => node(n));
      while (count < n) await turn();
      await turn();
      return cancelTime({ root });
    },
  },
  select: {
    title: "N tasks parked in select({ job, quit }), then N jobs sent",
    async skein(n) {
      const job = channel<number>();
      const quit = channel<number>();
      let done = 0;
      const { root } = await parked(n, function* () {
        yield* select({ job: job.receive(), quit: quit.receive() });
        done++;
      });
      const t = await time(async () => {
        await real.run(function* () {
          for (let i = 0; i < n; i++) yield* job.send(i);
        });
        while (done < n) await turn();
      });
      await root.cancel();
      return t;
    },
  },
  map: {
    title: "map over N items, concurrency 100, a plain function",
    skein: (n) =>
      time(() =>
        real.run(function* () {
          const items = range(n);
          const out = yield* map(items, (x) => x + 1, { concurrency: 100 });
          if (out.length !== n) throw new Error("lost items");
        }),
      ),
    native: (n) =>
      time(async () => {
        const items = range(n);
        const out = new Array<number>(n);
        let next = 0;
        const worker = async () => {
          while (next < n) {
            const i = next++;
            out[i] = await (items[i]! + 1);
          }
        };
        await Promise.all(Array.from({ length: 100 }, worker));
      }),
  },
  "map-op": {
    title: "map over N items, concurrency 100, fn returns an operation",
    skein: (n) =>
      time(() =>
        real.run(function* () {
          const items = range(n);
          const out = yield* map(items, function* (x) { return x + 1; }, { concurrency: 100 });
          if (out.length !== n) throw new Error("lost items");
        }),
      ),
    native: (n) => nativePool(n, async (x) => x + 1),
  },
  "map-promise": {
    title: "map over N items, concurrency 100, fn returns a promise",
    skein: (n) =>
      time(() =>
        real.run(function* () {
          const items = range(n);
          const out = yield* map(items, async (x) => x + 1, { concurrency: 100 });
          if (out.length !== n) throw new Error("lost items");
        }),
      ),
    native: (n) => nativePool(n, async (x) => x + 1),
  },
  "mailbox-backlog": {
    title: "a receive waiting for one message while N others queue up, then the N read",
    async skein(n) {
      const isStop = (m: unknown) => m === "stop";
      return time(() =>
        real.run(function* () {
          const reader = yield* fork(function* () {
            yield* receive(isStop);
            let read = 0;
            for (let i = 0; i < n; i++) if ((yield* receive<number>()) >= 0) read++;
            return read;
          });
          yield* sleep(0);
          for (let i = 0; i < n; i++) tell(reader, i);
          tell(reader, "stop");
          if ((yield* reader) !== n) throw new Error("lost messages");
        }),
      );
    },
  },
};

// ---- how long a sleep lasts ------------------------------------------------------------------

/** Mean duration of `n` sleeps of `ms` in one task, and of `n` awaited setTimeouts of `ms` in one
 * async function, in blocks of 50 taking turns (so both see the same load), in ms. */
async function sleepAccuracy(ms: number, n: number): Promise<{ skein: number; native: number }> {
  let skeinTotal = 0;
  let nativeTotal = 0;
  for (let done = 0; done < n; done += 50) {
    for (let i = 0; i < 50; i++) {
      const t0 = performance.now();
      await delay(ms);
      nativeTotal += performance.now() - t0;
    }
    await real.run(function* () {
      for (let i = 0; i < 50; i++) {
        const t0 = performance.now();
        yield* sleep(ms);
        skeinTotal += performance.now() - t0;
      }
    });
  }
  return { skein: skeinTotal / n, native: nativeTotal / n };
}

// ---- the options, then the build -----------------------------------------------------------

const usage = `usage: npm run bench:scale -- [options]

Each workload at N = 10k, 100k and 1M, each measurement in a process of its own: the cost per item
at each N, beside native async/await where it has an equivalent; ▲ marks a cost per item more than
1.5× that at the previous N (with --no-million: about 6 minutes).

options:
  --only LIST      the workloads, comma-separated: ${Object.keys(workloads).join(", ")}
  --sizes LIST     the values of N, whole numbers, comma-separated (default 10000,100000,1000000)
  --no-million     leave out every N of a million or more
  --no-sleep       leave out the sleep(1) / sleep(5) accuracy row
  --timeout S      seconds a measurement may take (default 120, 300 at 1M)
  --help           this text
`;
const args = process.argv.slice(2);
const child = args[0] === "--case" || args[0] === "--sleep"; // (a measurement: this file run by the table)
// The table parses its options before it loads the build, so that --help and a bad option answer
// without one; then it loads it too, so that a missing or stale build fails once, not in every cell.
// (A timeout past 2^31 ms would overflow Node's timers and fire at once.)
const parsed = child ? undefined : benchArgs(usage, { only: Object.keys(workloads) }, ["no-million", "no-sleep"], { sizes: { list: true, whole: true, max: 1e8 }, timeout: { max: 2_000_000 } });
const sizes = (parsed?.numbers.sizes ?? [10_000, 100_000, 1_000_000]).filter((n) => !(parsed?.flags["no-million"] && n >= 1e6));
if (!child && sizes.length === 0) {
  process.stderr.write(`--no-million leaves no size of --sizes ${parsed!.numbers.sizes!.join(",")} to measure\n`);
  process.exit(2);
}
const { channel, createScheduler, fork, map, receive, select, semaphore, sleep, spawn, tell, timeout } = await skeinModule();
const real = createScheduler();
const virtual = createScheduler({ clock: "virtual" });

// ---- one measurement in this process --------------------------------------------------------

if (args[0] === "--sleep") {
  const out: Record<string, { skein: number; native: number }> = {};
  for (const ms of [1, 5]) out[ms] = await sleepAccuracy(ms, 400);
  process.stdout.write(`${JSON.stringify(out)}\n`);
  process.exit(0);
}
if (args[0] === "--case") {
  const [, which, side, size] = args;
  const w = workloads[which!]!;
  const n = Number(size);
  const fn = side === "native" ? w.native! : w.skein;
  const reps = n >= 1_000_000 ? 1 : 3;
  let best = Infinity;
  for (let r = 0; r < reps; r++) best = Math.min(best, await fn(n));
  process.stdout.write(`${JSON.stringify({ perItemNs: (best * 1e6) / n })}\n`);
  process.exit(0);
}

// ---- the table ----------------------------------------------------------------------------

const options = parsed!; // (the table's: a measurement has exited above)
const run = promisify(execFile);
const self = fileURLToPath(import.meta.url);
const only = options.lists.only ?? Object.keys(workloads);
// Seconds a measurement may take: 120, or 300 at 1M (parking a million tasks alone takes tens of
// seconds on a loaded machine), unless --timeout says.
const limitFor = (n: number) => Math.ceil((options.numbers.timeout?.[0] ?? (n >= 1e6 ? 300 : 120)) * 1000);

async function measure(which: string, side: string, n: number): Promise<number | string> {
  try {
    const { stdout } = await run(process.execPath, ["--max-old-space-size=8192", "--stack-size=4000", "--import", "tsx", self, "--case", which, side, String(n)], {
      timeout: limitFor(n),
      maxBuffer: 1 << 20,
    });
    return (JSON.parse(stdout.trim().split("\n").pop()!) as { perItemNs: number }).perItemNs;
  } catch (e) {
    return (e as { killed?: boolean }).killed ? `> ${limitFor(n) / 1000} s` : `failed: ${whyFailed(e)}`;
  }
}

const fmt = (ns: number) => (ns >= 1e6 ? `${(ns / 1e6).toFixed(1)} ms` : ns >= 1e4 ? `${(ns / 1e3).toFixed(0)} µs` : ns >= 1e3 ? `${(ns / 1e3).toFixed(2)} µs` : `${ns.toFixed(0)} ns`);
const k = (n: number) => (n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`);

console.log(`skein bench:scale — node ${process.version}, ${cpus()[0]?.model ?? "cpu"} ×${cpus().length}, ${new Date().toISOString().slice(0, 10)}`);
console.log("Cost per item (best of 3 runs; 1 at 1M), each measurement in its own process; native beside it where");
console.log("async/await has an equivalent. ▲ marks a cost per item more than 1.5× that at the previous N.\n");
const header = ["workload", ...sizes.map((n) => `N = ${k(n)}`)];
console.log(`| ${header.join(" | ")} |`);
console.log(`|---|${sizes.map(() => "---:").join("|")}|`);
let marked = 0;
for (const which of only) {
  const w = workloads[which]!;
  const cells: string[] = [];
  let previous: number | undefined;
  for (const n of sizes) {
    const v = await measure(which, "skein", n);
    const nat = w.native === undefined ? undefined : await measure(which, "native", n);
    let cell = typeof v === "number" ? fmt(v) : v;
    if (previous !== undefined && (typeof v !== "number" || v > 1.5 * previous)) {
      cell += " ▲";
      marked++;
    }
    if (nat !== undefined) cell += ` (${w.beside ?? "native"} ${typeof nat === "number" ? fmt(nat) : nat})`;
    cells.push(cell);
    previous = typeof v === "number" ? v : undefined;
    process.stderr.write(".");
  }
  console.log(`| ${w.title} | ${cells.join(" | ")} |`);
}
process.stderr.write("\n");
if (!options.flags["no-sleep"]) {
  const { stdout } = await run(process.execPath, ["--import", "tsx", self, "--sleep"]);
  const r = JSON.parse(stdout.trim().split("\n").pop()!) as Record<string, { skein: number; native: number }>;
  const cell = (ms: string) => `${r[ms]!.skein.toFixed(2)} ms (setTimeout ${r[ms]!.native.toFixed(2)} ms)`;
  console.log(`| sleep(1) / sleep(5) lasts, mean of 400 | ${cell("1")} | ${cell("5")} |${sizes.length > 2 ? " |".repeat(sizes.length - 2) : ""}`);
}
console.log(marked === 0 ? "\nNo cost per item grows more than 1.5× from one N to the next." : `\n${marked} cost(s) per item grow more than 1.5× from one N to the next (▲).`);
