// The Effect base class: inert data that is also a one-step iterator, so `yield* effect` types.
// Effects keep no iteration state, which lets one effect object be shared and yielded by many tasks.

import { brand, EFFECT } from "./brand.js";

/**
 * Anything a coroutine can `yield*`: a generator, an effect, a task, or any object whose
 * iterator yields effects and returns a `T`.
 *
 * @example
 * ```ts
 * function* fetchTwice(url: string): Operation<string[]> {
 *   return yield* all([get(url), get(url)]);
 * }
 * ```
 */
export interface Operation<T> {
  [Symbol.iterator](): Iterator<Yielded, T, unknown>;
}

/**
 * What the steps of an operation may be: effects, promises (a task is one), and generators of
 * such steps. Anything else (`yield 42`) does not type-check, as it fails at run time. `yield*`
 * is the typed form: a plain `yield effect` works too (for JavaScript), but the value it resumes
 * with is `unknown`, to be checked or cast.
 *
 * @example
 * ```ts
 * function* main(): Operation<void> {
 *   const n = yield* call(() => 42); // number
 *   const m = yield call(() => 42);  // unknown: plain yield is untyped
 *   // yield 42;                     // a type error: not an effect or a promise
 * }
 * ```
 */
export type Yielded = Effect<unknown> | PromiseLike<unknown> | Iterator<Yielded, unknown, unknown>;

// The module's mutable state is `var`, not `let`: V8 checks a `let` binding for its temporal dead
// zone at every read and write in optimised code (a compare and a branch), and these are read on
// every effect (callgrind, 10k vs 100k: buffered 1,106 -> 1,058, pingpong 3,612 -> 3,546).
/** True between `yield*` opening an effect's iterator and asking for its first step. A flag, not
 * the effect: storing a just-made effect in a long-lived variable costs a write barrier per
 * `yield*`; the scheduler lowers the flag after every yield and before every step. */
var opening = false;
// (It is tested as `opening !== true`: V8 knows nothing of a module variable's type, and `!opening`
// compiles to a test of every kind of falsy value; callgrind: -13 a call, -48 a ping-pong round trip.)

/**
 * @internal Debug mode: where each task was started and each effect made is captured (a stack
 * each, so it costs). On with `SKEIN_DEBUG=1` in the environment, or a scheduler made with
 * `{ debug: true }`.
 */
