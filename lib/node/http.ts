// HTTP: a client whose requests belong to the caller's scope (cancelling aborts them), and a
// server that runs a coroutine per request and owns them.

import * as http from "node:http";
import * as https from "node:https";
import type { Operation } from "../core/effect.js";
import type { Socket } from "node:net";
import { action } from "../core/effects.js";
import { resource } from "../combinators/resource.js";
import { describe, type OperationLike } from "../core/operation.js";
import { bitsForIO, setBoundary, type Boundary, type Task } from "../core/task.js";
import { checkBacklog, checkFunction, checkPort } from "./checks.js";
import { type ListenOptions, Server, serveConnections, type Where } from "./net.js";
import { Reader } from "./reader.js";
import { endReply, until, writeAll } from "./wait.js";

// (The core's bits as names of this bundle, read through bitsForIO: see it.)
const { FAILED, FORK, HALTED } = bitsForIO;

/** A body read from a coroutine, with helpers to take it whole. */
class Body extends Reader {
  /**
   * The whole body decoded as UTF-8.
   *
   * @example
   * ```ts
   * const html = yield* response.text();
   * ```
   */
  *text(): Operation<string> {
    return (yield* this.readAll()).toString("utf8");
  }

  /**
   * The whole body parsed as JSON.
   *
   * @throws SyntaxError at the `yield*` if it is not JSON.
   * @example
   * ```ts
   * const user = (yield* response.json()) as { name: string };
   * ```
   */
  *json(): Operation<unknown> {
    return JSON.parse(yield* this.text());
  }
}

/**
 * An HTTP response received by {@link request} or {@link get}: status, headers, and the body,
 * read whole with `text()`/`json()` or as a stream with `read()`/`readLine()`. It belongs to the
 * caller's scope: a body not read to the end by then is abandoned and its connection closed.
 *
 * @example
 * ```ts
 * const res = yield* get(`http://127.0.0.1:${port}/`);
 * if (res.status === 200) console.log(yield* res.text());
 * ```
 */
export class Response extends Body {
  /** The status code. */
  readonly status: number;
  /** The headers, names in lower case. */
  readonly headers: http.IncomingHttpHeaders;

  /** @internal */
  constructor(
    private readonly req: http.ClientRequest,
    readonly message: http.IncomingMessage,
  ) {
    super(message);
    this.status = message.statusCode!;
    this.headers = message.headers;
  }

  /**
   * Abandon the rest of the body: the connection is closed (a body read to its end has already
   * given its connection back to the pool). Done for you when the scope that sent the request
   * ends.
   *
   * @example
   * ```ts
   * const res = yield* get(url);
   * if (res.headers["content-type"] !== "application/json") yield* res.close();
   * ```
   */
  *close(): Operation<void> {
    if (this.message.complete || this.req.destroyed) return;
    this.req.destroy();
    if (!this.message.closed) yield* until(this.message, ["close"]);
  }
}

/**
 * Options of {@link request}.
 *
 * @example
 * ```ts
 * const options: RequestOptions = { url, method: "POST", headers: { "content-type": "application/json" }, body: "{}" };
 * ```
 */
export interface RequestOptions {
  /** `http:` or `https:` URL. */
  url: string | URL;
  /** Default `GET`. */
  method?: string;
  headers?: http.OutgoingHttpHeaders;
  /** Sent whole, with its content-length. */
  body?: string | Uint8Array;
  /** The connection pool; default Node's global agent. */
  agent?: http.Agent;
}

/**
 * Send an HTTP request and return the response once its headers have arrived. The exchange
 * belongs to the caller's scope; cancelling the task aborts it (the server sees the request
 * aborted) and no socket stays open.
 *
 * @throws TypeError at the call for a missing or non-HTTP URL; the Node error (`ECONNREFUSED`,
 * `ENOTFOUND`, `ECONNRESET`, …) at the `yield*`. A 4xx or 5xx status is not an error.
 * @example
 * ```ts
 * function* createUser(base: string, name: string) {
 *   const res = yield* request({ url: `${base}/users`, method: "POST", body: JSON.stringify({ name }) });
 *   return yield* res.json();
 * }
 * ```
 */
export function request(options: RequestOptions): Operation<Response> {
  const url = toURL(options?.url, "request()");
  const client = url.protocol === "https:" ? https : http;
  const { method = "GET", headers, body, agent } = options;
  const send = action<Response>((resolve, reject) => {
    const req = client.request(url, { method, headers, agent });
    req.on("error", reject);
    req.on("response", (res) => resolve(new Response(req, res)));
    req.end(body);
    return () => req.destroy();
  });
  return resource(send, (res) => res.close());
}

/**
 * `request({ url })`: a GET.
 *
 * @throws as {@link request}.
 * @example
 * ```ts
 * function* getPage(url: string) {
 *   const res = yield* get(url);
 *   return yield* res.text();
 * }
 * ```
 */
export function get(url: string | URL, options: Omit<RequestOptions, "url" | "method"> = {}): Operation<Response> {
  return request({ ...options, url });
}

