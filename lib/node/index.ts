// The public API of skein/node: real I/O for coroutines on Node.js. This file only re-exports.

/**
 * skein/node: files, TCP, HTTP, DNS, child processes and worker threads for coroutines, with
 * every resource owned by the scope that opened it. See the [I/O guide](../../docs/io.md).
 *
 * @module skein/node
 */

export { Reader } from "./reader.js";
export { appendFile, File, makeDir, open, readDir, readFile, remove, stat, writeFile } from "./fs.js";
export { connect, listen, Server, Socket, type ListenOptions } from "./net.js";
export { get, Reply, Request, request, Response, serve, type Handler, type RequestOptions } from "./http.js";
export { lookup } from "./dns.js";
export { exec, Subprocess, subprocess, type ExecResult, type ExitStatus, type ProcessOptions } from "./process.js";
export { createPool, runInWorker, WorkerPool } from "./pool.js";
export { abortSignal, on, once } from "./interop.js";
export { main, type MainOptions } from "./main.js";
