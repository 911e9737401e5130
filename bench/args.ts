// The command lines of the benches, parsed with node:util's parseArgs: a bad or missing value
// prints the usage and exits with status 2 instead of crashing on it.
import { parseArgs } from "node:util";

/** What a number option takes: `list`, comma-separated values (else one); `whole`, whole numbers
 * only (else any above 0); `max`, the largest allowed. */
export interface NumberOption {
  list?: boolean;
  whole?: boolean;
  max?: number;
}

/** The comma-separated list given for each option in `lists` (undefined when not given), checked
 * against the names it allows, each name once; the boolean flags; and the positive decimal
 * numbers given for each option in `numbers`, checked against its rule, a list sorted and each
 * value once. `--help` prints `usage` and exits. */
export function benchArgs<L extends string, F extends string = never, N extends string = never>(
  usage: string,
  lists: Record<L, readonly string[]>,
  flags: readonly F[] = [],
  numbers: Record<N, NumberOption> = {} as Record<N, NumberOption>,
): { lists: Partial<Record<L, string[]>>; flags: Record<F, boolean>; numbers: Partial<Record<N, number[]>> } {
  const options: Record<string, { type: "string" | "boolean" }> = { help: { type: "boolean" } };
  for (const name of [...Object.keys(lists), ...Object.keys(numbers)]) options[name] = { type: "string" };
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
    picked[name] = [...new Set(names)];
  }
  const set = Object.fromEntries(flags.map((f) => [f, values[f] === true])) as Record<F, boolean>;
  const counted: Partial<Record<N, number[]>> = {};
  for (const name of Object.keys(numbers) as N[]) {
    const given = values[name];
    if (typeof given !== "string") continue;
    const rule = numbers[name];
    const parts = rule.list === true ? given.split(",").map((s) => s.trim()) : [given.trim()];
    const kind = rule.whole === true ? "whole number" : "number";
    const what = `${rule.list === true ? `comma-separated ${kind}s` : `a ${kind}`} above 0${rule.max === undefined ? "" : `, at most ${rule.max}`}`;
    const fits = (p: string) => {
      const v = Number(p);
      return /^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(p) && v > 0 && (rule.whole !== true || Number.isInteger(v)) && (rule.max === undefined || v <= rule.max);
    };
    const bad = parts.filter((p) => !fits(p));
    if (bad.length > 0) fail(`--${name} needs ${what}, got ${bad.map((b) => JSON.stringify(b)).join(", ")}`);
    counted[name] = [...new Set(parts.map(Number))].sort((a, b) => a - b);
  }
  return { lists: picked, flags: set, numbers: counted };
}
