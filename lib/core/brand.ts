// Marks that let every copy of skein in a process recognise the others' effects, tasks and errors
// (a bundled copy next to an installed one, two versions): `instanceof` cannot, each copy has its own classes.

/** @internal This copy's version, named when another copy's object turns up. Kept equal to
 * package.json's by a spec. */
export const VERSION = "0.1.0";

/** @internal What this copy puts under each brand: unique to the copy, so own and foreign tell apart. */
const COPY = Object.freeze({ version: VERSION });

/** @internal The keys, shared by all copies through the global symbol registry. */
export const EFFECT: unique symbol = Symbol.for("skein.effect") as never;
/** @internal */
export const TASK: unique symbol = Symbol.for("skein.task") as never;

/** @internal Put this copy's brand `key` on a class's prototype. */
export function brand(cls: abstract new (...args: any[]) => object, key: symbol): void {
  Object.defineProperty(cls.prototype, key, { value: COPY });
}

/** @internal Whether `value` carries brand `key` of any copy of skein, this one included. */
export function branded(value: unknown, key: symbol): boolean {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[key] !== undefined;
}

/**
 * @internal If `value` is an effect or a task made by another copy of skein, says so ("the effect
 * sleep(5) of another copy of skein (0.1.0)"); otherwise null. Such a value cannot be performed
 * here: this scheduler's handlers know only their own classes.
 */
export function foreign(value: unknown): string | null {
  if (typeof value !== "object" || value === null) return null;
  const v = value as Record<symbol, { version?: unknown } | undefined>;
  const mark = v[EFFECT] ?? v[TASK];
  if (mark === undefined || mark === COPY) return null;
  const what = v[EFFECT] !== undefined ? "the effect" : "the task";
  return `${what} ${safeString(value)} of another copy of skein (${String(mark.version)}; this one is ${VERSION})`;
}

/** @internal The advice that goes with `foreign`'s finding, in every error that reports one. */
export const ONE_COPY =
  "a program must use the effects and tasks of one copy of skein: make every module import the same one (`npm ls skein` lists the copies; dedupe them)";

function safeString(value: object): string {
  try {
    return String(value);
  } catch {
    return "(unprintable)";
  }
}

/**
 * @internal Brand an error class and make `instanceof` it (and so `isCancelled`) true for the
 * same error of any copy of skein: a `catch` must not take another copy's timeout for a failure.
 * A subclass keeps the ordinary `instanceof`.
 */
export function recognise(cls: abstract new (...args: any[]) => Error, key: symbol): void {
  brand(cls, key);
  const ordinary = Function.prototype[Symbol.hasInstance];
  Object.defineProperty(cls, Symbol.hasInstance, {
    value(this: unknown, value: unknown): boolean {
      return this === cls ? branded(value, key) : ordinary.call(this, value);
    },
  });
}
