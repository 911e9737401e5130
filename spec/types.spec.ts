// The types of the public API, pinned: what each generic helper infers for the kinds of result
// that trap a naive `R extends Operation<infer T>` (strings, arrays and sets are iterable; async
// functions return promises), and what an Operation may yield. Checked by `npm run typecheck`
// (tsc -p . includes spec/); the one runtime test only keeps uvu's count honest.
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  action, all, allSettled, call, channel, createContext, fork, map, race, receive, resource, retry, run, select, shield,
  sleep, spawn, timeout, wait, type Operation, type Settled, type Task,
} from "../lib/index.js";

/** True when X and Y are the same type (not merely assignable one way). */
type Same<X, Y> = (<V>() => V extends X ? 1 : 2) extends <V>() => V extends Y ? 1 : 2 ? true : false;
/** Compiles only when given `true`. */
type Check<T extends true> = T;

function* sample(): Operation<void> {
  // map: whatever the function returns, the item's value, never undefined[].
  const words = yield* map(["a", "b"], (s) => s.toUpperCase());
  const lengths = yield* map(["a"], async (s) => s.length);
  const arrays = yield* map(["a"], (s) => [s, s]);
  const sets = yield* map(["a"], (s) => new Set([s]));
  const maps = yield* map(["a"], (s) => new Map([[s, 1]]));
  const bytes = yield* map(["a"], () => new Uint8Array(1));
  const ops = yield* map(["a"], function* (s) {
    yield* sleep(1);
    return s.length;
  });
  const settled = yield* map(["a"], async (s) => s, { settle: true });
  type _map = Check<Same<[typeof words, typeof lengths, typeof arrays, typeof sets, typeof maps, typeof bytes, typeof ops, typeof settled],
    [string[], number[], string[][], Set<string>[], Map<string, number>[], Uint8Array<ArrayBuffer>[], number[], Settled<string>[]]>>;

  // call, retry, resource: the same rule (Returned<R>).
  const c1 = yield* call(() => "text");
  const c2 = yield* call(async () => ["x"]);
  const c3 = yield* call(() => new Set([1]));
  const r1 = yield* retry(() => call(async () => "s"));
  const r2 = yield* retry(async () => [1]);
  const res = yield* resource(() => "handle", (h) => void h);
  type _call = Check<Same<[typeof c1, typeof c2, typeof c3, typeof r1, typeof r2, typeof res], [string, string[], Set<number>, string, number[], string]>>;

  // all, race, allSettled, timeout, shield, fork, spawn: the operations' results.
  const [a1, a2] = yield* all([call(() => "x"), function* () { return 1; }]);
  const { k } = yield* all({ k: call(() => [1]) });
  const first = yield* race([call(() => "x"), sleep(5)]);
  const outcomes = yield* allSettled([call(() => "x")]);
  const limited = yield* timeout(5, call(() => new Set(["s"])));
  const shielded = yield* shield(() => call(() => "x"));
  const forked = yield* fork(function* () { return "f"; });
  const spawned = yield* spawn(() => call(async () => 1));
  const joined = yield* forked;
  type _all = Check<Same<[typeof a1, typeof a2, typeof k, typeof first, typeof outcomes, typeof limited, typeof shielded, typeof forked, typeof spawned, typeof joined],
    [string, number, number[], string | void, [Settled<string>], Set<string>, string, Task<string>, Task<number>, string]>>;

  // wait, action, channels, select, contexts.
  const w = yield* wait(Promise.resolve("w"));
  const act = yield* action<number>((resolve) => (resolve(1), () => {}));
  const ch = channel<string>(1);
  const got = yield* ch.receive();
  const picked = yield* select({ got: ch.receive() });
  const Ctx = createContext<string[]>("names", []);
  const names = yield* Ctx.get();
  type _misc = Check<Same<[typeof w, typeof act, typeof got, typeof names], [string, number, string | undefined, string[]]>>;
  if (picked.case === "got") {
    type _select = Check<Same<typeof picked.value, string | undefined>>;
  }

  // receive: unchecked cast with a type argument alone; checked with a type guard.
  const anything = yield* receive();
  const cast = yield* receive<number>();
  const guarded = yield* receive((m): m is { ping: true } => typeof m === "object" && m !== null && "ping" in m);
  type _receive = Check<Same<[typeof anything, typeof cast, typeof guarded], [unknown, number, { ping: true }]>>;

  // A plain yield is untyped: it resumes with unknown, never a silent any.
  const plain = yield sleep(1);
  const promised = yield Promise.resolve(1);
  type _plain = Check<Same<[typeof plain, typeof promised], [unknown, unknown]>>;
}

function* wrong(): Operation<void> {
  // @ts-expect-error: 42 is not an effect, a promise or a generator (it fails at run time)
  yield 42;
  // @ts-expect-error: nor is a string
  yield "text";
  // @ts-expect-error: a string is iterable but not an operation
  yield* all(["text"]);
  // @ts-expect-error: nor is an array
  run([1, 2]);
}

test("the type assertions of this file are checked by the compiler", () => {
  assert.type(sample, "function");
  assert.type(wrong, "function");
});

test.run();
