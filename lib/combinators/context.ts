// Context: values scoped to a task tree. A value provided for an operation is seen by it and by
// every call and task it starts, however deep; elsewhere the default. Request ids, loggers,
// deadlines, test doubles: what you would otherwise thread through every function.

import type { Operation } from "../core/effect.js";
import { call, self } from "../core/effects.js";
import { checkOperation, describe, reusable, type OperationLike } from "../core/operation.js";
import { CallFrame, Scope, Task, type Frame } from "../core/task.js";

const NONE: unique symbol = Symbol("skein.context.none");

/**
 * A key for values scoped to a task tree; made by {@link createContext}. `with(value, op)` runs
 * `op` with the value provided; `get()` reads the nearest value provided above the current task
 * (through its calls, its parent, its parent's parent…), else the default.
 *
 * @example
 * ```ts
 * const Logger = createContext<(line: string) => void>("logger", console.log);
 * function* handle(req: Request) {
 *   const log = yield* Logger.get();
 *   log(`${req.method} ${req.url}`);
 * }
 * ```
 */
export class Context<T> {
  /** @internal Use {@link createContext}. */
  constructor(
    /** Shown in error messages. */
    readonly name: string,
    private readonly fallback: T | typeof NONE,
  ) {}

  /**
   * The value provided for the current task (the nearest `with` above it), else the default.
   *
   * @throws Error at the `yield*` if no value was provided and the context has no default.
   * @example
   * ```ts
   * const id = yield* RequestId.get();
   * ```
   */
  get(): Operation<T> {
    return reusable(() => this.lookup());
  }

  private *lookup(): Operation<T> {
    const t = yield* self();
    for (let f: Frame | null = t.top; f !== null; f = f instanceof CallFrame ? f.caller : f instanceof Task ? f.owner : null) {
      const values = f.scope?.values;
      if (values?.has(this)) return values.get(this) as T;
    }
    if (this.fallback !== NONE) return this.fallback;
    throw new Error(`context "${this.name}" has no value in task ${t} and no default: run the code under ${this.name}.with(value, op)`);
  }

  /**
   * Run `op` with `value` provided: `get()` in `op`, and in every call and task it starts, gives
   * `value` (unless something below provides another). The value is the same object for all of
   * them: provide an immutable one, or one meant to be shared.
   *
   * @throws TypeError at the call site if `op` is not an operation or a function.
   * @example
   * ```ts
   * const RequestId = createContext<string>("request id", "-");
   * yield* serve({ port: 0 }, (req, res) => RequestId.with(crypto.randomUUID(), handle(req, res)));
   * ```
   */
  with<R>(value: T, op: OperationLike<R>): Operation<R> {
    checkOperation(op, `${this.name}.with()`);
    return call(provide<T, R>, this, value, op);
  }

  toString(): string {
    return `context(${this.name})`;
  }
}

/**
 * Make a context: a key for values scoped to a task tree, with an optional default for tasks
 * under no `with`. Each call makes a new, distinct key.
 *
 * @throws TypeError if `name` is not a string.
 * @example
 * ```ts
 * const Deadline = createContext<number>("deadline", Infinity);
 * function* query(sql: string) {
 *   const ms = (yield* Deadline.get()) - Date.now();
 *   return yield* timeout(Math.max(0, ms), call(() => db.query(sql)));
 * }
 * yield* Deadline.with(Date.now() + 2000, query("select 1"));
 * ```
 */
export function createContext<T>(name: string, ...defaultValue: [] | [T]): Context<T> {
  if (typeof name !== "string") throw new TypeError(`createContext() expects a name, got ${describe(name)}`);
  return new Context<T>(name, defaultValue.length === 0 ? NONE : (defaultValue[0] as T));
}

/** The body of {@link Context.with}: made once, not per call (see architecture.md, "Performance
 * notes"). */
function* provide<T, R>(key: Context<T>, value: T, op: OperationLike<R>): Operation<R> {
  const frame = (yield* self()).top;
  ((frame.scope ??= new Scope()).values ??= new Map()).set(key, value);
  return yield* call(op as Operation<R>);
}
