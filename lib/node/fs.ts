// Files from a coroutine: whole-file reads and writes that a cancellation aborts, directory
// listing, stat and remove, and file handles that belong to the scope that opened them.

import * as fs from "node:fs";
import type { Operation } from "../core/effect.js";
import { action, call, wait } from "../core/effects.js";
import { resource } from "../combinators/resource.js";
import { describe } from "../core/operation.js";

/** @internal Run `start(signal)`; cancelling the task aborts the signal, which stops the work. */
export function abortable<T>(start: (signal: AbortSignal) => Promise<T>): Operation<T> {
  return action<T>((resolve, reject) => {
    const controller = new AbortController();
    start(controller.signal).then(resolve, reject);
    return () => controller.abort();
  });
}

function checkPath(path: unknown, where: string): asserts path is fs.PathLike {
  if (typeof path !== "string" && !(path instanceof URL) && !Buffer.isBuffer(path)) {
    throw new TypeError(`${where} expects a path (string, URL or Buffer), got ${describe(path)}`);
  }
}

/**
 * Read a whole file: a string with an encoding, else a Buffer. Cancelling the task aborts the
 * read.
 *
 * @throws the Node error (code `ENOENT`, `EISDIR`, …) at the `yield*`; TypeError at the call for
 * a path that is not a string, URL or Buffer.
 * @example
 * ```ts
 * const config = JSON.parse(yield* readFile("config.json", "utf8"));
 * ```
 */
export function readFile(path: fs.PathLike, encoding: BufferEncoding): Operation<string>;
export function readFile(path: fs.PathLike): Operation<Buffer>;
export function readFile(path: fs.PathLike, encoding?: BufferEncoding): Operation<string | Buffer> {
  checkPath(path, "readFile()");
  return abortable((signal) => fs.promises.readFile(path, { encoding, signal }));
}

/**
 * Write a whole file, replacing it. Cancelling the task aborts the write (the file may then be
 * partly written).
 *
 * @throws the Node error (`ENOENT` for a missing directory, `EACCES`, …) at the `yield*`.
 * @example
 * ```ts
 * yield* writeFile("out.json", JSON.stringify(result));
 * ```
 */
export function writeFile(path: fs.PathLike, data: string | Uint8Array): Operation<void> {
  checkPath(path, "writeFile()");
  return abortable((signal) => fs.promises.writeFile(path, data, { signal }));
}

/**
 * Append to a file, creating it if needed.
 * Node cannot abort it: if the task is cancelled, it runs to its end unobserved.
 *
 * @throws the Node error at the `yield*`.
 * @example
 * ```ts
 * yield* appendFile("app.log", `${new Date().toISOString()} started\n`);
 * ```
 */
export function appendFile(path: fs.PathLike, data: string | Uint8Array): Operation<void> {
  checkPath(path, "appendFile()");
  return wait(fs.promises.appendFile(path, data));
}

/**
 * The names in a directory.
 * Node cannot abort it: if the task is cancelled, it runs to its end unobserved.
 *
 * @throws the Node error (`ENOENT`, `ENOTDIR`) at the `yield*`.
 * @example
 * ```ts
 * const names = yield* readDir(".");
 * ```
 */
export function readDir(path: fs.PathLike): Operation<string[]> {
  checkPath(path, "readDir()");
  return wait(fs.promises.readdir(path));
}

/**
 * Make a directory (and its parents; an existing one is fine).
 * Node cannot abort it: if the task is cancelled, it runs to its end unobserved.
 *
 * @throws the Node error at the `yield*`.
 * @example
 * ```ts
 * yield* makeDir("out/reports");
 * ```
 */
export function makeDir(path: fs.PathLike): Operation<void> {
  checkPath(path, "makeDir()");
  return call(() => fs.promises.mkdir(path, { recursive: true }).then(() => undefined));
}

