export declare function tiny(x: number): number;
export declare function primes(n: number): number;
