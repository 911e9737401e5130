// Erlang-style processes: tasks that share nothing and talk only through their mailboxes. First
// a ping-pong between two processes, then a ring of 10,000 processes passing a token around.
import { receive, self, spawn, tell, type Operation, type Task } from "../lib/index.js";
import type { Demo } from "./demo.js";
import { timed } from "./timeline.js";

type Ping = { ping: number; from: Task };
const isPing = (m: unknown): m is Ping => typeof m === "object" && m !== null && "ping" in m;
const isPong = (m: unknown): m is { pong: number } => typeof m === "object" && m !== null && "pong" in m;

/** Answers every ping with a pong, for ever. */
function* ponger(): Operation<never> {
  for (;;) {
    const { ping, from } = yield* receive(isPing);
    tell(from, { pong: ping });
  }
}

/** Sends `n` pings, one at a time, each waiting for its pong. */
function* pinger(partner: Task, n: number): Operation<number> {
  const me = yield* self();
  let last = 0;
  for (let i = 1; i <= n; i++) {
    tell(partner, { ping: i, from: me });
    last = (yield* receive(isPong)).pong;
  }
  return last;
}

/** A process of the ring: learns its neighbour, then forwards the token until it reaches 0. */
function* ringNode(done: Task): Operation<void> {
  const next = yield* receive((m): m is Task => typeof m === "object" && m !== null && "state" in m);
  for (;;) {
    const hops = yield* receive((m): m is number => typeof m === "number");
    if (hops === 0) return void tell(done, "around");
    tell(next, hops - 1);
  }
}

export const demo: Demo = {
  summary: "Erlang-style processes with mailboxes: a ping-pong, then a token around a ring of 10,000 processes",
  *main({ quick, log }) {
    const pings = quick ? 20_000 : 200_000;
    const size = 10_000;
    const laps = quick ? 10 : 100;

    const partner = yield* spawn(ponger);
    const [last, tPing] = yield* timed(() => pinger(partner, pings));
    yield* partner.cancel();
    log(`ping-pong: ${last} round trips (${2 * last} messages) in ${tPing.toFixed(0)} ms`);
    log(`  ${((2 * last) / tPing / 1000).toFixed(2)} million messages/s, ${((tPing * 1e6) / last).toFixed(0)} ns a round trip\n`);

    // The ring's processes belong to this scope: they end with it.
    const me = yield* self();
    const t0 = performance.now();
    const ring: Task[] = [];
    for (let i = 0; i < size; i++) ring.push(yield* spawn(ringNode(me)));
    for (let i = 0; i < size; i++) tell(ring[i]!, ring[(i + 1) % size]!); // close the ring
    const tSpawn = performance.now() - t0;
    const hops = size * laps;
    const [, tRing] = yield* timed(function* () {
      tell(ring[0]!, hops);
      yield* receive((m) => m === "around");
    });
    log(`ring: ${size.toLocaleString("en")} processes, started in ${tSpawn.toFixed(0)} ms; a token sent ${laps} times around`);
    log(`  ${hops.toLocaleString("en")} messages in ${tRing.toFixed(0)} ms: ${(hops / tRing / 1000).toFixed(2)} million messages/s`);
    log(`\nEach process is a generator and a mailbox; a message is a function call away, with no`);
    log(`event loop turn per hop. The ring ends with the scope that spawned it: all ${size.toLocaleString("en")} at once.`);
    return { pings: last, pingRate: (2 * last) / tPing, ringRate: hops / tRing, size, hops };
  },
};
