// The seeds' handleBlogPostRequest: fetch a post and its comments from a JSON service, render
// the page. Written four ways — callbacks, a .then chain, async/await, a skein coroutine — run
// against the same local service; the four pages must match. Then the shape of each version,
// side by side: async/await is as flat as the coroutine. Then what the coroutine adds over
// async/await, each shown by a run: a deadline that stops the work (async/await leaves it
// running), a failure that stops its siblings (Promise.all leaves them running and drops their
// errors), and a task that cannot be forgotten (a forgotten promise's error surfaces later, alone).
import { readFileSync } from "node:fs";
import * as http from "node:http";
import { fileURLToPath } from "node:url";
import { all, call, fork, isCancelled, sleep, timeout, TimeoutError, wait, type Operation } from "../lib/index.js";
import { get, request, serve } from "../lib/node/index.js";
import type { Demo } from "./demo.js";
import { timed } from "./timeline.js";

interface Post {
  id: number;
  title: string;
  author: string;
  body: string;
}
interface Comment {
  author: string;
  text: string;
}

function render(post: Post, comments: Comment[]): string {
  const items = comments.map((c) => `    <li><b>${c.author}</b>: ${c.text}</li>`).join("\n");
  return `<article>\n  <h1>${post.title}</h1>\n  <p>by ${post.author}</p>\n  <p>${post.body}</p>\n  <ul>\n${items}\n  </ul>\n</article>`;
}

// ---- 1. callbacks: every step nests inside the previous one's callback ------------------------

function getJSONCallback(url: string, done: (err: Error | null, value?: unknown) => void): void {
  http
    .get(url, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => {
        try {
          done(null, JSON.parse(text));
        } catch (e) {
          done(e as Error);
        }
      });
    })
    .on("error", done);
}

function handleBlogPostRequestCallbacks(base: string, id: number, done: (err: Error | null, page?: string) => void): void {
  getJSONCallback(`${base}/posts/${id}`, (err, post) => {
    if (err) {
      done(err);
    } else {
      getJSONCallback(`${base}/posts/${id}/comments`, (err2, comments) => {
        if (err2) {
          done(err2);
        } else {
          done(null, render(post as Post, comments as Comment[]));
        }
      });
    }
  });
}

// ---- 2. promises: a chain, each step a callback to then() ------------------------------------

function handleBlogPostRequestPromises(base: string, id: number): Promise<string> {
  return fetch(`${base}/posts/${id}`)
    .then((res) => res.json() as Promise<Post>)
    .then((post) =>
      fetch(`${base}/posts/${id}/comments`)
        .then((res) => res.json() as Promise<Comment[]>)
        .then((comments) => render(post, comments)),
    );
}

// ---- 3. async/await: top to bottom too ---------------------------------------------------------

async function handleBlogPostRequestAsync(base: string, id: number): Promise<string> {
  const post = await fetch(`${base}/posts/${id}`);
  const comments = await fetch(`${base}/posts/${id}/comments`);
  return render((await post.json()) as Post, (await comments.json()) as Comment[]);
}

// ---- 4. a skein coroutine: top to bottom, like blocking code ---------------------------------

function* handleBlogPostRequest(base: string, id: number): Operation<string> {
  const post = yield* get(`${base}/posts/${id}`);
  const comments = yield* get(`${base}/posts/${id}/comments`);
  return render((yield* post.json()) as Post, (yield* comments.json()) as Comment[]);
}

// ---- what the coroutine adds over async/await: the same requests, shown failing -------------

