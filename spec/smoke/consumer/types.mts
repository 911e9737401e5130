// Type-checked against dist/index.d.mts through the package's exports map.
import { all, call, createScheduler, fork, race, run, sleep, timeout, type Operation, type Task } from "skein";

function* add(a: number, b: number): Operation<number> {
  yield* sleep(1);
  return a + b;
}

function* main(): Operation<string> {
  const n: number = yield* call(add, 1, 2);
  const p: string = yield* call(() => Promise.resolve("x"));
  const t: Task<number> = yield* fork(add(1, 2));
  const joined: number = yield* t;
  const [x, y]: [number, string] = yield* all([add(1, 1), call(() => "s")]);
  const { a }: { a: number } = yield* all({ a: add(2, 2) });
  const first: number | void = yield* race([add(1, 2), sleep(5)]);
  const limited: number = yield* timeout(10, add(3, 4));
  // @ts-expect-error: the result of call(add) is a number, not a string
  const wrong: string = yield* call(add, 1, 2);
  // @ts-expect-error: add takes numbers
  yield* call(add, "1", 2);
  return `${n} ${p} ${joined} ${x} ${y} ${a} ${first} ${limited} ${wrong}`;
}

const task: Task<string> = createScheduler({ clock: "virtual" }).run(main);
const value: Promise<string> = Promise.resolve(task);
void value;
void run;
