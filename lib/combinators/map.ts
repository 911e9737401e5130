// map(): apply an operation to every item of a list or async iterable, at most n at a time, by a
// pool of n worker tasks that pull the items; results in input order. The first failure cancels
// the rest (the workers are forks of one call), unless every outcome is asked for (`settle`).

import { current, type Operation } from "../core/effect.js";
import { Call, call, cooperate, ensure, fork, join, self, Wait, wait } from "../core/effects.js";
import { isCancelled } from "../core/errors.js";
import { describe, type Returned } from "../core/operation.js";
import { isGenerator, refused } from "../core/scheduler.js";
import { noteSite } from "../core/stacks.js";
import { type Frame, helper, isHalted, type Task } from "../core/task.js";
import { settled, type Settled } from "./all.js";

/**
 * Options of {@link map}.
 *
 * @example
 * ```ts
 * const pages = yield* map(urls, get, { concurrency: 10 });
 * const outcomes = yield* map(urls, get, { concurrency: 10, settle: true });
 * ```
 */
export interface MapOptions {
  /** How many items are processed at once, at most (default: all of them). */
  concurrency?: number;
  /** Collect every outcome, `{ status: "fulfilled", value }` or `{ status: "rejected", reason }`,
   * instead of failing at the first error (default false). */
  settle?: boolean;
}

/**
 * Apply `fn` to every item, with at most `concurrency` applications in flight, and return the
 * results in input order. `items` may be any iterable or async iterable: items are pulled only
 * as capacity frees, so a stream of work is never read ahead, and an async source is ended
 * (`return()`) if map stops early. The first failure cancels every application still running,
 * waits for their cleanup, and is thrown; with `settle: true` every application runs and map
 * returns each outcome instead, as `Promise.allSettled` does. `fn` may return an operation, a
 * promise or a value.
 *
 * @throws TypeError/RangeError at the call for bad arguments.
 * @example
 * ```ts
 * function* crawl(urls: string[]) {
 *   const pages = yield* map(urls, (url) => timeout(5000, get(url)), { concurrency: 10 });
 *   const checks = yield* map(urls, (url) => get(url), { concurrency: 10, settle: true });
 *   const broken = urls.filter((_, i) => checks[i]!.status === "rejected");
 * }
 * ```
 */
export function map<T, R>(
  items: Iterable<T> | AsyncIterable<T>,
  fn: (item: T, index: number) => R,
  options: MapOptions & { settle: true },
): Operation<Settled<Returned<R>>[]>;
export function map<T, R>(
  items: Iterable<T> | AsyncIterable<T>,
  fn: (item: T, index: number) => R,
  options?: MapOptions & { settle?: false },
): Operation<Returned<R>[]>;
export function map<T, R>(
  items: Iterable<T> | AsyncIterable<T>,
  fn: (item: T, index: number) => R,
  options: MapOptions,
): Operation<Returned<R>[] | Settled<Returned<R>>[]>;
export function map<T, R>(items: Iterable<T> | AsyncIterable<T>, fn: (item: T, index: number) => R, options: MapOptions = {}): Operation<unknown[]> {
  const concurrency = options.concurrency ?? Infinity;
  if (!(concurrency >= 1) || (concurrency !== Infinity && !Number.isInteger(concurrency))) {
    throw new RangeError(`map() expects concurrency to be a whole number >= 1 (or Infinity), got ${describe(concurrency)}`);
  }
  if (typeof fn !== "function") throw new TypeError(`map() expects a function to apply, got ${describe(fn)}`);
  const asynchronous = typeof (items as AsyncIterable<T> | null)?.[Symbol.asyncIterator] === "function";
  if (!asynchronous && typeof (items as Iterable<T> | null)?.[Symbol.iterator] !== "function") {
    throw new TypeError(`map() expects an iterable or async iterable of items, got ${describe(items)}`);
  }
  const settle = options.settle === true;
  const generatorFn = Object.getPrototypeOf(fn) === GeneratorFunction; // then every v is a generator
  return call(bodies.map, { items, fn: fn as (item: unknown, index: number) => unknown, concurrency, settle, asynchronous, generatorFn });
}

/** What one `map(…)` was given. */
interface MapSpec {
  items: Iterable<unknown> | AsyncIterable<unknown>;
  fn: (item: unknown, index: number) => unknown;
  concurrency: number;
  settle: boolean;
  asynchronous: boolean;
  /** fn is a generator function: then every value it returns is a generator. */
  generatorFn: boolean;
}

/** The body of map: made once, not per call (see architecture.md, "Performance notes"). A method,
 * to be named "map". */
