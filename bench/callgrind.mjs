// Workloads for instruction counts: node bench/callgrind.mjs <workload> <n>, on the built dist/.
// bench/callgrind.sh runs one under callgrind at two sizes and prints instructions per item;
// bench/callgrind-profile.mjs says which functions they are spent in.
import { call, channel, createScheduler, map, receive, self, sleep, spawn } from "../dist/index.mjs";
const [which, nArg] = process.argv.slice(2);
const n = Number(nArg);
const s = createScheduler();
const turn = () => new Promise((r) => setImmediate(r));
const inc = (x) => x + 1;
const w = {
  async self() {
    await s.run(function* () { let c = 0; for (let i = 0; i < n; i++) if ((yield* self()).id > 0) c++; return c; });
  },
  async call() {
    await s.run(function* () { let c = 0; for (let i = 0; i < n; i++) c = yield* call(inc, c); return c; });
  },
  async pingpong() {
    await s.run(function* () {
      const ping = channel(), pong = channel();
      yield* spawn(function* () { let v; while ((v = yield* ping.receive()) !== undefined) yield* pong.send(v + 1); });
      let x = 0;
      for (let i = 0; i < n; i++) { yield* ping.send(x); x = yield* pong.receive(); }
      return x;
    });
  },
  async buffered() {
    await s.run(function* () {
      const ch = channel(1000);
      let x = 0;
      for (let i = 0; i < n; i++) { yield* ch.send(i); x += yield* ch.receive(); }
      return x;
    });
  },
  async map() {
    const items = Array.from({ length: n }, (_, i) => i);
    await s.run(() => map(items, inc, { concurrency: 100 }));
  },
  async park() {
    let count = 0;
    s.run(function* () {
      for (let i = 0; i < n; i++) yield* spawn(function* () { count++; yield* sleep(1e9); });
      yield* sleep(Infinity);
    });
    while (count < n) await turn();
  },
  async parkbox() {
    let count = 0;
    s.run(function* () {
      for (let i = 0; i < n; i++) yield* spawn(function* () { count++; yield* receive(); });
      yield* sleep(Infinity);
    });
    while (count < n) await turn();
  },
  async cancelbox() {
    let count = 0;
    const root = s.run(function* () {
      for (let i = 0; i < n; i++) yield* spawn(function* () { count++; yield* receive(); });
      yield* sleep(Infinity);
    });
    while (count < n) await turn();
    await root.cancel();
  },
  async cancel() {
    let count = 0;
    const root = s.run(function* () {
      for (let i = 0; i < n; i++) yield* spawn(function* () { count++; yield* sleep(1e9); });
      yield* sleep(Infinity);
    });
    while (count < n) await turn();
    await root.cancel();
  },
};
await w[which]();
process.exit(0);
