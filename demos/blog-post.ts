// The seeds' handleBlogPostRequest: fetch a post and its comments from a JSON service, render
// the page. Written three ways — callbacks, promises, a skein coroutine — run against the same
// local service; the three pages must match. Then the shape of each version, side by side.
import { readFileSync } from "node:fs";
import * as http from "node:http";
import { fileURLToPath } from "node:url";
import { call, sleep, wait, type Operation } from "../lib/index.js";
import { get, serve } from "../lib/node/index.js";
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

// ---- 3. a skein coroutine: top to bottom, like blocking code ---------------------------------

function* handleBlogPostRequest(base: string, id: number): Operation<string> {
  const post = yield* get(`${base}/posts/${id}`);
  const comments = yield* get(`${base}/posts/${id}/comments`);
  return render((yield* post.json()) as Post, (yield* comments.json()) as Comment[]);
}

/**
 * The shape of a function as written in this file: lines, characters (runs of blanks counted
 * as one) and nesting (the deepest indentation inside it, in levels of two spaces).
 */
export function shape(name: string): { lines: number; chars: number; depth: number } {
  const lines = readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n");
  const start = lines.findIndex((l) => new RegExp(`^function\\*? ${name}\\(`).test(l));
  const end = lines.indexOf("}", start);
  const body = lines.slice(start, end + 1).filter((l) => l.trim() !== "");
  const depth = Math.max(...body.slice(1, -1).map((l) => l.search(/\S/) / 2));
  return { lines: body.length, chars: body.join(" ").replace(/\s+/g, " ").length, depth };
}

export const demo: Demo = {
  summary: "the seeds' handleBlogPostRequest with callbacks, with promises and as a coroutine: same page, flatter code",
  *main({ quick, log }) {
    const latency = quick ? 10 : 50;
    const post: Post = { id: 7, title: "Coroutines in TypeScript", author: "Ada", body: "They read like blocking code." };
    const comments: Comment[] = [
      { author: "Grace", text: "No more callback pyramids." },
      { author: "Linus", text: "And cancellation?" },
    ];
    const service = yield* serve({ port: 0 }, function* (req, res) {
      yield* sleep(latency); // the database behind the service
      if (req.url === "/posts/7") return yield* res.json(post);
      if (req.url === "/posts/7/comments") return yield* res.json(comments);
      yield* res.status(404).json({ error: "not found" });
    });
    const base = `http://127.0.0.1:${service.port}`;
    log(`A local JSON service answers after ${latency} ms.\n`);

    // Each version once untimed, so that no one pays for loading a client (fetch's, say).
    yield* call(() => new Promise<void>((resolve) => handleBlogPostRequestCallbacks(base, 7, () => resolve())));
    yield* wait(handleBlogPostRequestPromises(base, 7));
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
    const [viaSkein, tSkein] = yield* timed(() => handleBlogPostRequest(base, 7));
    const same = viaCallbacks === viaPromises && viaPromises === viaSkein;
    log(viaSkein);
    log(`\nThe three versions render ${same ? "the same page" : "DIFFERENT pages"}.\n`);

    const rows = [
      ["callbacks", shape("handleBlogPostRequestCallbacks"), tCallbacks],
      ["promises", shape("handleBlogPostRequestPromises"), tPromises],
      ["skein coroutine", shape("handleBlogPostRequest"), tSkein],
    ] as const;
    log(`${"version".padEnd(16)} ${"lines".padStart(5)} ${"chars".padStart(6)} ${"nesting".padStart(8)} ${"time".padStart(8)}`);
    for (const [name, s, t] of rows) {
      log(`${name.padEnd(16)} ${String(s.lines).padStart(5)} ${String(s.chars).padStart(6)} ${String(s.depth).padStart(8)} ${`${t.toFixed(0)} ms`.padStart(8)}`);
    }
    log("\nThe coroutine is the shortest and flattest, and errors need no plumbing: a failed");
    log("request throws at its yield*, where a try/catch (or the caller) handles it.");
    yield* service.close();
    return {
      same: same ? 1 : 0,
      callbacksDepth: rows[0][1].depth,
      promisesDepth: rows[1][1].depth,
      skeinDepth: rows[2][1].depth,
      callbacksChars: rows[0][1].chars,
      skeinChars: rows[2][1].chars,
    };
  },
};