const bodies = {
  *map(spec: MapSpec): Operation<unknown[]> {
    const { items, concurrency, settle } = spec;
    const source = new Source(items, spec.asynchronous);
    yield* ensure(() => endSource(source)); // a function, as cleanups are named in stack traces

    const me = yield* self();
    // map's own scope (me.top): cancelled, it stops; an item cancelled alone is an outcome.
    const run = new MapRun(spec, source, me.top);
    const tasks: Task[] = [];
    if (concurrency === Infinity) {
      // No limit: a task per item, started as the items come.
      for (let next = yield* source.next(); next !== DONE; next = yield* source.next()) {
        tasks.push(helper(yield* fork(run.apply(next.item, next.index), { name: `map[${next.index}]` })));
      }
    } else {
      const n = Array.isArray(items) ? Math.min(concurrency, items.length) : concurrency;
      for (let w = 1; w <= n; w++) {
        tasks.push(helper(yield* fork(worker(run, run.fn), { name: `map worker ${w}` })));
      }
    }
    // Joined here, in the body: cancelled meanwhile, map throws instead of returning an array
    // the workers never finished (a body's returned value would stand).
    for (const t of tasks) yield* (settle ? settled(t, run.frame) : join(t));
    const results = run.results;
    if (results.length > source.taken) results.length = source.taken; // an array that shrank meanwhile
    return results;
  },
};

/** The list of results, as long as an array of items already: one grown an item at a time is
 * copied as it grows (`map` over a plain function +24 % an item, callgrind). */
function preallocated(items: Iterable<unknown> | AsyncIterable<unknown>): unknown[] {
  const n = Array.isArray(items) ? (items as unknown[]).length : 0;
  return n > 0 && Number.isSafeInteger(n) && n <= 1 << 26 ? new Array(n) : [];
}

/** map's cleanup: end the source (an async iterator is returned), reporting what that throws. */
function* endSource(source: Source<unknown>): Operation<void> {
  const me = yield* self();
  yield* source.end((e) => me.sched.report(e, me, "ending the source of map() failed"));
}

/** One run of a map: what its workers share, and their bodies (methods: made once, see `bodies`). */
class MapRun {
  readonly results: unknown[];
  readonly fn: (item: unknown, index: number) => unknown;
  readonly settle: boolean;
  readonly asynchronous: boolean;
  readonly generatorFn: boolean;
  constructor(
    spec: MapSpec,
    readonly source: Source<unknown>,
    /** map's own scope: cancelled, it stops; an item cancelled alone is an outcome. */
    readonly frame: Frame,
  ) {
    this.results = preallocated(spec.items);
    this.fn = spec.fn;
    this.settle = spec.settle;
    this.asynchronous = spec.asynchronous;
    this.generatorFn = spec.generatorFn;
  }

  *apply(item: unknown, i: number): Operation<void> {
    const { results, fn } = this;
    if (!this.settle) {
      results[i] = yield* call(fn as (item: unknown, index: number) => Operation<unknown>, item, i);
      return;
    }
    try {
      results[i] = { status: "fulfilled", value: yield* call(fn as (item: unknown, index: number) => Operation<unknown>, item, i) };
    } catch (e) {
      if (isCancelled(e) && isHalted(this.frame)) throw e; // map itself is stopped
      results[i] = { status: "rejected", reason: e };
    }
  }
}

/** A worker of a map with a limit: pulls items until there are none. (`fn` is a parameter, not
 * read from `run` into a local: V8 did not inline a call of a local a generator kept across its
 * yields, ~65 instructions an item; a parameter's, it did.) */