function toURL(url: unknown, where: string): URL {
  if (typeof url !== "string" && !(url instanceof URL)) throw new TypeError(`${where} expects a URL, got ${describe(url)}`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`${where} expects an absolute URL, got ${describe(url)}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new TypeError(`${where} expects an http: or https: URL, got ${describe(String(url))}`);
  }
  return parsed;
}

/**
 * A request received by a {@link serve} handler: method, URL, headers, and the body as a
 * stream or whole (`text()`, `json()`).
 *
 * @example
 * ```ts
 * function* handler(req: Request, res: Reply) {
 *   const order = yield* req.json();
 *   yield* res.json({ received: order });
 * }
 * ```
 */
export class Request extends Body {
  /** `GET`, `POST`, … */
  readonly method: string;
  /** The path and query, as sent: `/users?page=2`. */
  readonly url: string;
  /** The headers, names in lower case. */
  readonly headers: http.IncomingHttpHeaders;

  /** @internal */
  constructor(readonly message: http.IncomingMessage) {
    super(message, false); // a request emits 'error' only to listeners: listen when reading
    this.method = message.method!;
    this.url = message.url!;
    this.headers = message.headers;
  }
}

/**
 * The response a {@link serve} handler writes: set the status and headers, then `write`
 * chunks (waiting when the client reads slowly) and `end`, or send it all with `end(body)` or
 * `json(value)`. A handler that returns without ending ends it; one that fails before sending
 * anything gets a 500.
 *
 * @example
 * ```ts
 * function* hello(req: Request, res: Reply) {
 *   res.status(200).header("content-type", "text/plain");
 *   yield* res.end("hello\n");
 * }
 * ```
 */
export class Reply {
  /** @internal */
  constructor(readonly response: http.ServerResponse) {}

  /**
   * Set the status code (default 200).
   *
   * @example
   * ```ts
   * res.status(404);
   * ```
   */
  status(code: number): this {
    this.response.statusCode = code;
    return this;
  }

  /**
   * Set a header, before anything is written.
   *
   * @example
   * ```ts
   * res.header("cache-control", "no-store");
   * ```
   */
  header(name: string, value: string | number | readonly string[]): this {
    this.response.setHeader(name, value);
    return this;
  }

  /**
   * Send a chunk of the body; waits for `drain` when the client is slower than the handler.
   *
   * @example
   * ```ts
   * for (const row of rows) yield* res.write(JSON.stringify(row) + "\n");
   * ```
   */
  write(chunk: string | Uint8Array): Operation<void> {
    return writeAll(this.response, chunk);
  }

  /**
   * Finish the response, with an optional last chunk. It returns at once unless the socket could
   * not take the body (a slow client, a large body), in which case it waits for it to drain.
   *
   * @example
   * ```ts
   * yield* res.end("done\n");
   * ```
   */
  end(body?: string | Uint8Array): Operation<void> {
    return endReply(this.response, body);
  }

  /**
   * Send `value` as JSON (`content-type: application/json`) and finish.
   *
   * @example
   * ```ts
   * yield* res.json({ ok: true });
   * ```
   */
  *json(value: unknown): Operation<void> {
    this.response.setHeader("content-type", "application/json");
    yield* endReply(this.response, JSON.stringify(value));
  }
}

/**
 * A handler of {@link serve}: a coroutine per request.
 *
 * @example
 * ```ts
 * const handler: Handler = function* (req, res) {
 *   yield* res.end(`you asked for ${req.url}\n`);
 * };
 * ```
 */
export type Handler = (req: Request, res: Reply) => Operation<unknown>;

/**
 * Serve HTTP: run `handler(req, res)` as a task per request. The server belongs to the caller's
 * scope and owns the handlers. A handler's error is reported (the scheduler's `onError`) and
 * answered with a 500 if nothing was sent yet; a client that goes away cancels its handler.
 * Closing the server (or ending its scope) stops listening, cancels every handler and frees the
 * port. It is a {@link Server}, as `listen` returns; its options are `listen`'s
 * ({@link ListenOptions}: the port, the address, the backlog of connections not yet accepted).
 *
 * @throws RangeError at the call for an invalid port or backlog; TypeError if `handler` is not a
 * function; the listen error (`EADDRINUSE`, …) at the `yield*`.
 * @example
 * ```ts
 * function* main() {
 *   const server = yield* serve({ port: 0 }, function* (req, res) {
 *     yield* res.json({ path: req.url });
 *   });
 *   const reply = yield* get(`http://127.0.0.1:${server.port}/hi`);
 *   console.log(yield* reply.json()); // { path: "/hi" }
 * }
 * ```
 */
export function serve(options: ListenOptions, handler: Handler): Operation<Server> {
  const { port = 0, host = "127.0.0.1", backlog } = options ?? {};
  checkPort(port, "serve()");
  checkBacklog(backlog, "serve()");
  checkFunction(handler, "the handler", "serve()");
  return startServer({ port, host, backlog }, handler);
}

function* startServer(where: Where, handler: Handler): Operation<Server> {
  const raw = http.createServer();
  const subscribe = (push: (res: http.ServerResponse) => void) => {
    const onRequest = (_req: http.IncomingMessage, res: http.ServerResponse) => push(res);
    raw.on("request", onRequest);
    return () => void raw.off("request", onRequest);
  };
  const drop = (res: http.ServerResponse) => void res.req.socket.destroy();
  const eager = Object.prototype.toString.call(handler) === "[object GeneratorFunction]";
  // The handler's name is in its task's, since no frame of its own tells it in a logical stack
  // (an error thrown in a `call` inside the handler would not name it otherwise).
  const name = typeof handler.name === "string" && handler.name !== "" ? `request ${handler.name}` : "request";
  const handle = (res: http.ServerResponse, server: Task<void>) => void new Exchange(res, handler, eager, server, name);
  return yield* serveConnections(raw, where, subscribe, drop, handle, (p, task, shut) => new Server(p, task, shut));
}

/** The body of a 500 (ASCII: its length in bytes). */
const ERROR_BODY = "Internal Server Error\n";

/** The head of a connection's list of exchanges in flight. */
interface Link {
  next: Exchange | null;
}

/** Each connection's exchanges in flight (a list head): one `close` listener a connection, not a
 * listener added and removed on every response. */
const inFlight = new WeakMap<Socket, Link>();

/**
 * One request and its handler's task, made in the request's event callback. The task is the
 * handler's own error boundary (see `setBoundary` in the core): its body is the handler itself,
 * and when it is over (its children too), `ended` finishes the response or reports the failure,
 * which never reaches the server: one task a request, and no `call` for a scope of its own (a
 * generator, an effect and a frame more a request; see docs/performance.md, the ninth round).
 * It is also the request's place in its connection's list of exchanges in flight, so that a
 * client that goes away cancels it.
 */
class Exchange implements Boundary {
  readonly task: Task;
  prev: Link | null = null;
  next: Exchange | null = null;

  constructor(
    readonly res: http.ServerResponse,
    handler: Handler,
    eager: boolean,
    server: Task<void>,
    name: string,
  ) {
    const request = new Request(res.req);
    const reply = new Reply(res);
    let op: OperationLike<unknown>;
    if (!eager) op = () => handler(request, reply);
    else {
      // A generator function runs none of its body when called: its generator is made here.
      try {
        op = handler(request, reply);
      } catch (e) {
        op = () => {
          throw e; // a parameter's default that throws: the handler's failure, as if called in its task
        };
      }
    }
    const task = server.sched.child(server.top, op, FORK, name);
    setBoundary(task, this);
    this.task = task;
    watch(res.req.socket, this);
  }

  /** The handler's task is over. A handler that returns without ending ends it; one that failed
   * (or whose child did, or whose end node refused) is reported and answered with a 500 if
   * nothing was sent yet; a cancelled one's response is dropped. Nothing here may throw past
   * the response: it would be left open, its client waiting for ever. */
  ended(t: Task): void {
    const res = this.res;
    unwatch(this);
    try {
      let failed = (t.flags & FAILED) !== 0;
      let error = t.result;
      if (!failed && !(t.flags & HALTED) && !res.writableEnded) {
        try {
          res.end();
        } catch (e) {
          // A status code or message that node refuses, set by the handler: its failure, as if it
          // had ended the response itself and that had thrown.
          failed = true;
          error = e;
        }
      }
      if (failed) {
        t.sched.report(error, t, `${res.req.method} ${res.req.url} failed`);
        if (!res.headersSent && !res.destroyed) {
          // The reason and the length given: neither a status message the handler set nor the
          // length a refused end left behind may spoil the 500.
          res.writeHead(500, "Internal Server Error", { "content-type": "text/plain", "content-length": ERROR_BODY.length, connection: "close" }).end(ERROR_BODY);
        } else if (!res.writableFinished) {
          res.destroy(); // half sent: the client must not take it for the whole response
        }
      }
    } finally {
      if (!res.writableEnded) res.destroy(); // cancelled, or not answerable: the response is dropped
    }
  }
}

/** Note `x` as answering on `socket`: a client that goes away (the connection closes before the
 * response is finished) cancels its task. */
function watch(socket: Socket, x: Exchange): void {
  let head = inFlight.get(socket);
  if (head === undefined) {
    const list: Link = { next: null }; // the head: no exchange
    head = list;
    inFlight.set(socket, list);
    socket.once("close", () => {
      for (let f = list.next; f !== null; f = f.next) if (!f.res.writableFinished) void f.task.cancel(); // the client went away
    });
  }
  x.prev = head;
  x.next = head.next;
  if (x.next !== null) x.next.prev = x;
  head.next = x;
  // Destroyed already: its close may have been emitted before this exchange was in the list.
  if (socket.destroyed) void x.task.cancel();
}

function unwatch(x: Exchange): void {
  if (x.prev !== null) x.prev.next = x.next;
  if (x.next !== null) x.next.prev = x.prev;
  x.prev = x.next = null;
}
