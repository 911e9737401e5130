// What may be run as a task or a call, how to turn it into an iterator, and how to name values
// in error messages. Shared by the effect constructors (to check input) and the scheduler.

import { foreign, ONE_COPY } from "./brand.js";
import { used, type Operation } from "./effect.js";

/**
 * An operation, or a zero-argument function that returns one. Everything that starts work
 * (`run`, `fork`, `spawn`, `call`, `all`, `race`, `timeout`) accepts either form; with the
 * function form nothing of the work runs before the task's first step, and the task is named
 * after the function.
 *
 * @example
 * ```ts
 * function* greet(): Operation<string> { return "hi"; }
 * const a: OperationLike<string> = greet();  // a generator object
 * const b: OperationLike<string> = greet;    // a function returning one
 * ```
 */
export type OperationLike<T> = Operation<T> | (() => Operation<T>);

/** @internal An operation that runs `body` afresh each time it is iterated, as effects do: one
 * kept in a variable can be `yield*`ed again (a generator object can be run once only). */
export function reusable<T>(body: () => Operation<T>): Operation<T> {
  return { [Symbol.iterator]: () => body()[Symbol.iterator]() };
}

/**
 * The value an operation (or a function returning one) produces.
 *
 * @example
 * ```ts
 * function* answer() { return 42; }
 * type A = Result<typeof answer>;  // number
 * type B = Result<ReturnType<typeof answer>>;  // number
 * ```
 */
export type Result<O> = O extends Operation<infer T>
  ? T
  : O extends () => Operation<infer T>
    ? T
    : never;

/** @internal An object with a `next` method: a generator, or any iterator. */
export function isIterator(value: unknown): value is Iterator<unknown> {
  return typeof value === "object" && value !== null && typeof (value as Iterator<unknown>).next === "function";
}

/**
 * What `yield* call(fn)` gives for a function returning `R`: an operation's result, a promise's
 * value, or `R` itself. Strings and built-in collections are iterable but are plain values here.
 *
 * @example
 * ```ts
 * type A = Returned<Promise<number>>;   // number
 * type B = Returned<Operation<string>>; // string
 * type C = Returned<Map<string, number>>; // Map<string, number>
 * ```
 */
export type Returned<R> = R extends string | ReadonlyArray<unknown> | ReadonlyMap<unknown, unknown> | ReadonlySet<unknown> | ArrayBufferView
  ? R
  : R extends Operation<infer T>
    ? T
    : R extends PromiseLike<infer T>
      ? T
      : R;

/** @internal An object whose iterator yields effects: not a string, array or built-in collection. */
export function isOperation(value: unknown): value is Operation<unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Operation<unknown>)[Symbol.iterator] === "function" &&
    !Array.isArray(value) &&
    !(value instanceof Map || value instanceof Set || value instanceof String || ArrayBuffer.isView(value))
  );
}

/** @internal An object or function with a `then` method. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as PromiseLike<unknown>).then === "function"
  );
}

/** @internal Throw a TypeError at the call site unless `op` can be started as work. */
export function checkOperation(op: unknown, where: string, at?: string | number): void {
  const other = foreign(op);
  if (other === null && (typeof op === "function" || isIterator(op) || isOperation(op) || isThenable(op))) return used(op); // handed to skein: not forgotten
  // Where in a list or record of operations (`all() (at 1)`): said only when it is wrong.
  const place = at === undefined ? where : `${where} (at ${at})`;
  if (other !== null) throw new TypeError(`${place} got ${other}: ${ONE_COPY}`);
  throw new TypeError(
    `${place} expects an operation (a generator, an effect, a task) or a function returning one, got ${describe(op)}`,
  );
}

/** @internal A function's name, for a message: its `name` if that is a string other than "",
 * else `anonymous`. (A `name` can be anything; a Symbol in a template would fail the message.) */
export function nameOfFunction(f: object, anonymous: string): string {
  let name: unknown;
  try {
    name = (f as { name?: unknown }).name;
  } catch {
    return anonymous; // a getter that throws
  }
  return typeof name === "string" && name !== "" ? name : anonymous;
}

/** @internal A short, safe description of any value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    case "number":
    case "boolean":
    case "undefined":
      return String(value);
    case "bigint":
      return `${value}n`; // (10n, not 10: a BigInt where a number was expected says so)
    case "symbol":
      return value.toString();
    case "function":
      return `function ${nameOfFunction(value, "(anonymous)")}`;
  }
  const other = foreign(value);
  if (other !== null) return other;
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    const keys = Object.keys(value as object);
    return `a plain object {${keys.slice(0, 5).join(", ")}${keys.length > 5 ? ", …" : ""}}`;
  }
  const ctor = proto.constructor;
  const named = typeof ctor === "function" ? nameOfFunction(ctor, "") : "";
  if (named !== "") return `an instance of ${named}`;
  // Generator objects and the like have no named constructor; their tag says what they are.
  const tag = Object.prototype.toString.call(value).slice(8, -1);
  return tag === "Object" ? "an object" : `${/^[AEIOU]/.test(tag) ? "an" : "a"} ${tag}`;
}
