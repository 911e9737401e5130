// What every library in the bench implements, doing the same work so the numbers compare.
// Each method returns a count that the harness checks, so no library can skip the work.

export interface Peer {
  /** `n` synchronous effect round trips (yield → handler → resume) in one coroutine. */
  roundTrip(n: number): Promise<number>;
  /** `n` such round trips in a coroutine nested `depth` sub-operations deep. */
  depth(depth: number, n: number): Promise<number>;
  /** Start `n` coroutines that each sleep `ms`, and wait until all have finished. */
  sleepers(n: number, ms: number): Promise<number>;
  /** Start `n` coroutines that sleep for a long time; resolve once every one is suspended. */
  parked(n: number): Promise<number>;
  /** The same, each coroutine's function written inside the loop that starts it, so made anew for
   * each (as a handler written where a connection is accepted is). */
  parkedFresh?(n: number): Promise<number>;
  /** `n` calls of a synchronous function (`() => 1`) through the library's call effect, each
   * result used (`await fn()` for native async/await). */
  callSync?(n: number): Promise<number>;
  /** `n` round trips of a value between two coroutines over unbuffered channels. */
  pingPong?(n: number): Promise<number>;
  /** `n` values each sent into a buffered channel (room for 1,000) and received back by the same
   * coroutine, which never has to wait; resolves with how many it received. */
  buffered?(n: number): Promise<number>;
  /** `messages` values through one buffered channel to `consumers` coroutines and back;
   * resolves with how many came back, and reports the peak heap seen meanwhile. */
  fanOut?(messages: number, consumers: number, peak: () => void): Promise<number>;
  /** `n` messages told to one task that receives them all. */
  tells?(n: number): Promise<number>;
  /** `n` selective receives, each finding its message behind `backlog` that never match. */
  selective?(n: number, backlog: number): Promise<number>;
  /** `n` times, two sub-operations run concurrently, each returning at once, both results
   * collected (`Promise.all`, `all`): resolves with how many gave the right pair. */
  allOfTwo?(n: number): Promise<number>;
  /** `n` races of a sub-operation that returns at once against a long sleep, which is then
   * stopped (`Promise.race` and `clearTimeout`, `race`): resolves with how many it won. */
  raceSleep?(n: number): Promise<number>;
  /** How nesting is written with this library, for the table. */
  nesting: string;
  /** What one round trip is with this library, for the table. */
  effect: string;
}

/** Resolve once `count()` reaches `n`, checking after each host turn. */
export function until(count: () => number, n: number): Promise<number> {
  return new Promise((resolve) => {
    const check = () => (count() >= n ? resolve(count()) : setImmediate(check));
    check();
  });
}

/** A delay that lasts longer than any bench run, but within host timer limits. */
export const LONG = 1_000_000_000;

/** The synchronous function every peer's `callSync` calls. */
export const oneFn = () => 1;
