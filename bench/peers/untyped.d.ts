// Minimal declarations for the bench's peers that ship no types.
declare module "co" {
  function co<A extends unknown[], R>(gen: (...args: A) => Generator<unknown, R, any>, ...args: A): Promise<R>;
  export default co;
}
declare module "js-csp" {
  interface Channel {}
  const csp: {
    go(gen: (...args: any[]) => Generator<unknown, unknown, any>, args?: unknown[]): Channel;
    timeout(ms: number): Channel;
    takeAsync(ch: Channel, callback: (value: any) => void): void;
    chan(): Channel;
    take(ch: Channel): unknown;
    put(ch: Channel, value: unknown): unknown;
  };
  export default csp;
}
