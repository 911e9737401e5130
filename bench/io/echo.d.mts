export interface EchoOptions {
  clients: number;
  ms?: number;
  messages?: number;
}
/** With `ms`: messages a second and µs of CPU a message over that time; with `messages`: the count. */
export interface EchoRate {
  rate: number;
  cpu: number;
}
export declare function echoSkein(options: EchoOptions & { ms: number }): Promise<EchoRate>;
export declare function echoSkein(options: EchoOptions): Promise<number>;
export declare function echoCallbacks(options: EchoOptions & { ms: number }): Promise<EchoRate>;
export declare function echoCallbacks(options: EchoOptions): Promise<number>;
