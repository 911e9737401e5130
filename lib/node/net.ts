// TCP: a socket read and written from a coroutine, and a server that runs a coroutine per
// connection and owns them. Sockets belong to the scope that opened them.

import * as net from "node:net";
import type { Operation } from "../core/effect.js";
import type * as http from "node:http";
import { action, call, cancel, self, shield, spawn, wait } from "../core/effects.js";
import { isCancelled } from "../core/errors.js";
import { resource } from "../combinators/resource.js";
import { bitsForIO, type Task } from "../core/task.js";
import { checkBacklog, checkFunction, checkPort } from "./checks.js";
import { Reader } from "./reader.js";
import { endAll, until, writeAll } from "./wait.js";

// (The core's bits as constants of this bundle: see bitsForIO.)
const { DONE, FORK, HALTED } = bitsForIO;

/**
 * A TCP connection read and written from a coroutine. It belongs to the scope that opened it
 * (or, on a server, to the handler's task): it is closed when that scope ends, even on cancel.
 *
 * @example
 * ```ts
 * const socket = yield* connect(port);
 * yield* socket.write("hello\n");
 * const reply = yield* socket.readLine();
 * ```
 */
export class Socket extends Reader {
  /** @internal */
  constructor(readonly socket: net.Socket) {
    super(socket);
  }

  /** The peer's address and port, as `"127.0.0.1:50312"`. */
  get remote(): string {
    return `${this.socket.remoteAddress}:${this.socket.remotePort}`;
  }

  /**
   * Send `data`. Returns at once while the kernel takes it; when the socket's buffer is full
   * it waits for `drain`, so a fast writer cannot outrun a slow peer.
   *
   * @throws the socket's error (`EPIPE`, `ECONNRESET`) at the `yield*`.
   * @example
   * ```ts
   * for (const row of rows) yield* socket.write(JSON.stringify(row) + "\n");
   * ```
   */
  write(data: string | Uint8Array): Operation<void> {
    return writeAll(this.socket, data);
  }

  /**
   * Finish sending (a TCP half-close: the peer reads the end) and wait until everything written
   * has been handed to the kernel. Reading may go on.
   *
   * @example
   * ```ts
   * yield* socket.write(request);
   * yield* socket.end();
   * const response = yield* socket.readAll();
   * ```
   */
  end(): Operation<void> {
    return endAll(this.socket);
  }

  /**
   * Close the connection at once and wait until it is closed. Done for you when the owning
   * scope ends.
   *
   * @example
   * ```ts
   * yield* socket.close();
   * ```
   */
  *close(): Operation<void> {
    const s = this.socket;
    if (s.closed) return;
    s.destroy();
    yield* until(s, ["close"]);
  }
}

/**
 * Connect to `port` on `host` (default `127.0.0.1`) and return the socket, which belongs to the
 * caller's scope. Cancelling a connect in progress aborts it.
 *
 * @throws RangeError at the call for an invalid port; the connection's Node error (code
 * `ECONNREFUSED`, `ENOTFOUND`, …) at the `yield*`.
 * @example
 * ```ts
 * function* ask(port: number, question: string) {
 *   const socket = yield* connect(port);
 *   yield* socket.write(question + "\n");
 *   return yield* socket.readLine();
 * }
 * ```
 */
export function connect(port: number, host = "127.0.0.1"): Operation<Socket> {
  checkPort(port, "connect()");
  const open = action<Socket>((resolve, reject) => {
    const s = net.connect({ port, host });
    const fail = (e: Error) => reject(e);
    s.once("error", fail);
    s.once("connect", () => {
      s.off("error", fail);
      resolve(new Socket(s));
    });
    return () => s.destroy();
  });
  return resource(open, (socket) => socket.close());
}

/**
 * Options of {@link listen}.
 *
 * @example
 * ```ts
 * const options: ListenOptions = { port: 0, host: "127.0.0.1", backlog: 2048 };
 * ```
 */
export interface ListenOptions {
  /** The port; 0 (the default) lets the system choose a free one (see {@link Server.port}). */
  port?: number;
  /** The address to listen on; default `127.0.0.1`. */
  host?: string;
  /** How many connections the system may hold for the server before it has accepted them; Node's
   * 511 by default, and capped by the system (`net.core.somaxconn` on Linux, 4096 there by
   * default). Past it the system drops new connection attempts, to be retried a second later and
   * then after longer waits, or resets them: raise it for bursts of connections that arrive at
   * once (a thousand clients starting together); a small one makes clients wait or fail. */
  backlog?: number;
}

/**
 * A listening TCP server made by {@link listen}: it runs a handler coroutine per connection.
 *
 * @example
 * ```ts
 * const server = yield* listen({ port: 0 }, echo);
 * console.log(`listening on ${server.port}`);
 * yield* server.close();
 * ```
 */
