// The command lines of the benches, parsed with node:util's parseArgs: a bad or missing value
// prints the usage and exits with status 2 instead of crashing on it.
import { parseArgs } from "node:util";

/** The comma-separated list given for each option in `lists` (undefined when not given), checked
 * against the names it allows, the boolean flags, and the comma-separated positive numbers given
 * for each option in `numbers`; `--help` prints `usage` and exits. */
export function benchArgs<L extends string, F extends string = never, N extends string = never>(
  usage: string,
  lists: Record<L, readonly string[]>,
  flags: readonly F[] = [],
  numbers: readonly N[] = [],
): { lists: Partial<Record<L, string[]>>; flags: Record<F, boolean>; numbers: Partial<Record<N, number[]>> } {
  const options: Record<string, { type: "string" | "boolean" }> = { help: { type: "boolean" } };
  for (const name of [...Object.keys(lists), ...numbers]) options[name] = { type: "string" };
  for (const name of flags) options[name] = { type: "boolean" };
  const fail = (why: string): never => {
    process.stderr.write(`${why}\n\n${usage}`);
    process.exit(2);
  };
  let values: Record<string, string | boolean | undefined> = {};
  try {
    values = parseArgs({ options, allowPositionals: false }).values as typeof values;
  } catch (e) {
    fail((e as Error).message);
  }
  if (values.help === true) {
    process.stdout.write(usage);
    process.exit(0);
  }
  const picked: Partial<Record<L, string[]>> = {};
  for (const name of Object.keys(lists) as L[]) {
    const given = values[name];
    if (typeof given !== "string") continue;
    const names = given.split(",").map((s) => s.trim()).filter((s) => s !== "");
    const unknown = names.filter((n) => !lists[name].includes(n));
    if (names.length === 0) fail(`--${name} needs a comma-separated list of: ${lists[name].join(", ")}`);
    if (unknown.length > 0) fail(`--${name}: unknown ${unknown.join(", ")}; choose from ${lists[name].join(", ")}`);
    picked[name] = names;
  }
  const set = Object.fromEntries(flags.map((f) => [f, values[f] === true])) as Record<F, boolean>;
  const counted: Partial<Record<N, number[]>> = {};
  for (const name of numbers) {
    const given = values[name];
    if (typeof given !== "string") continue;
    const parts = given.split(",").map((s) => s.trim());
    const bad = parts.filter((p) => !(Number(p) > 0 && Number.isFinite(Number(p))));
    if (bad.length > 0) fail(`--${name} needs comma-separated numbers above 0, got ${bad.map((b) => JSON.stringify(b)).join(", ")}`);
    counted[name] = parts.map(Number);
  }
  return { lists: picked, flags: set, numbers: counted };
}
