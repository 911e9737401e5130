// The Lua scripts of skein/redis: each step that must read and change the stream at once
// (claim or dead-letter, ack, fail, give back, send under a bound) runs as one script in Redis.

import type { Redis } from "ioredis";
import { createHash } from "node:crypto";

/** @internal A Lua script, run by its SHA1 and loaded again when Redis does not know it (after a restart). */
export class Script {
  readonly sha: string;
  constructor(readonly lua: string) {
    this.sha = createHash("sha1").update(lua).digest("hex");
  }
  async run(redis: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (e) {
      if (!String((e as Error).message).startsWith("NOSCRIPT")) throw e;
      return await redis.eval(this.lua, keys.length, ...keys, ...args);
    }
  }
}

// Keys: 1 the stream, 2 the dead-letter stream, 3 the hash of last errors (by entry id).
// The entry's fields are ["data", json]; a dead letter's are id, data, attempts, error.
const DEAD_LETTER = `
local function deadLetter(id, times, err)
  local e = redis.call('XRANGE', KEYS[1], id, id)
  if e[1] then
    err = err or redis.call('HGET', KEYS[3], id) or 'no error was recorded: each attempt ended without an ack (its consumer crashed, was killed, or lost Redis)'
    redis.call('XADD', KEYS[2], '*', 'id', id, 'data', e[1][2][2], 'attempts', times, 'error', err)
  end
  redis.call('XACK', KEYS[1], ARGV[1], id)
  redis.call('XDEL', KEYS[1], id)
  redis.call('HDEL', KEYS[3], id)
end
`;

/** @internal Claim up to ARGV[4] entries idle for ARGV[3] ms or more for consumer ARGV[2] of
 * group ARGV[1]; those delivered ARGV[5] times already go to the dead letters instead.
 * Returns [id, data, attempt, lastError|false] for each claimed entry. */
export const claim = new Script(`${DEAD_LETTER}
local out = {}
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], 'IDLE', ARGV[3], '-', '+', ARGV[4])
for _, p in ipairs(pending) do
  local id, times = p[1], p[4]
  if times >= tonumber(ARGV[5]) then
    deadLetter(id, times, nil)
  else
    local c = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], id)
    if c[1] then
      table.insert(out, {id, c[1][2][2], times + 1, redis.call('HGET', KEYS[3], id) or false})
    else
      redis.call('XACK', KEYS[1], ARGV[1], id)
    end
  end
end
return out
`);

/** @internal Ack and delete the entries ARGV[2…] of group ARGV[1]; returns how many were still pending. */
export const ack = new Script(`
local n = 0
for i = 2, #ARGV do
  n = n + redis.call('XACK', KEYS[1], ARGV[1], ARGV[i])
  redis.call('XDEL', KEYS[1], ARGV[i])
  redis.call('HDEL', KEYS[3], ARGV[i])
end
return n
`);

/** @internal Entry ARGV[3] failed with error ARGV[4]: dead-letter it once delivered ARGV[6] times,
 * else keep the error and make it claimable again after ARGV[5] ms. Returns "dead", "retry" or
 * "gone" (no longer pending: someone acked it). */
export const fail = new Script(`${DEAD_LETTER}
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if not p[1] then return 'gone' end
if p[1][4] >= tonumber(ARGV[6]) then
  deadLetter(ARGV[3], p[1][4], ARGV[4])
  return 'dead'
end
redis.call('HSET', KEYS[3], ARGV[3], ARGV[4])
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'IDLE', ARGV[5], 'JUSTID')
return 'retry'
`);

/** @internal Give back entries taken but never handed out, or handed out and abandoned: pairs
 * (id, delivery count) from ARGV[4]; each becomes claimable at once (idle ARGV[3] ms) with its
 * count set as given, and only if it is still this consumer's (ARGV[2]). */
export const release = new Script(`
for i = 4, #ARGV, 2 do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if p[1] and p[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'IDLE', ARGV[3], 'RETRYCOUNT', ARGV[i + 1], 'JUSTID')
  end
end
return 0
`);

/** @internal Keep the entries ARGV[3…] that consumer ARGV[2] still holds from going idle (a heartbeat). */
export const touch = new Script(`
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if p[1] and p[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
  end
end
return 0
`);

/** @internal Add ARGV[2] unless the stream holds ARGV[1] entries or more; returns the id, or nil when full. */
export const send = new Script(`
if redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[1]) then return false end
return redis.call('XADD', KEYS[1], '*', 'data', ARGV[2])
`);
