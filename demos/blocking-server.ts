// A real blocking HTTP server, for the sync-vs-async-server demo: a fixed pool of worker threads
// (node:worker_threads), each serving one connection at a time with blocking calls, as a
// thread-per-request server does. The threads run demos/blocking-thread.mjs.
//
// Node has no blocking sockets, so this file plays the operating system's kernel for them: it
// owns the listening socket (whose queue of accepted connections is the listen backlog) and every
// connection, and it answers the threads' system calls: accept, read, write, close, and one
// blocking HTTP call to the backend (as a blocking client library makes). A thread that makes a
// call sleeps in Atomics.wait until the answer is in, so a thread busy with one client can do
// nothing for any other: the server serves at most `threads` requests at once.
import * as http from "node:http";
import * as net from "node:net";
import { MessageChannel, Worker, type MessagePort } from "node:worker_threads";
import { resource, type Operation } from "../lib/index.js";

/** A running blocking server. */
export interface BlockingServer {
  readonly port: number;
  readonly threads: number;
  /** Milliseconds it took to start the threads, and the resident memory they added. */
  readonly startMs: number;
  readonly rssPerThread: number;
}

interface Thread {
  worker: Worker;
  port: MessagePort;
  flag: Int32Array;
  /** The system call it is blocked in, if any. */
  call: string | undefined;
}

interface Conn {
  socket: net.Socket;
  chunks: string[];
  ended: boolean;
  /** A thread blocked reading this connection. */
  reader: Thread | undefined;
}

type Answer = { value: unknown } | { error: { message: string; code?: string } } | { shutdown: true };

const threadCode = new URL("./blocking-thread.mjs", import.meta.url);

/**
 * Start a blocking server of `threads` threads on 127.0.0.1 (a free port), whose handler asks
 * `backend` + `/lookup` + the request's path and replies with the answer. It is closed (threads
 * stopped, connections dropped) when the caller's scope ends.
 */
export function blockingServer(backend: string, threads: number): Operation<BlockingServer> {
  return resource(
    () => new Kernel(backend, threads).start(),
    (kernel) => kernel.close(),
  );
}

class Kernel implements BlockingServer {
  port = 0;
  startMs = 0;
  rssPerThread = 0;
  private readonly server = net.createServer((socket) => this.connected(socket));
  private readonly pool: Thread[] = [];
  private readonly backlog: number[] = [];
  private readonly accepting: Thread[] = [];
  private readonly conns = new Map<number, Conn>();
  private readonly agent = new http.Agent({ keepAlive: true });
  private nextConn = 1;
  private closing = false;
  /** The first error a thread died of, if any: close() throws it, so that it is not lost. */
  private failure: Error | undefined;
  /** Called when every thread has made its first accept: the server is ready. */
  private ready: (() => void) | undefined;

  constructor(
    private readonly backend: string,
    readonly threads: number,
  ) {}

