import { until, LONG, type Peer } from "./peer.js";

const one = Promise.resolve(1);

async function trips(n: number): Promise<number> {
  let count = 0;
  for (let i = 0; i < n; i++) count += await one;
  return count;
}

async function nest(depth: number, n: number): Promise<number> {
  return depth <= 1 ? trips(n) : await nest(depth - 1, n);
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const native: Peer = {
  effect: "await p",
  nesting: "await sub()",
  roundTrip: trips,
  depth: nest,
  async sleepers(n, ms) {
    let done = 0;
    async function sleeper() {
      await delay(ms);
      done++;
    }
    const all: Promise<void>[] = [];
    for (let i = 0; i < n; i++) all.push(sleeper());
    await Promise.all(all);
    return done;
  },
  parked(n) {
    let started = 0;
    async function sleeper() {
      started++;
      await delay(LONG);
    }
    for (let i = 0; i < n; i++) void sleeper();
    return until(() => started, n);
  },
};