function* worker(run: MapRun, fn: (item: unknown, index: number) => unknown): Operation<void> {
  if (!run.asynchronous && !run.settle) {
    // The usual case, kept lean: no generator, call or record per item. fn is called right
    // here, as call(fn) would call it; only what it returns that is not a plain value (an
    // operation, a promise) needs a trip through the scheduler, as a call of its own.
    let plain = 0;
    let skip = 0; // items whose first step is not taken here (see below)
    const w = current.task as Task; // this worker (no yield: its start stays the same for all)
    for (let item = run.source.pull(); item !== DONE; item = run.source.pull()) {
      const i = run.source.taken - 1;
      const v: unknown = fn(item, i);
      if ((typeof v === "object" && v !== null) || typeof v === "function") {
        const gen = run.generatorFn || (typeof (v as PromiseLike<unknown>).then !== "function" && isGenerator(v));
        if (gen && skip === 0 && w.sched.quick(w)) {
          // A generator's first step runs right here, as the step loop would run it (it counts
          // against the time slice as an effect does; a cancelled worker takes the way below).
          // Finished without yielding, it needed no scope: nothing can fork or wait but by
          // yielding. Otherwise it runs on as a call of its own from what it yielded (or threw).
          let r: IteratorResult<unknown>;
          try {
            r = genNext.call(v as Generator);
          } catch (e) {
            if (!refused(v as Generator, e)) {
              run.results[i] = yield started(new Started(v as Generator, null, e, true));
              continue;
            }
            // Not a generator after all, but made on one's prototype: a call steps it through its own next.
            const effect = new Call(v, undefined);
            noteSite(effect);
            run.results[i] = yield effect;
            continue;
          }
          if (r.done !== true) {
            // Items that wait pay a little for the step taken here (an iterator around the
            // generator for every later step): the next 63 of this worker go the plain way.
            skip = 63;
            run.results[i] = yield started(new Started(v as Generator, r, undefined, false));
            continue;
          }
          run.results[i] = r.value;
        } else {
          if (skip > 0) skip--;
          // Yielded as the effect itself, made here (no closure, no arguments array): a promise
          // is waited for, anything else run as a call (a scope of its own).
          const effect = !gen && typeof (v as PromiseLike<unknown>).then === "function" && typeof (v as Operation<unknown>)[Symbol.iterator] !== "function" ? new Wait(v as PromiseLike<unknown>) : new Call(v, undefined);
          noteSite(effect); // debug mode: where it was made, as call() notes it
          run.results[i] = yield effect;
          continue;
        }
      } else {
        run.results[i] = v;
      }
      // A long run of items done at once (plain values, generators that did not wait) lets
      // the others (and the host) have their turn now and then.
      // The first turn is taken after the first item: by the time the worker's loop is compiled
      // to fast code, its way back from a turn has been seen (first seen later, it throws the
      // worker back to slow code for good). A plain yield of a shared effect: a yield* here
      // would read result objects of two shapes at one spot.
      if ((plain++ & 1023) === 0) yield TURN;
    }
    return;
  }
  for (let next = yield* run.source.next(); next !== DONE; next = yield* run.source.next()) {
    if (!run.settle) {
      yield* run.apply(next.item, next.index);
      continue;
    }
    // Settling, each item runs in a task of its own: one that cancels its task is one outcome.
    const { item, index } = next;
    const t = helper(yield* fork(run.apply(item, index), { name: `map[${index}]` }));
    yield* settled(t, run.frame);
  }
}

const DONE: unique symbol = Symbol("skein.map.done");
/** A worker's turn to let the others run (a shared effect: it keeps no state). */
const TURN = cooperate();

const GeneratorFunction = Object.getPrototypeOf(function* () {}) as object;
const genNext = (Object.getPrototypeOf(function* () {}.prototype) as Generator).next;

/** An item's generator whose first step ran in its worker and did not end it: the rest of it, a
 * call of its own (so a scope, as call() makes one), which starts with what that step yielded or
 * threw. Stack traces name it as the generator it runs. */
class Started implements Iterator<unknown> {
  constructor(
    private readonly gen: Generator,
    /** What the first step yielded; null once handed on, or if it threw. */
    private first: IteratorResult<unknown> | null,
    /** What the first step threw, if it did (`threw`). */
    private error: unknown,
    private threw: boolean,
  ) {}
  next(input?: unknown): IteratorResult<unknown> {
    const r = this.first;
    if (r !== null) {
      this.first = null;
      return r;
    }
    if (this.threw) {
      const e = this.error;
      this.threw = false;
      this.error = undefined;
      throw e;
    }
    return this.gen.next(input);
  }
  throw(e: unknown): IteratorResult<unknown> {
    this.first = null;
    this.threw = false;
    return this.gen.throw(e);
  }
  return(value?: unknown): IteratorResult<unknown> {
    this.first = null;
    this.threw = false;
    return this.gen.return(value);
  }
  toString(): string {
    return String(this.gen);
  }
}

const arrayValues = Array.prototype[Symbol.iterator];
const ArrayIteratorPrototype = Object.getPrototypeOf([][Symbol.iterator]()) as { next: unknown };
const arrayNext = ArrayIteratorPrototype.next;
/** Whether the array iterator was still the engine's when skein was loaded: one replaced before
 * (by a polyfill or instrumentation loaded first) is what for…of uses, so map uses it too. */
const builtInArrays = isBuiltIn(arrayValues, "values") && isBuiltIn(arrayNext, "next");