export class Server {
  /** @internal */
  constructor(
    /** The port it listens on (the one the system chose, for port 0). */
    readonly port: number,
    /** The task that accepts connections and owns their handlers. */
    readonly task: Task<void>,
    /** Close the listener and wait until the port is free (see serveConnections). */
    private readonly shut: () => Operation<void>,
  ) {}

  /**
   * Stop: close the listener, cancel every handler (their sockets are closed) and wait until the
   * port is free. Done for you when the scope that called `listen` ends.
   *
   * @example
   * ```ts
   * yield* server.close();
   * ```
   */
  *close(): Operation<void> {
    yield* cancel(this.task);
    // (Its task, cancelled before it ran, never closed the listener: closed here, so that the
    // port is free when this returns, not when the scope that called `listen` ends. Shielded, as
    // the task's own close is: in a cancelled scope, a cleanup's `finally`, the wait for the port
    // threw Cancelled past the code after this, found by review.)
    yield* shield(this.shut);
  }
}

/**
 * Listen for TCP connections and run `handler(socket)` as a task per connection. The server
 * belongs to the caller's scope; it owns the handlers, each of which owns its socket. A handler
 * that fails is reported (to the scheduler's `onError`) and its connection closed; the server
 * goes on. Cancelling the server (or ending its scope) closes the listener, cancels every
 * handler and frees the port.
 *
 * @throws RangeError at the call for an invalid port or backlog; TypeError if `handler` is not a
 * function; the listen error (`EADDRINUSE`, …) at the `yield*`.
 * @example
 * ```ts
 * function* echo(socket: Socket) {
 *   let line;
 *   while ((line = yield* socket.readLine()) !== undefined) yield* socket.write(line + "\n");
 * }
 * function* main() {
 *   const server = yield* listen({ port: 7000 }, echo);
 *   yield* suspend(); // serve until cancelled
 * }
 * ```
 */
export function listen(options: ListenOptions, handler: (socket: Socket) => Operation<unknown>): Operation<Server> {
  const { port = 0, host = "127.0.0.1", backlog } = options ?? {};
  checkPort(port, "listen()");
  checkBacklog(backlog, "listen()");
  checkFunction(handler, "the handler", "listen()");
  return startListener({ port, host, backlog }, handler);
}

function* startListener(where: Where, handler: (socket: Socket) => Operation<unknown>): Operation<Server> {
  const raw = net.createServer();
  const subscribe = (push: (s: Socket) => void) => {
    const accept = (s: net.Socket) => push(new Socket(s)); // wrapped at once: its errors are caught
    raw.on("connection", accept);
    return () => void raw.off("connection", accept);
  };
  const drop = (s: Socket) => void s.socket.destroy();
  const handle = (s: Socket, server: Task<void>, unstarted: Pending<Socket>) =>
    void server.sched.child(server.top, connection(pend(unstarted, s), handler), FORK, "connection");
  return yield* serveConnections(raw, where, subscribe, drop, handle, (port, task, shut) => new Server(port, task, shut));
}

/** @internal Where a server listens, its options checked: `listen`'s and `serve`'s. */
export type Where = Required<Pick<ListenOptions, "port" | "host">> & ListenOptions;

/** @internal Listen as `where` says, waiting until bound; cancelling closes the listener. */
export function bind<S extends net.Server>(server: S, { port, host, backlog }: Where): Operation<S> {
  return action<S>((resolve, reject) => {
    const fail = (e: Error) => reject(e);
    server.once("error", fail);
    server.listen({ port, host, backlog }, () => {
      server.off("error", fail);
      resolve(server);
    });
    return () => server.close();
  });
}

/** @internal A connection whose handler task is made but has not run yet: nobody owns it, so
 * the server drops it if it closes first (HTTP's tasks own their response from the start). A
 * doubly linked list (no hashing). */
export interface Pending<I> {
  item: I;
  prev: Pending<I> | null;
  next: Pending<I> | null;
}

/** @internal Put `item` in the server's list `unstarted` until its handler task takes it (see {@link own}). */
export function pend<I>(unstarted: Pending<I>, item: I): Pending<I> {
  const p: Pending<I> = { item, prev: unstarted, next: unstarted.next };
  if (p.next !== null) p.next.prev = p;
  unstarted.next = p;
  return p;
}

/** @internal The first thing a handler task does: take its item, which it owns from now on. */
export function own<I>(p: Pending<I>): I {
  if (p.prev !== null) p.prev.next = p.next;
  if (p.next !== null) p.next.prev = p.prev;
  p.prev = p.next = null;
  return p.item;
}

/**
 * @internal The accept loop shared by TCP and HTTP servers: binds `raw` as `where` says, then
 * a task in the caller's scope owns a handler task, which `handle(item, server, unstarted)` makes
 * as its child, for each connection or request `subscribe` delivers. The task is made at once, in
 * the event's callback (no channel, no hop through a loop). A handler task that takes its item
 * only when it runs has it put in `unstarted` meanwhile ({@link pend}, then {@link own}); one
 * that owns it from the start (HTTP's, whose end finishes the response) does not. When the
 * server task ends (or its scope does) the listener is closed, every connection no handler owns
 * yet is dropped, and it waits until the port is free; the handlers are cancelled meanwhile.
 */
