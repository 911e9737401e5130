// One thread of the blocking server of demos/blocking-server.ts: it serves one connection at a
// time, start to finish, with blocking calls, as a thread of a thread-per-request server does
// (a servlet container's worker thread, a gunicorn sync worker). Plain JavaScript, so that a
// worker thread on any Node loads it without a TypeScript loader.
//
// Node has no blocking sockets, so the main thread plays the operating system's kernel: it owns
// the sockets. A system call here posts a message to it and then sleeps in Atomics.wait, the
// whole thread stopped, using no CPU and serving no one else, until the kernel has the answer:
// what a thread blocked in accept(2) or read(2) does.
import { receiveMessageOnPort, workerData } from "node:worker_threads";

/** @type {{ port: import("node:worker_threads").MessagePort, flag: Int32Array, backend: string }} */
const { port, flag, backend } = workerData;

class Shutdown extends Error {}

/** A blocking system call: `name(...args)`, answered by the kernel (the main thread). */
function syscall(name, ...args) {
  port.postMessage({ name, args });
  for (;;) {
    Atomics.wait(flag, 0, 0); // asleep until the kernel sets the flag and wakes this thread
    const answer = receiveMessageOnPort(port);
    if (answer === undefined) continue; // the flag was set before its message arrived
    Atomics.store(flag, 0, 0);
    const { value, error, shutdown } = answer.message;
    if (shutdown) throw new Shutdown();
    if (error !== undefined) throw Object.assign(new Error(error.message), { code: error.code });
    return value;
  }
}

/** The handler: read the request, ask the backend (blocking for its whole latency), reply. */
function serve(conn) {
  let request = "";
  while (!request.includes("\r\n\r\n")) {
    const chunk = syscall("read", conn); // blocks until the client's bytes arrive
    if (chunk === "") return; // the client hung up before its request was complete
    request += chunk;
  }
  const path = request.split(" ")[1] ?? "/";
  const answer = syscall("httpGet", `${backend}/lookup${path}`); // blocks for the backend's reply
  const body = Buffer.from(answer);
  syscall("write", conn, `HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${answer}`);
}

try {
  for (;;) {
    const conn = syscall("accept"); // blocks until a connection is waiting in the backlog
    try {
      serve(conn);
    } catch (e) {
      if (e instanceof Shutdown) throw e;
      // EPIPE, ECONNRESET: the client gave up (timed out) while its request waited for a thread.
    }
    syscall("close", conn);
  }
} catch (e) {
  if (!(e instanceof Shutdown)) throw e; // the server is closing: this thread ends
}