  async start(): Promise<Kernel> {
    const t0 = performance.now();
    const rss0 = process.memoryUsage().rss;
    // Started when every thread is blocked in its first accept (its code loaded and running).
    const online: Promise<unknown>[] = [new Promise<void>((resolve) => (this.ready = resolve))];
    for (let i = 0; i < this.threads; i++) {
      const { port1, port2 } = new MessageChannel();
      const flag = new Int32Array(new SharedArrayBuffer(4));
      const worker = new Worker(threadCode, { workerData: { port: port2, flag, backend: this.backend }, transferList: [port2] });
      const thread: Thread = { worker, port: port1, flag, call: undefined };
      port1.on("message", (m: { name: string; args: unknown[] }) => this.syscall(thread, m.name, m.args));
      worker.on("error", (e) => (this.failure ??= e));
      online.push(new Promise((resolve, reject) => worker.once("online", resolve).once("error", reject)));
      this.pool.push(thread);
    }
    try {
      await Promise.all(online);
    } catch (e) {
      await this.close().catch(() => {}); // the threads that did start are stopped
      throw e;
    }
    this.startMs = performance.now() - t0;
    this.rssPerThread = (process.memoryUsage().rss - rss0) / this.threads;
    await new Promise<void>((resolve, reject) => this.server.once("error", reject).listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  /** Stop listening, wake every thread with a shutdown, drop every connection. */
  async close(): Promise<void> {
    this.closing = true;
    this.server.close();
    for (const t of this.pool) if (t.call === "accept" || t.call === "read") this.answer(t, { shutdown: true });
    for (const c of this.conns.values()) c.socket.destroy();
    const exits = this.pool.map((t) => new Promise((resolve) => t.worker.once("exit", resolve)));
    // A thread in a backend call gets its shutdown when the call returns; none takes long.
    const backstop = setTimeout(() => this.pool.forEach((t) => void t.worker.terminate()), 2000);
    await Promise.all(exits);
    clearTimeout(backstop);
    for (const t of this.pool) t.port.close();
    this.agent.destroy();
    if (this.failure !== undefined) throw this.failure;
  }

  /** Wake `thread` with the answer to its system call (or a shutdown, once closing). */
  private answer(thread: Thread, answer: Answer): void {
    thread.call = undefined;
    thread.port.postMessage(this.closing ? { shutdown: true } : answer);
    Atomics.store(thread.flag, 0, 1);
    Atomics.notify(thread.flag, 0);
  }

  private connected(socket: net.Socket): void {
    if (this.closing) return void socket.destroy();
    const id = this.nextConn++;
    const conn: Conn = { socket, chunks: [], ended: false, reader: undefined };
    this.conns.set(id, conn);
    socket.setEncoding("utf8");
    const wakeReader = () => {
      if (conn.reader !== undefined) this.read(conn.reader, conn);
    };
    socket.on("data", (chunk: string) => {
      conn.chunks.push(chunk);
      wakeReader();
    });
    socket.on("end", () => {
      conn.ended = true;
      wakeReader();
    });
    socket.on("error", () => {
      conn.ended = true;
      wakeReader();
    });
    const thread = this.accepting.shift();
    if (thread !== undefined) this.answer(thread, { value: id });
    else this.backlog.push(id);
  }

  private read(thread: Thread, conn: Conn): void {
    if (conn.chunks.length > 0) {
      conn.reader = undefined;
      this.answer(thread, { value: conn.chunks.splice(0).join("") });
    } else if (conn.ended) {
      conn.reader = undefined;
      this.answer(thread, { value: "" });
    } else {
      conn.reader = thread; // blocked until data or the end arrives
    }
  }

  private syscall(thread: Thread, name: string, args: unknown[]): void {
    thread.call = name;
    if (this.closing) return this.answer(thread, { shutdown: true });
    const conn = this.conns.get(args[0] as number);
    switch (name) {
      case "accept": {
        const id = this.backlog.shift();
        if (id !== undefined) this.answer(thread, { value: id });
        else this.accepting.push(thread);
        if (this.accepting.length === this.threads) this.ready?.();
        return;
      }
      case "read":
        return conn === undefined ? this.answer(thread, { value: "" }) : this.read(thread, conn);
      case "write":
        if (conn === undefined || conn.socket.destroyed || !conn.socket.writable) {
          return this.answer(thread, { error: { message: "broken pipe: the client has gone", code: "EPIPE" } });
        }
        conn.socket.write(args[1] as string, (err) =>
          this.answer(thread, err ? { error: { message: err.message, code: (err as NodeJS.ErrnoException).code } } : { value: true }),
        );
        return;
      case "close":
        conn?.socket.end();
        this.conns.delete(args[0] as number);
        return this.answer(thread, { value: true });
      case "httpGet":
        http
          .get(args[0] as string, { agent: this.agent }, (res) => {
            let text = "";
            res.setEncoding("utf8");
            res.on("data", (chunk: string) => (text += chunk));
            res.on("end", () => this.answer(thread, { value: text }));
            res.on("error", (err) => this.answer(thread, { error: { message: err.message } }));
          })
          .on("error", (err) => this.answer(thread, { error: { message: err.message, code: (err as NodeJS.ErrnoException).code } }));
        return;
      default:
        return this.answer(thread, { error: { message: `no system call named ${name}` } });
    }
  }
}
