// Type-checked against dist/index.d.cts through the package's exports map (require condition).
import skein = require("skein");

function* twice(n: number): skein.Operation<number> {
  yield* skein.sleep(1);
  return n * 2;
}
const t: skein.Task<number> = skein.run(twice(2));
// @ts-expect-error: a Task<number> is not a Task<string>
const u: skein.Task<string> = t;
void u;
