// The driver: the only part of the core that touches the host (timers, the event loop). A real
// clock arms one host timer for the whole timer heap; a virtual clock jumps time when all is idle.

/** @internal What a clock needs from its scheduler. */
export interface Ticker {
  /** Fire due timers and run ready tasks. */
  tick(): void;
  /** The same, called by a host timer (a real clock's): the host's turn follows this callback. */
  hostTick(): void;
  /** Tasks are ready or running, or a promise the scheduler waits on is in flight. */
  busy(): boolean;
  /** The earliest timer deadline, or Infinity. */
  nextDeadline(): number;
  /** Nothing can ever wake the blocked tasks: fail them with a report (`why` says why). */
  deadlock(why?: string): void;
  /** Whether a task that existed at the last call has been woken from a wait since; look again from now. */
  wokeOld(): boolean;
}

/** @internal The host-facing interface of a scheduler. */
export interface Clock {
  /** Current time in milliseconds. */
  now(): number;
  /** The time that ends the scheduler's slices, in milliseconds: real time; on a virtual clock,
   * the work done (see VirtualClock.sliceNow). `work`: the steps, effects or wakes the scheduler
   * went through since it last asked. */
  sliceNow(work: number): number;
  /** A number in [0, 1) for random choices (select): reproducible on a virtual clock. */
  random(): number;
  /** The deadline of a timer of `ms` milliseconds started now. */
  deadline(ms: number): number;
  /** Timers with a deadline at or before this are due: now, or on a real clock the deadline
   * its host timer was armed for, once that has fired (the host's word that the time is up). */
  dueBy(): number;
  /** Arrange one `tick()` at `deadline` (replacing any earlier arrangement); Infinity: none. */
  arm(deadline: number, ticker: Ticker): void;
  /** Nothing is ready to run: a virtual clock moves time forward here. */
  idle(ticker: Ticker): void;
  /** Call `fn` once the host has had a turn (handled pending timers and I/O). */
  defer(fn: () => void): void;
  /** The ticker has tasks (`true`), or has none left: a real clock watches for the host running
   * out of work while some are blocked. */
  live(ticker: Ticker, alive: boolean): void;
}

type Timer = { unref?(): void } | number;
/** @internal The host functions the clocks use. */
export interface Host {
  setTimeout(fn: () => void, ms: number): Timer;
  clearTimeout(timer: Timer): void;
  setImmediate?: (fn: () => void) => unknown;
  MessageChannel?: new () => {
    port1: { onmessage: (() => void) | null; unref?(): void };
    port2: { postMessage(v: unknown): void };
  };
}
const globalHost = globalThis as unknown as Host;

/** Longest delay host timers accept (larger ones fire at once in Node); we re-arm past it. */
const MAX_DELAY = 2 ** 31 - 1;

/** @internal How to run a function after the host has processed pending timers and I/O:
 * setImmediate in Node, a message in browsers, a zero timeout elsewhere. */
export function hostTurnOf(host: Host): (fn: () => void) => void {
  if (typeof host.setImmediate === "function") return host.setImmediate;
  if (typeof host.MessageChannel === "function") {
    const queue: Array<() => void> = [];
    const channel = new host.MessageChannel();
    channel.port1.onmessage = () => queue.shift()!();
    channel.port1.unref?.(); // hosts with unref: an idle channel must not keep the process alive
    return (fn: () => void) => {
      queue.push(fn);
      channel.port2.postMessage(0);
    };
  }
  return (fn: () => void) => host.setTimeout(fn, 0);
}

/** @internal */
export const afterHostTurn = hostTurnOf(globalHost);

const perf = (globalThis as { performance?: { now(): number } }).performance;
const monotonic: () => number = perf ? () => perf.now() : () => Date.now();

/** @internal Longest run of the loop before it lets the host handle timers and I/O, in ms. */
export const SLICE_MS = 5;
/** A virtual clock's slice, in the scheduler's units of work (see VirtualClock.sliceNow). */
const WORK_UNITS = 256;

/** @internal Wall-clock time, one host timer for the earliest deadline. */
export class RealClock implements Clock {
  private timer: Timer | undefined = undefined;
  private armedFor = Infinity;
  /** The latest deadline whose host timer has fired. */
  private reached = -Infinity;

  /** `host` is where the timer is armed: the global one, or a stand-in in a test. */
  constructor(private readonly host: Host = globalHost) {}

  now(): number {
    return monotonic();
  }

  sliceNow(_work: number): number {
    return monotonic();
  }

  random(): number {
    return Math.random();
  }

  /** `now + ms`, at least 1 ms as for setTimeout, rounded down to 1/8 ms: sleepers started
   * within the same 1/8 ms share one deadline (a burst of them costs one heap entry), and the
   * host timer armed for it (whole milliseconds, rounded up) waits as `setTimeout(ms)` would. A
   * sleep therefore lasts what `setTimeout` does: rounding up here as well (and again when
   * arming) made `sleep(5)` last 6 ms. */
  deadline(ms: number): number {
    return Math.floor((monotonic() + (ms < 1 ? 1 : ms)) * 8) / 8;
  }

  /** Now, or the deadline whose host timer has fired if that is later, but at most 7/8 ms later:
   * the host counts whole milliseconds (a timer may fire up to one early), and a timer armed for
   * the nearest one (see arm) may fire half a millisecond earlier still. With deadlines rounded
   * down to 1/8 ms, no sleep ends more than a millisecond early (1.5 ms, in a stream of sleepers,
   * before this bound). */
  dueBy(): number {
    const now = monotonic();
    const limit = now + 0.875;
    return this.reached <= now ? now : this.reached < limit ? this.reached : limit;
  }