/**
 * Size, times and kind of a file or directory.
 * Node cannot abort it: if the task is cancelled, it runs to its end unobserved.
 *
 * @throws the Node error (`ENOENT`) at the `yield*`.
 * @example
 * ```ts
 * const { size } = yield* stat("data.bin");
 * ```
 */
export function stat(path: fs.PathLike): Operation<fs.Stats> {
  checkPath(path, "stat()");
  return wait(fs.promises.stat(path));
}

/**
 * Remove a file, or a directory with everything in it. Removing what does not exist is an
 * error unless `force` is set. Node cannot abort it: if the task is cancelled, the removal goes
 * on to its end unobserved.
 *
 * @throws the Node error (`ENOENT`) at the `yield*`.
 * @example
 * ```ts
 * yield* remove(tmpDir, { force: true });
 * ```
 */
export function remove(path: fs.PathLike, options: { force?: boolean } = {}): Operation<void> {
  checkPath(path, "remove()");
  return wait(fs.promises.rm(path, { recursive: true, force: options.force === true }));
}

/**
 * An open file, read and written from a coroutine; made by {@link open}. It is closed when the
 * scope that opened it ends, even on cancel.
 *
 * @example
 * ```ts
 * const file = yield* open("log.txt", "a");
 * yield* file.write("one line\n");
 * ```
 */
export class File {
  private closing: Promise<void> | undefined;

  /** @internal */
  constructor(readonly handle: fs.promises.FileHandle) {}

  /**
   * Read up to `length` bytes (default 64 KiB) at the current position, or at `position`;
   * `undefined` at the end of the file.
   *
   * @throws the Node error at the `yield*`.
   * @example
   * ```ts
   * let chunk;
   * while ((chunk = yield* file.read()) !== undefined) hash.update(chunk);
   * ```
   */
  *read(length = 65536, position: number | null = null): Operation<Buffer | undefined> {
    const buffer = Buffer.allocUnsafe(length);
    const { bytesRead } = yield* wait(this.handle.read(buffer, 0, length, position));
    return bytesRead === 0 ? undefined : buffer.subarray(0, bytesRead);
  }

  /**
   * Write all of `data` at the current position, or at `position`.
   *
   * @throws the Node error at the `yield*`.
   * @example
   * ```ts
   * yield* file.write("header\n");
   * ```
   */
  *write(data: string | Uint8Array, position: number | null = null): Operation<void> {
    const bytes = typeof data === "string" ? Buffer.from(data) : data;
    let done = 0;
    while (done < bytes.length) {
      const at = position === null ? null : position + done;
      const { bytesWritten } = yield* wait(this.handle.write(bytes, done, bytes.length - done, at));
      done += bytesWritten;
    }
  }

  /**
   * Close the file now (it is closed for you when the scope that opened it ends).
   *
   * @example
   * ```ts
   * yield* file.close();
   * ```
   */
  close(): Operation<void> {
    return wait((this.closing ??= this.handle.close()));
  }
}

/**
 * Open a file (`flags` as in Node: `"r"` by default, `"w"`, `"a"`, `"r+"`, …). The handle belongs
 * to the caller's scope and is closed when it ends.
 *
 * @throws the Node error (`ENOENT`, `EACCES`) at the `yield*`.
 * @example
 * ```ts
 * function* copy(from: string, to: string) {
 *   const src = yield* open(from);
 *   const dst = yield* open(to, "w");
 *   let chunk;
 *   while ((chunk = yield* src.read()) !== undefined) yield* dst.write(chunk);
 * }
 * ```
 */
export function open(path: fs.PathLike, flags = "r"): Operation<File> {
  checkPath(path, "open()");
  const opening = action<File>((resolve, reject) => {
    let cancelled = false;
    fs.promises.open(path, flags).then((h) => (cancelled ? void h.close() : resolve(new File(h))), reject);
    return () => void (cancelled = true); // a handle that arrives after a cancel is closed at once
  });
  return resource(opening, (file) => file.close());
}
