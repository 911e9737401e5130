export declare function countPrimes(n: number): number;