  arm(deadline: number, ticker: Ticker): void {
    if (deadline === this.armedFor) return;
    if (this.timer !== undefined) this.host.clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = deadline;
    if (deadline === Infinity) return;
    // Host timers count whole milliseconds from the host's current one: they may fire up to a
    // millisecond before `deadline` by this clock, which then is due all the same (`dueBy`),
    // rather than being armed again for the rest (a whole millisecond more). The nearest whole
    // millisecond, not the next: a timer armed for the next sleeper of a stream (a server whose
    // handlers sleep) is a fraction of a millisecond away, and rounding that up made each sleep
    // last ~0.3 ms longer than the `setTimeout` each handler would have started (5.68 vs 5.39
    // ms beside 15k requests a second), and so the server answer fewer requests.
    const delay = Math.min(MAX_DELAY, Math.max(0, Math.round(deadline - this.now())));
    this.timer = this.host.setTimeout(() => {
      this.timer = undefined;
      this.armedFor = Infinity;
      if (delay < MAX_DELAY && deadline > this.reached) this.reached = deadline;
      ticker.hostTick();
    }, delay);
  }

  idle(): void {}

  defer(fn: () => void): void {
    afterHostTurn(fn);
  }

  live(ticker: Ticker, alive: boolean): void {
    if (alive) {
      alivePrograms.add(ticker);
      watchExit();
    } else {
      alivePrograms.delete(ticker);
    }
  }
}

/** Real-clock schedulers with tasks. */
const alivePrograms = new Set<Ticker>();
let watchingExit = false;

/** When the host is about to stop for want of anything to do (Node's `beforeExit`), tasks still
 * blocked can never be woken: each scheduler that has some fails them with a deadlock report.
 * Not at the first `beforeExit`, though: other listeners run after this one, and what they do
 * (resolve a promise a task waits on, start a timer) can still wake a task. So the first one
 * gives the host one more turn; if the host runs dry again and no task that was blocked has been
 * woken meanwhile (tasks the listeners started, a logger's flush, do not count), it is a
 * deadlock. */
function watchExit(): void {
  if (watchingExit) return;
  const proc = (globalThis as { process?: { on?(event: string, fn: () => void): void } }).process;
  if (typeof proc?.on !== "function") return; // a browser: a page never "exits"
  watchingExit = true;
  let looked = false; // the last beforeExit gave the host one more turn
  proc.on("beforeExit", () => {
    if (alivePrograms.size === 0) return;
    let woke = false;
    for (const t of alivePrograms) woke = t.wokeOld() || woke; // every one looks again from now
    if (!looked || woke) {
      looked = true;
      setTimeout(() => {}, 0); // one more host turn for the other listeners' work
      return;
    }
    looked = false;
    for (const t of [...alivePrograms]) t.deadlock("the host has nothing left to do (no timer, socket or callback can wake a task) and every task is blocked");
  });
}

/**
 * @internal Deterministic time for tests: it stands still while tasks run and jumps to the next
 * deadline once every task is blocked and the host has had a turn (so promises already settling
 * are not overtaken). With no deadline left, the blocked tasks are deadlocked.
 */
export class VirtualClock implements Clock {
  private time = 0;
  /** What `sliceNow` says: the work done so far. */
  private work = 0;
  private seed = 0x9e3779b9;
  /** Counts idle() calls; a hop acts only if no idle() came after it was scheduled. */
  private idles = 0;
  private hopFor = -1;
  private ticker: Ticker | null = null;

  now(): number {
    return this.time;
  }

  /** Not real time: on a virtual clock a slice is WORK_UNITS steps, effects or promise wakes,
   * as the scheduler counts them. A run's slices then end at the same steps however long each
   * computes, and the same program keeps its interleaving on any machine and under any load
   * (with real time, a step computing 5 ms moved a promise's wake ahead of others); a busy run
   * still gives the host a turn every WORK_UNITS of them (a busy one, for a while: 256 steps
   * of 1 ms each are a quarter of a second). */
  sliceNow(work: number): number {
    return (this.work += work * (SLICE_MS / WORK_UNITS));
  }

  deadline(ms: number): number {
    return this.time + ms;
  }

  dueBy(): number {
    return this.time;
  }

  /** mulberry32: small, fast, and the same sequence on every run. */
  random(): number {
    let x = (this.seed = (this.seed + 0x6d2b79f5) | 0);
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  }

  arm(): void {}

  idle(ticker: Ticker): void {
    this.idles++;
    if (this.hopFor < 0) this.hop(ticker);
  }

  /** Wait one host turn; act only if the scheduler stayed idle all along, else wait again. */
  private hop(ticker: Ticker): void {
    this.hopFor = this.idles;
    this.ticker = ticker;
    afterHostTurn(this.hopped); // one function for every hop: a jump per distinct deadline
  }

  private readonly hopped = (): void => {
    const ticker = this.ticker!;
    if (this.hopFor !== this.idles) return this.hop(ticker);
    this.hopFor = -1;
    if (ticker.busy()) return; // work arrived; the scheduler calls idle() again when done
    const next = ticker.nextDeadline();
    if (next === Infinity) return ticker.deadlock();
    if (next > this.time) this.time = next;
    ticker.tick();
  };

  defer(fn: () => void): void {
    afterHostTurn(fn);
  }

  live(): void {}
}
