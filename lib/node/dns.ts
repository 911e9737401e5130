// Name resolution from a coroutine.

import * as dns from "node:dns";
import type { Operation } from "../core/effect.js";
import { wait } from "../core/effects.js";
import { checkString } from "./checks.js";

/**
 * Resolve `host` to an address the way `connect` does (the system resolver, `/etc/hosts`
 * included). `family` 4 or 6 restricts the answer.
 *
 * @throws TypeError at the call for a missing host; the Node error (code `ENOTFOUND`) at the
 * `yield*` for an unknown one.
 * @example
 * ```ts
 * const { address, family } = yield* lookup("localhost");
 * ```
 */
export function lookup(host: string, family?: 4 | 6): Operation<dns.LookupAddress> {
  checkString(host, "a host name", "lookup()");
  return wait(dns.promises.lookup(host, family === undefined ? {} : { family }));
}
