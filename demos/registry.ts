// Every demo, in the order `npm run demo -- --list` shows them.
import type { Demo } from "./demo.js";
import { demo as blogPost } from "./blog-post.js";
import { demo as cpuOffload } from "./cpu-offload.js";
import { demo as crawler } from "./crawler.js";
import { demo as distributed } from "./distributed.js";
import { demo as downloadPages } from "./download-pages.js";
import { demo as jobQueue } from "./job-queue.js";
import { demo as million } from "./million.js";
import { demo as processes } from "./processes.js";
import { demo as syncVsAsync } from "./sync-vs-async-server.js";

export const demos: Record<string, Demo> = {
  "download-pages": downloadPages,
  "blog-post": blogPost,
  "sync-vs-async-server": syncVsAsync,
  "job-queue": jobQueue,
  processes,
  "cpu-offload": cpuOffload,
  million,
  crawler,
  distributed,
};