function isBuiltIn(f: unknown, name: string): boolean {
  return typeof f === "function" && new RegExp(`^function ${name}\\(\\) \\{\\s*\\[native code\\]\\s*\\}$`).test(Function.prototype.toString.call(f));
}

/** An array iterated by the built-in iterator, which no one has replaced: reading it by index is
 * what iterating it does. */
function isPlainArray<T>(items: Iterable<T> | AsyncIterable<T>): items is T[] {
  return builtInArrays && Array.isArray(items) && (items as T[])[Symbol.iterator] === arrayValues && ArrayIteratorPrototype.next === arrayNext;
}

/** The call that runs the rest of a started item. */
function started(rest: Started): Call<unknown> {
  const effect = new Call(rest, undefined);
  // Begun: performed even if the item's first step cancelled its worker (its finally blocks are
  // open; what it threw is its outcome), as the loop performs a call whose function ran already.
  effect.kept = rest;
  noteSite(effect); // debug mode: where it was made, as call() notes it
  return effect;
}

/** The items, pulled one at a time by whichever worker is free; an async source's pulls are
 * chained, so each item gets its index in order. */
class Source<T> {
  /** The source's iterator; null for a plain array, whose items are read by index. */
  private readonly it: Iterator<T> | AsyncIterator<T> | null;
  /** A plain array, read as its own iterator reads it (the length looked at each time, then the
   * item at the index), without the iterator: its next() is a call into V8 and a result object
   * an item (callgrind, 10000 vs 100000 items: map 396 -> 279 an item, map-op 752 -> 673,
   * map-promise 2,036 -> 1,890). */
  private readonly array: ArrayLike<T> | null;
  private index = 0;
  private ended = false;
  private pulling: Promise<unknown> = Promise.resolve();
  private pending = 0;

  constructor(
    items: Iterable<T> | AsyncIterable<T>,
    private readonly asynchronous: boolean,
  ) {
    this.array = !asynchronous && isPlainArray(items) ? items : null;
    this.it = this.array !== null ? null : asynchronous ? (items as AsyncIterable<T>)[Symbol.asyncIterator]() : (items as Iterable<T>)[Symbol.iterator]();
  }

  /** How many items have been taken. */
  get taken(): number {
    return this.index;
  }

  /** The next item of a synchronous source, or DONE; its index is `taken - 1`. */
  pull(): T | typeof DONE {
    if (this.ended) return DONE;
    const a = this.array;
    if (a !== null) {
      // The iterator's test, index < ToLength(length), for a proxy of an array too (whose length
      // may be anything: undefined or NaN ends it, 1.5 is 1, a BigInt throws).
      if (!(this.index + 1 <= +a.length)) {
        this.ended = true;
        return DONE;
      }
      return a[this.index++] as T; // a hole is undefined (or what the prototype holds), as for…of reads it
    }
    const r = (this.it as Iterator<T>).next();
    if (r.done === true) {
      this.ended = true;
      return DONE;
    }
    this.index++;
    return r.value;
  }

  *next(): Operation<{ item: T; index: number } | typeof DONE> {
    if (this.ended) return DONE;
    if (!this.asynchronous) {
      const item = this.pull();
      return item === DONE ? DONE : { item, index: this.index - 1 };
    }
    const it = this.it as AsyncIterator<T>;
    const pull = this.pulling.then(() => (this.ended ? ({ done: true } as IteratorResult<T>) : it.next())).then((r) => this.take(r));
    this.pending++; // until the source answers, even if the worker stops waiting
    this.pulling = pull.then(
      () => void this.pending--,
      () => void this.pending--,
    );
    return yield* wait(pull);
  }

  private take(r: IteratorResult<T>): { item: T; index: number } | typeof DONE {
    if (r.done === true) {
      this.ended = true;
      return DONE;
    }
    return { item: r.value, index: this.index++ };
  }

  /** Stopped early: end the source (its return(), as for…of calls it). With a pull still pending an async generator would queue
   * the return() behind it, maybe for ever: then it is asked for without waiting, and a failure
   * of it is reported. */
  *end(report: (error: unknown) => void): Operation<void> {
    if (this.ended) return;
    this.ended = true;
    const it = this.it;
    if (it === null || typeof it.return !== "function") return; // (an array's iterator has no return())
    if (!this.asynchronous) {
      try {
        it.return(); // a generator's finally blocks run, as a for…of stopped early runs them
      } catch (e) {
        report(e);
      }
      return;
    }
    const ending = Promise.resolve(it.return());
    if (this.pending > 0) ending.catch(report);
    else yield* wait(ending);
  }
}