export const debugging = {
  sites: (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.SKEIN_DEBUG === "1",
};

/** @internal Where effects were made and tasks started, in debug mode. */
export const sites = new WeakMap<object, { stack?: string }>();

/** @internal The task whose body the scheduler is running now (null between steps), so that a
 * plain function called from a coroutine (`mutex.unlock()`) can tell which task called it. */
export const current: { task: { toString(): string } | null } = { task: null };

// A forgotten `yield*` (`sleep(20);` alone) makes an effect that nothing performs. Effects the
// public constructors make while a body runs are noted here, until the body yields them or hands
// them to skein (to `fork`, `all`, `timeout`…). What is left when its step ends is only a suspect:
// a combinator may wait first and yield it later (`withDelay(10, call(f))`). The scheduler
// reports a suspect still unused when its task returns, or when it is garbage-collected unused.
/** The effect made last and not yet used (the usual case: made, then yielded at once), in a
 * small record made afresh now and then (see `renewNotes`). A just-made effect is a young object,
 * and V8 pays a write barrier (~50 instructions) for each young object stored in an old one: a
 * module variable, or a record that has lived long, is old; a record made a moment ago is young
 * too, and storing in it costs nothing. */
var notes: { made: Effect | null; handed: Effect | null } = { made: null, handed: null };
/** Others made in the same step and not yet used. */
var alsoMade: Set<object> | null = null;

/** @internal An effect left unused at the end of the step that made it. */
export interface Suspect {
  /** Still unused: cleared when it is yielded or handed to skein, or reported. */
  live: boolean;
  /** Forget it where it is kept (its task's list, the collection watch). */
  drop(): void;
}
/** @internal Suspects by effect (several, for an effect object that is shared: `ch.receive()`);
 * `suspected` counts the live ones, so that `used` looks only when some exist. */
export const suspects = new WeakMap<object, Suspect[]>();
var suspected = 0;

/** @internal `effect` was left unused by its step: watch it until it is used or reported. */
export function suspect(effect: object, s: Suspect): void {
  const list = suspects.get(effect);
  if (list === undefined) suspects.set(effect, [s]);
  else list.push(s);
  suspected++;
}

/** @internal Stop watching a suspect (used, reported, or its task ended otherwise). */
export function clearSuspect(s: Suspect): void {
  if (s.live) {
    s.live = false;
    suspected--;
    s.drop();
  }
}

/** @internal A public constructor made `effect`: note it, if a body is running. */
export function noteMade(effect: Effect): void {
  if (current.task === null) return;
  const n = notes;
  if (n.made === null && debugging.sites !== true) n.made = effect;
  else noteAnother(n, effect);
}

/** `noteMade` when another effect is noted already, or in debug mode: out of line, so that the
 * usual case stays small enough for V8 to inline into every public constructor. */
function noteAnother(n: { made: Effect | null }, effect: Effect): void {
  if (debugging.sites) sites.set(effect, new Error()); // where, for a report
  if (n.made !== null && n.made !== effect) (alsoMade ??= new Set()).add(n.made);
  n.made = effect;
}

/** @internal Make the record `noteMade` stores in afresh, so that it is young again (a garbage
 * collection may have made it old): the step loop calls this every few dozen effects. */
export function renewNotes(): void {
  notes = { made: notes.made, handed: notes.handed };
}

/** @internal Whether `r` is the effect noted last (see `noteMade`) or the call just handed up (see
 * `handedUp`): an effect, so the step loop that was handed it needs no look at its class or its
 * `done` (false on the prototype, where it cannot be assigned). Either is used now, as `used`
 * would say (a call is marked used before it is handed up), so the loop need not call it. */
export function isNoted(r: object): boolean {
  const n = notes;
  const h = n.handed;
  if (h !== null) n.handed = null; // looked at once, whatever it is handed: nothing keeps it alive
  if (r === n.made) {
    n.made = null;
    if (suspected !== 0) clearSuspects(r);
    return true;
  }
  return r === h;
}

/** @internal `effect`'s own first step hands it up to be performed by the step loop, having marked
 * it used (a call that has begun its generator, see `Call.next`): for `isNoted`. */
export function handedUp(effect: Effect): void {
  notes.handed = effect;
}

/** @internal `op` is yielded, or handed to skein: it is used. */
export function used(op: unknown): void {
  const n = notes;
  if (op === n.made) n.made = null;
  else if (alsoMade !== null) alsoMade.delete(op as object);
  if (suspected !== 0) clearSuspects(op as object);
}

/** Stop watching `op`'s suspects, if it has any: it is used. */
function clearSuspects(op: object): void {
  const list = suspects.get(op);
  if (list !== undefined) {
    suspects.delete(op);
    for (const s of list) clearSuspect(s);
  }
}

/** @internal The effects made in the step that just ended and never used, if any (and forget them). */
export function unused(): object[] | null {
  const made = notes.made;
  if (made === null && alsoMade === null) return null;
  const left = alsoMade === null ? [] : [...alsoMade];
  if (made !== null && alsoMade?.has(made) !== true) left.push(made);
  notes.made = null;
  alsoMade = null;
  return left.length > 0 ? left : null;
}

/** @internal A step has ended: true when something made in it is not used yet. It lets go of the
 * call handed up (see `handedUp`), which only the step that made it looks for. */
export function stepLeftUnused(): boolean {
  const n = notes;
  n.handed = null; // (a call handed up and stepped by hand, or parked: not kept alive past its step)
  return n.made !== null || alsoMade !== null;
}

/**
 * The base of every effect: a description of work for the scheduler ("sleep 100 ms", "join that
 * task"). Constructing one does nothing; yielding it asks the scheduler to perform it and resume
 * you with the result. Effects are plain data, so a coroutine can be unit-tested by stepping it
 * and comparing what it yields.
 *
 * Iterating an effect yields the effect itself once and then returns whatever the next `next(v)`
 * passes in: the scheduler's result, or a stub when you step a coroutine by hand in a test. An
 * effect keeps no per-iteration state (so one object can be shared by many tasks): `yield*` opens
 * the iterator and asks for the first step at once, so "opened just now" is a single module-wide
 * mark that the first `next()` consumes. The first step's result is the effect itself (`done` is
 * false and `value` is the effect), which `yield*` passes through: yielding allocates nothing.
 * The exceptions, inside a running task only: a {@link Park} (a channel's send or receive, a
 * mailbox's receive, a lock, a semaphore, a signal, a skein/node read or write) is entered inside
 * its `yield*` (see `Park.next`): one that can complete at once completes there (a value is
 * taken, bytes are handed on), and one that must wait enlists its task there and is yielded; so
 * is a `call` of a function that returns a plain value (the function is called there); a
 * `call` whose function returns a promise, and a `wait(promise)`, begin their wait there, and
 * their first step's result is the wait's record (`done` false, `value` the effect). So a
 * coroutine stepped by hand inside a task sees only the waits, entered already (yield each on,
 * `r.value` or `r` itself; the wait is undone when the task yields something else, a promise's
 * kept for when the effect is yielded again), and the calls whose function returned an
 * operation (called already: the scheduler runs what it returned).
 * Outside a task every effect is yielded, and nothing is called or entered.
 *
 * @example
 * ```ts
 * const gen = (function* () { yield* sleep(100); })();
 * const first = gen.next().value; // the Sleep effect, not yet performed
 * console.log(String(first)); // "sleep(100)"
 * ```
 */
export abstract class Effect<T = unknown> implements Iterator<Effect<T>, T, unknown>, IteratorYieldResult<Effect<T>> {
  /** The tag that names the effect's handler; one handler per tag. */
  abstract readonly type: string;
  /** @internal A small integer for `type`, set by `tag`: the scheduler's dispatch index. */
  declare readonly code: number;
  /** Always false: an effect is also the result of its own first step. */
  declare readonly done: false;

  /** The effect itself, as the result of its own first step. */
  get value(): this {
    return this;
  }

  [Symbol.iterator](): Iterator<Effect<T>, T, unknown> {
    opening = true;
    return this;
  }

  next(value?: unknown): IteratorResult<Effect<T>, T> {
    if (opening !== true) return { done: true, value: value as T };
    opening = false;
    return this;
  }

  throw(error: unknown): never {
    throw error;
  }
}

Object.defineProperty(Effect.prototype, "done", { value: false });
brand(Effect, EFFECT); // so another copy of skein can tell one of its effects from an operation

/** @internal Effect types, in the order of their codes. */
export const effectTypes: string[] = [];

/** @internal Put the dispatch tag (and its code) on a class's prototype, so instances carry only
 * their data. Dispatching on a small integer is an array index instead of a keyed lookup. */
export function tag(cls: abstract new (...args: any[]) => { readonly type: string }, type: string): void {
  let code = effectTypes.indexOf(type);
  if (code < 0) code = effectTypes.push(type) - 1;
  Object.defineProperty(cls.prototype, "type", { value: type });
  Object.defineProperty(cls.prototype, "code", { value: code });
}

/** On the prototypes of the effects a combinator's helper task may perform in its own body: the
 * class itself, so that a subclass (of the user's, with its own iteration) is not one. */
const DIRECT: unique symbol = Symbol("skein.direct");

/** @internal Let the instances of `cls`, one of skein's effects, be performed in a combinator's
 * helper task's own body instead of in a call (see `runIn` in all.ts): only effects that start
 * nothing a scope would hold (no fork, spawn, ensure) and whose leaving a wait never throws (no
 * code of the user's: not `action`, not a Park of the user's). */
export function direct(cls: abstract new (...args: any[]) => Effect<any>): void {
  Object.defineProperty(cls.prototype, DIRECT, { value: cls });
}

/** @internal Whether `op` is an instance of one of the classes `direct` marked (not a subclass). */
export function isDirect(op: unknown): op is Effect<unknown> {
  return op instanceof Effect && (op as { [DIRECT]?: unknown })[DIRECT] === op.constructor;
}

/** @internal For an effect's own `next`: whether this is the first step of a `yield*` (and
 * consume the mark). */
export function firstStep(): boolean {
  if (opening !== true) return false;
  opening = false;
  return true;
}

/** @internal Drop a mark left by an iterator opened but never stepped (by hand, in user code),
 * so that it cannot be mistaken for the next `yield*` of the same effect. */
export function forgetOpening(): void {
  opening = false;
}

/**
 * @internal What skein/node's reads and writes (another bundle) use of this module, in one
 * object. A name another bundle imports is exported from the core bundle, and V8 loads an
 * exported binding through a cell, a dearer load than a private one, on every use in the core
 * too: `current`, `used` and `noteMade` exported one by one made `yield* call(fn)` 10 % slower.
 */
export const forIO = { current, firstStep, noteMade, used };
