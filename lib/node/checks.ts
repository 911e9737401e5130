// Argument checks shared by skein/node: errors at the call, saying what was expected.

import { describe } from "../core/operation.js";

/** @internal A TCP port: a whole number 0..65535 (0 asks the system for a free one). */
export function checkPort(port: unknown, where: string): asserts port is number {
  if (typeof port !== "number") throw new TypeError(`${where} expects a port number, got ${describe(port)}`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`${where} expects a port from 0 to 65535, got ${port}`);
  }
}

/** @internal A listen backlog: undefined (Node's default, 511), or a whole number from 1 to 2^31 − 1. */
export function checkBacklog(backlog: unknown, where: string): asserts backlog is number | undefined {
  if (backlog === undefined) return;
  if (typeof backlog !== "number") throw new TypeError(`${where} expects backlog as a number of connections, got ${describe(backlog)}`);
  if (!Number.isInteger(backlog) || backlog < 1 || backlog > 0x7fffffff) {
    throw new RangeError(`${where} expects backlog as a whole number of connections from 1 to 2147483647, got ${backlog}`);
  }
}

/** @internal A non-empty string. */
export function checkString(value: unknown, what: string, where: string): asserts value is string {
  if (typeof value !== "string" || value === "") throw new TypeError(`${where} expects ${what} as a non-empty string, got ${describe(value)}`);
}

/** @internal A function. */
export function checkFunction(value: unknown, what: string, where: string): asserts value is (...args: never[]) => unknown {
  if (typeof value !== "function") throw new TypeError(`${where} expects ${what} to be a function, got ${describe(value)}`);
}
