// Runs one bench case for one library in this process and prints one JSON line with the result.
// Usage: node --expose-gc --import tsx bench/case.ts <case> <peer>
import { coPeer } from "./peers/co.js";
import { effect } from "./peers/effect.js";
import { effection } from "./peers/effection.js";
import { jsCsp } from "./peers/js-csp.js";
import { native } from "./peers/native.js";
import type { Peer } from "./peers/peer.js";
import { reduxSaga } from "./peers/redux-saga.js";
import { skein, skeinYieldStar } from "./peers/skein.js";

export const peers: Record<string, Peer> = {
  native, skein, "skein (yield*)": skeinYieldStar, co: coPeer, "redux-saga": reduxSaga, effection, Effect: effect, "js-csp": jsCsp,
};

/** Round trips per measurement: enough for ~0.2 s with each library's speed. */
const trips: Record<string, number> = { "js-csp": 100_000, co: 500_000, "redux-saga": 500_000 };

const unsupported: CaseResult = { value: NaN, unit: "", checked: "not offered by this library" };

export interface CaseResult {
  value: number;
  unit: string;
  checked: string;
  /** For a case measured in several variants at once (resume depths): one value per row. */
  rows?: Record<string, number>;
}

const gc = (globalThis as { gc?: () => void }).gc;
function collect(): number {
  if (!gc) throw new Error("run with --expose-gc");
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** One timed run of `work`, its count checked. */
async function once(work: () => Promise<number>, expect: number): Promise<number> {
  const t0 = performance.now();
  const got = await work();
  const t = performance.now() - t0;
  if (got !== expect) throw new Error(`counted ${got}, expected ${expect}`);
  return t;
}

/** The best of `reps` runs (on a shared machine noise only ever adds time), in ns per op. */
async function timed(reps: number, work: () => Promise<number>, expect: number, per: number): Promise<CaseResult> {
  let best = Infinity;
  for (let r = 0; r < reps; r++) best = Math.min(best, await once(work, expect));
  return { value: (best * 1e6) / per, unit: "ns/op", checked: `${expect} counted` };
}

export const cases: Record<string, (p: Peer, name: string) => Promise<CaseResult>> = {
  async roundtrip(p, name) {
    const n = trips[name] ?? 3_000_000;
    await p.roundTrip(n / 10);
    return timed(7, () => p.roundTrip(n), n, n);
  },
  async depth(p, name) {
    // All depths in one process, interleaved, so they are compared with the same code hot.
    const n = (trips[name] ?? 3_000_000) / 2;
    const depths = [1, 10, 100];
    for (const d of depths) await p.depth(d, n / 10);
    const best: Record<string, number> = {};
    for (let r = 0; r < 7; r++) {
      for (const d of depths) best[d] = Math.min(best[d] ?? Infinity, await once(() => p.depth(d, n), n));
    }
    const rows = Object.fromEntries(depths.map((d) => [`depth-${d}`, (best[d]! * 1e6) / n]));
    return { value: rows["depth-1"]!, unit: "ns/op", checked: `${n} counted at each depth`, rows };
  },
  async sleepers(p) {
    await p.sleepers(10_000, 1);
    const r = await timed(5, () => p.sleepers(100_000, 10), 100_000, 1);
    return { ...r, value: r.value / 1e6, unit: "ms" }; // the whole batch
  },
  async call(p, name) {
    if (!p.callSync) return unsupported;
    // (effection's call makes an iterable object each time, ~450 ns: at 3,000,000 its process
    // alone took 12 s.)
    const n = name === "effection" ? 300_000 : trips[name] ?? 3_000_000;
    await p.callSync(n / 10);
    return timed(7, () => p.callSync!(n), n, n);
  },
  async pingpong(p, name) {
    if (!p.pingPong) return unsupported;
    const n = name === "js-csp" ? 50_000 : name === "effection" || name === "redux-saga" ? 200_000 : 1_000_000;
    await p.pingPong(n / 10);
    return timed(7, () => p.pingPong!(n), n, n);
  },
  async buffered(p) {
    if (!p.buffered) return unsupported;
    const n = 2_000_000;
    await p.buffered(n / 10);
    return timed(7, () => p.buffered!(n), n, n);
  },
  async all(p, name) {
    if (!p.allOfTwo) return unsupported;
    const n = name === "redux-saga" || name === "effection" || name === "Effect" || name === "co" ? 50_000 : 200_000;
    await p.allOfTwo(n / 10);
    return timed(7, () => p.allOfTwo!(n), n, n);
  },
  async race(p, name) {
    if (!p.raceSleep) return unsupported;
    const n = name === "redux-saga" || name === "effection" || name === "Effect" ? 50_000 : 200_000;
    await p.raceSleep(n / 10);
    return timed(7, () => p.raceSleep!(n), n, n);
  },
  async fanout(p) {
    if (!p.fanOut) return unsupported;
    const messages = 1_000_000;
    const base = collect();
    let peak = 0;
    const sample = () => void (peak = Math.max(peak, process.memoryUsage().heapUsed - base));
    const t = await once(() => p.fanOut!(messages, 1000, sample), messages);
    return { value: messages / (t / 1000), unit: "msg/s", checked: `${messages} round trips via 1000 consumers; peak heap +${(peak / 2 ** 20).toFixed(0)} MB` };
  },
  async tells(p) {
    if (!p.tells) return unsupported;
    const n = 1_000_000;
    await p.tells(n / 10);
    const r = await timed(5, () => p.tells!(n), n, n);
    return { ...r, value: 1e9 / r.value, unit: "msg/s" };
  },
  async selective(p) {
    if (!p.selective) return unsupported;
    const n = 20_000;
    await p.selective(n / 10, 1000);
    return timed(5, () => p.selective!(n, 1000), n, n);
  },
  async heap(p) {
    const before = collect();
    const n = await p.parked(100_000);
    const after = collect();
    return { value: (after - before) / n, unit: "B/coroutine", checked: `${n} suspended` };
  },
  async "heap-fresh"(p) {
    if (!p.parkedFresh) return unsupported;
    const before = collect();
    const n = await p.parkedFresh(100_000);
    const after = collect();
    return { value: (after - before) / n, unit: "B/coroutine", checked: `${n} suspended` };
  },
  async million(p) {
    const before = collect();
    const n = await p.parked(1_000_000);
    const after = collect();
    return { value: (after - before) / 2 ** 20, unit: "MB", checked: `${n} suspended` };
  },
};

const [which, peerName] = process.argv.slice(2);
if (which !== undefined && peerName !== undefined) {
  const peer = peers[peerName];
  const run = cases[which];
  if (!peer || !run) throw new Error(`unknown case ${which} or peer ${peerName}`);
  const result = await run(peer, peerName);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0); // parked sleepers would keep the process alive
}
