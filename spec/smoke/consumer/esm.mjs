import { all, createScheduler, sleep } from "skein";

const s = createScheduler({ clock: "virtual" });
const task = s.run(function* main() {
  const [a, b] = yield* all([function* () { yield* sleep(1000); return 1; }, function* () { return 2; }]);
  return a + b;
});
const value = await task;
console.log(value, task.state, s.now());