/** A JSON GET that fails on an error status: with fetch for async/await, with get for skein. */
async function getJSONAsync(url: string): Promise<unknown> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${res.status} from ${new URL(url).pathname}`);
  return res.json();
}
function* getJSON(url: string): Operation<unknown> {
  const res = yield* get(url);
  if (res.status !== 200) throw new Error(`${res.status} from ${new URL(url).pathname}`);
  return yield* res.json();
}

/** The post and its comments at once: a failure of one meets the other half-way. */
async function bothAsync(base: string, id: number): Promise<string> {
  const [post, comments] = await Promise.all([getJSONAsync(`${base}/posts/${id}`), getJSONAsync(`${base}/posts/${id}/comments`)]);
  return render(post as Post, comments as Comment[]);
}
function* both(base: string, id: number): Operation<string> {
  const [post, comments] = yield* all([getJSON(`${base}/posts/${id}`), getJSON(`${base}/posts/${id}/comments`)]);
  return render(post as Post, comments as Comment[]);
}

/** The page, and the view recorded without waiting for it. */
async function recordViewAsync(base: string, id: number): Promise<void> {
  const res = await fetch(`${base}/views/${id}`, { method: "POST" });
  if (!res.ok) throw new Error(`${res.status} from /views/${id}`);
}
async function loggedAsync(base: string, id: number): Promise<string> {
  recordViewAsync(base, id); // not awaited: no one holds this promise
  return handleBlogPostRequestAsync(base, id);
}
function* recordView(base: string, id: number): Operation<void> {
  const res = yield* request({ url: `${base}/views/${id}`, method: "POST" });
  if (res.status !== 200) throw new Error(`${res.status} from /views/${id}`);
}
function* logged(base: string, id: number): Operation<string> {
  yield* fork(recordView(base, id)); // not waited for here: the caller's scope waits for it
  return yield* handleBlogPostRequest(base, id);
}

/**
 * The shape of a function as written in this file: lines, characters (runs of blanks counted
 * as one) and nesting (the deepest indentation inside it, in levels of two spaces).
 */
export function shape(name: string): { lines: number; chars: number; depth: number } {
  const lines = readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n");
  const start = lines.findIndex((l) => new RegExp(`^(async )?function\\*? ${name}\\(`).test(l));
  const end = lines.indexOf("}", start);
  const body = lines.slice(start, end + 1).filter((l) => l.trim() !== "");
  const depth = Math.max(...body.slice(1, -1).map((l) => l.search(/\S/) / 2));
  return { lines: body.length, chars: body.join(" ").replace(/\s+/g, " ").length, depth };
}

/** What the service did with one request: answered it (with a status), or saw its client leave. */
interface Served {
  path: string;
  at: number;
  what: string;
}

export const demo: Demo = {
  summary: "the seeds' handleBlogPostRequest with callbacks, .then, async/await and as a coroutine; what coroutines add over async/await",
  *main({ quick, log }) {
    const latency = quick ? 20 : 50;
    const slow = quick ? 200 : 400; // far beyond the jitter of a loaded machine
    const post: Post = { id: 7, title: "Coroutines in TypeScript", author: "Ada", body: "They read like blocking code." };
    const comments: Comment[] = [
      { author: "Grace", text: "No more callback pyramids." },
      { author: "Linus", text: "And cancellation?" },
    ];
    // Post 7 is the page; post 8's comments are slow; post 9 and its comments fail (slowly, for
    // the comments); recording a view fails.
    const routes: Record<string, [ms: number, status: number, body: unknown]> = {
      "GET /posts/7": [latency, 200, post],
      "GET /posts/7/comments": [latency, 200, comments],
      "GET /posts/8": [latency, 200, post],
      "GET /posts/8/comments": [slow, 200, comments],
      "GET /posts/9": [latency, 404, { error: "no post 9" }],
      "GET /posts/9/comments": [slow, 500, { error: "the comments database is down" }],
      "POST /views/7": [latency / 2, 500, { error: "the view counter is down" }],
    };
    let origin = performance.now();
    const since = () => Math.round(performance.now() - origin);
    const served: Served[] = [];
    const service = yield* serve({ port: 0 }, function* (req, res) {
      const [ms, status, body] = routes[`${req.method} ${req.url}`] ?? [0, 404, { error: "not found" }];
      let answered = false;
      try {
        yield* sleep(ms); // the database behind the service
        yield* res.status(status).json(body);
        answered = true;
      } finally {
        served.push({ path: req.url, at: since(), what: answered ? `answered ${status}` : "saw the client leave" });
      }
    });
    const base = `http://127.0.0.1:${service.port}`;
    log(`A local JSON service answers after ${latency} ms.\n`);

    // Each version once untimed, so that no one pays for loading a client (fetch's, say).
    yield* call(() => new Promise<void>((resolve) => handleBlogPostRequestCallbacks(base, 7, () => resolve())));
    yield* wait(handleBlogPostRequestPromises(base, 7));
    yield* wait(handleBlogPostRequestAsync(base, 7));
    yield* handleBlogPostRequest(base, 7);
    const [viaCallbacks, tCallbacks] = yield* timed(() =>
      call(
        () =>
          new Promise<string>((resolve, reject) =>
            handleBlogPostRequestCallbacks(base, 7, (err, page) => (err ? reject(err) : resolve(page!))),
          ),
      ),
    );
    const [viaPromises, tPromises] = yield* timed(() => wait(handleBlogPostRequestPromises(base, 7)));
    const [viaAsync, tAsync] = yield* timed(() => wait(handleBlogPostRequestAsync(base, 7)));
    const [viaSkein, tSkein] = yield* timed(() => handleBlogPostRequest(base, 7));
    const same = viaCallbacks === viaPromises && viaPromises === viaAsync && viaAsync === viaSkein;
    log(viaSkein);
    log(`\nThe four versions render ${same ? "the same page" : "DIFFERENT pages"}.\n`);

    const rows = [
      ["callbacks", shape("handleBlogPostRequestCallbacks"), tCallbacks],
      [".then chain", shape("handleBlogPostRequestPromises"), tPromises],
      ["async/await", shape("handleBlogPostRequestAsync"), tAsync],
      ["skein coroutine", shape("handleBlogPostRequest"), tSkein],
    ] as const;
    log(`${"version".padEnd(16)} ${"lines".padStart(5)} ${"chars".padStart(6)} ${"nesting".padStart(8)} ${"time".padStart(8)}`);
    for (const [name, s, t] of rows) {
      log(`${name.padEnd(16)} ${String(s.lines).padStart(5)} ${String(s.chars).padStart(6)} ${String(s.depth).padStart(8)} ${`${t.toFixed(0)} ms`.padStart(8)}`);
    }
    log("\nasync/await reads as flat as the coroutine, and a failed request throws at its await as it");
    log("does at a yield*. What the coroutine adds is what happens around the code: who stops the");
    log("work nobody wants any more, who waits for it, and who hears of its errors. Three runs, the");
    log(`same requests each way (the slow replies take ${slow} ms):\n`);

    // A promise's rejection that no one handles: Node's default would end the process; listen.
    const unhandled: { error: string; at: number }[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push({ error: (reason as Error).message, at: since() });
    process.on("unhandledRejection", onUnhandled);
    const seen = (path: string) => () => served.some((s) => s.path === path);
    const what = (path: string) => served.filter((s) => s.path === path).map((s) => `${s.what} at ${s.at} ms`).join(", ") || "never saw it";
    let claims: Record<string, number>;
    try {
      // 1. A deadline: cancellation.
      const deadline = (latency + slow) / 2; // the post is in, its comments are not
      log(`1. A deadline of ${deadline} ms on post 8, whose comments take ${slow} ms.`);
      served.length = 0;
      origin = performance.now();
      let asyncRendered: number | undefined;
      const work = handleBlogPostRequestAsync(base, 8).then(() => void (asyncRendered = since()));
      const timer = new Promise<never>((_, reject) => setTimeout(() => reject(new TimeoutError(deadline)), deadline));
      const asyncGaveUp = yield* gaveUp(wait(Promise.race([work, timer])), since);
      yield* eventually(() => asyncRendered !== undefined && seen("/posts/8/comments")());
      const asyncLeft = what("/posts/8/comments");
      log(`   async/await, Promise.race with a timer: ${asyncGaveUp}. The handler ran on: the service`);
      log(`     ${asyncLeft} for /posts/8/comments; the page was rendered at ${asyncRendered ?? "-"} ms, for no one.`);
      served.length = 0;
      origin = performance.now();
      let skeinRendered: number | undefined;
      const skeinGaveUp = yield* gaveUp(
        timeout(deadline, function* () {
          yield* handleBlogPostRequest(base, 8);
          skeinRendered = since();
        }),
        since,
      );
      yield* eventually(seen("/posts/8/comments"));
      const skeinLeft = what("/posts/8/comments");
      log(`   skein, timeout(): ${skeinGaveUp}, after its request was aborted: the service`);
      log(`     ${skeinLeft} for /posts/8/comments; ${skeinRendered === undefined ? "nothing was rendered" : `the page was rendered at ${skeinRendered} ms`}.\n`);

      // 2. A failure among siblings: ownership.
      log(`2. Post 9 and its comments at once: the post fails (404), the comments later (500).`);
      served.length = 0;
      origin = performance.now();
      const asyncFailed = yield* gaveUp(wait(bothAsync(base, 9)), since);
      yield* eventually(seen("/posts/9/comments"));
      yield* sleep(latency); // time for an unhandled rejection to be reported, if there were one
      const asyncSibling = what("/posts/9/comments");
      log(`   async/await, Promise.all: ${asyncFailed}. The comments request ran on: the service`);
      log(`     ${asyncSibling}; that 500 became an error no one saw (Promise.all had settled; not even`);
      log(`     an unhandled rejection: ${unhandled.length} so far).`);
      served.length = 0;
      origin = performance.now();
      const skeinFailed = yield* gaveUp(both(base, 9), since);
      yield* eventually(seen("/posts/9/comments"));
      const skeinSibling = what("/posts/9/comments");
      log(`   skein, all(): ${skeinFailed}, after the comments request was cancelled: the service`);
      log(`     ${skeinSibling}.\n`);

      // 3. A task nobody waits for: no lost errors.
      log(`3. Post 7, recording the view without waiting for it; the view counter fails (500).`);
      served.length = 0;
      origin = performance.now();
      const asyncLogged = yield* gaveUp(wait(loggedAsync(base, 7)), since);
      yield* eventually(() => unhandled.some((u) => u.error.includes("/views/7")));
      const lost = unhandled.find((u) => u.error.includes("/views/7"));
      log(`   async/await, a promise not awaited: ${asyncLogged}. The view's failure surfaced on its own,`);
      log(`     as an unhandled rejection at ${lost?.at ?? "-"} ms, with no caller to handle it (by default Node ends`);
      log(`     the process on one; this demo listens for them).`);
      served.length = 0;
      origin = performance.now();
      const skeinLogged = yield* gaveUp(call(() => logged(base, 7)), since);
      yield* eventually(seen("/posts/7"));
      const skeinPage = what("/posts/7");
      log(`   skein, fork(): ${skeinLogged}, at the caller's yield*: the fork belongs to the`);
      log(`     caller's scope, and its failure cancelled the page's request (the service ${skeinPage}`);
      log(`     for /posts/7).\n`);

      log("async/await can do each of these with discipline: an AbortSignal passed to every call for the");
      log("deadline (fetch takes one), an AbortController per group of siblings, no promise left");
      log("unawaited (a lint rule). A coroutine has them by construction: every wait can be cancelled,");
      log("every task has an owner that waits for it, and every error reaches someone.");
      claims = {
        deadlineAsyncRendered: asyncRendered === undefined ? 0 : 1,
        deadlineAsyncAnswered: asyncLeft.startsWith("answered") ? 1 : 0,
        deadlineSkeinRendered: skeinRendered === undefined ? 0 : 1,
        deadlineSkeinLeft: skeinLeft.startsWith("saw the client leave") ? 1 : 0,
        siblingAsyncAnswered: asyncSibling.startsWith("answered 500") ? 1 : 0,
        siblingSkeinLeft: skeinSibling.startsWith("saw the client leave") ? 1 : 0,
        forgottenAsyncUnhandled: lost === undefined ? 0 : 1,
        forgottenAsyncGotPage: asyncLogged.startsWith("got the page") ? 1 : 0,
        forgottenSkeinFailed: skeinLogged.includes("500 from /views/7") ? 1 : 0,
        forgottenSkeinLeft: skeinPage.startsWith("saw the client leave") ? 1 : 0,
      };
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
    yield* service.close();
    return {
      same: same ? 1 : 0,
      callbacksDepth: rows[0][1].depth,
      promisesDepth: rows[1][1].depth,
      asyncDepth: rows[2][1].depth,
      skeinDepth: rows[3][1].depth,
      callbacksChars: rows[0][1].chars,
      asyncChars: rows[2][1].chars,
      skeinChars: rows[3][1].chars,
      ...claims,
    };
  },
};

/** Wait until `test()` holds, checking every 5 ms, for at most 5 s (a loaded machine is slow). */
function* eventually(test: () => boolean): Operation<void> {
  for (const end = performance.now() + 5000; !test() && performance.now() < end; ) yield* sleep(5);
}

/** Run `op` and say how it ended for the caller: "got the page at 20 ms", "TimeoutError at 20 ms". */
function* gaveUp(op: Operation<unknown>, since: () => number): Operation<string> {
  try {
    yield* op;
    return `got the page at ${since()} ms`;
  } catch (e) {
    if (isCancelled(e)) throw e;
    const error = e as Error;
    return `${error instanceof TimeoutError ? "TimeoutError" : `"${error.message}"`} at ${since()} ms`;
  }
}
