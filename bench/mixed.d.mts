/** Yield a program's mix of effects on scheduler `s`, from skein module `m`; resolves when done. */
export declare function mixEffects(m: typeof import("../lib/index.js"), s: import("../lib/index.js").Scheduler): Promise<void>;