export function* serveConnections<I extends {}, R>(
  raw: net.Server,
  where: Where,
  subscribe: (push: (item: I) => void) => () => void,
  drop: (item: I) => void,
  handle: (item: I, server: Task<void>, unstarted: Pending<I>) => void,
  make: (port: number, task: Task<void>, shut: () => Operation<void>) => R,
): Operation<R> {
  const unstarted: Pending<I> = { item: undefined as unknown as I, prev: null, next: null };
  let task: Task<void> | null = null;
  // Listening from before the bind: this task may resume a host turn or more after the server
  // is bound (when the loop waits for the next slice), and what arrives meanwhile must be heard.
  // It waits in `early` until the server task exists, then takes the one way in, `deliver`.
  const early: I[] = [];
  const deliver = (item: I) => {
    if (task === null) return void early.push(item);
    // A handler made in a cancelled scope would never run: the server is closing, drop it.
    if (task.top.flags & HALTED || task.flags & DONE) return drop(item);
    handle(item, task, unstarted);
    task.sched.runHere(); // the handler starts in the event's callback, when nothing else runs
  };
  let unsubscribe: (() => void) | null = subscribe(deliver);
  try {
    yield* bind(raw, where);
  } catch (e) {
    unsubscribe(); // failed or cancelled: nothing was or will be accepted
    for (const item of early.splice(0)) drop(item);
    throw e;
  }
  const bound = (raw.address() as net.AddressInfo).port;
  const closed = new Promise<void>((resolve) => raw.once("close", resolve));
  let failure: Error | undefined;
  let onFailure: ((e: Error) => void) | null = null;
  raw.on("error", (e) => {
    failure ??= e;
    onFailure?.(e);
  });
  function* shut(): Operation<void> {
    unsubscribe?.();
    unsubscribe = null;
    for (let p = unstarted.next; p !== null; p = p.next) drop(p.item);
    unstarted.next = null;
    for (const item of early.splice(0)) drop(item); // a net.Server closes only once its connections have
    if (raw.listening) raw.close();
    (raw as Partial<http.Server>).closeAllConnections?.(); // idle keep-alive, half-sent requests
    yield* wait(closed);
  }
  const accept = spawn(
    function* accept() {
      try {
        // The handlers are its children, made by `deliver`; it waits for a failure.
        yield* action<void>((_, reject) => {
          if (failure !== undefined) return reject(failure);
          onFailure = reject;
          return () => void (onFailure = null);
        });
      } finally {
        yield* shield(shut); // cancelled, as a server usually ends: wait until the port is free
      }
    },
    { name: `server ${bound}` },
  );
  // A resource: if the scope ends before the accept task has run, the listener is closed all the same.
  try {
    task = (yield* resource(accept, shut)) as Task<void>;
  } catch (e) {
    // Cancelled after the bind but before the server task was made (the spawn throws in a
    // cancelled scope, so `resource` registered no close): close the listener here.
    yield* shield(shut);
    throw e;
  }
  for (const item of early.splice(0)) deliver(item); // dropped if the scope is cancelled already
  return make(bound, task, shut);
}

/** The connection's peer, `"127.0.0.1:50312"`, for a report if its handler fails, or undefined.
 * Asked of the socket's handle when the handler begins, as Node's `remoteAddress` does, but not
 * through it: that caches the answer on the Node socket as a new property (`_peername`), and
 * server sockets that had it while others lacked it made Node's own stream code megamorphic
 * (+1,500 instructions a message in a process that also has client sockets). Asked then, not at
 * the failure: a handler usually fails because its peer went away, and by then the socket is
 * closed and its address gone. */
function peerOf(s: net.Socket): string | undefined {
  const handle = (s as unknown as { _handle?: { getpeername?(out: object): number } | null })._handle;
  const out: { address?: string; port?: number } = {};
  if (typeof handle?.getpeername !== "function" || handle.getpeername(out) !== 0 || out.address === undefined) return undefined;
  return `${out.address}:${out.port}`;
}

function* connection(p: Pending<Socket>, handler: (socket: Socket) => Operation<unknown>): Operation<void> {
  const socket = own(p);
  const from = peerOf(socket.socket);
  try {
    // A call is a scope: what the handler starts is finished with it, and a failure of any of
    // it (a writer task hitting EPIPE, say) is the handler's own, not the server's.
    yield* call(handler, socket);
  } catch (e) {
    const me = yield* self();
    // Its own cancellation (the server closing) is no failure; another task's Cancelled is.
    if (!(isCancelled(e) && me.flags & HALTED)) me.sched.report(e, me, `the handler of ${from === undefined ? "a connection" : `the connection from ${from}`} failed`);
  } finally {
    yield* shield(() => socket.close());
  }
}
