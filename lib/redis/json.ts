// A job's data crosses processes as JSON. What JSON would change on the way (a Date, a Map, a
// function, undefined, NaN, a cycle) is refused at send, where the mistake is made.

import { describe } from "../core/operation.js";

/** @internal The JSON text of `data`, or a TypeError naming the first part that JSON cannot carry. */
export function encode(data: unknown, where: string): string {
  check(data, "data", where, []);
  return JSON.stringify(data);
}

function refuse(path: string, what: string, where: string): never {
  throw new TypeError(
    `${where}: ${path} is ${what}, which JSON cannot carry to another process. A job's data must be JSON: ` +
      "plain objects, arrays, strings, finite numbers, booleans and null. Convert it first (a Date to its ISO string, a Map to an object).",
  );
}

function check(value: unknown, path: string, where: string, seen: object[]): void {
  switch (typeof value) {
    case "string":
    case "boolean":
      return;
    case "number":
      if (!Number.isFinite(value)) refuse(path, String(value), where);
      return;
    case "object":
      break;
    default:
      refuse(path, typeof value === "symbol" ? `${describe(value)} (a symbol)` : describe(value), where);
  }
  if (value === null) return;
  if (seen.includes(value)) refuse(path, "a reference back to an object that contains it (a cycle)", where);
  seen.push(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) check(value[i], `${path}[${i}]`, where, seen);
  } else {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) refuse(path, describe(value), where);
    for (const key of Object.keys(value)) check((value as Record<string, unknown>)[key], `${path}.${key}`, where, seen);
  }
  seen.pop();
}
