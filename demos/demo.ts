// What every demo exports, so the runner can list it, run it, and a spec can run its quick mode.
import type { Operation } from "../lib/index.js";

export interface Demo {
  /** One line for `npm run demo -- --list`. */
  summary: string;
  /** The demo: prints what it shows and returns the claims a spec checks. */
  main(options: { quick: boolean; log: (line: string) => void }): Operation<Record<string, number>>;
}
