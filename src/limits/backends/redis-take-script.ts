import { createHash } from 'node:crypto';
import type { RateResult, TakeOp, TakeResult } from '../backend.js';
import { LOG, logLength, NOW, rewriteSortedSet } from './redis-scripts.js';

/**
 * The most common take: one rate limit with one sliding window (KEYS[1], as in RATE: a list, see
 * \`logLength\`). ARGV: member, windowMs, limit. The same check-and-take as TAKE, with nothing else
 * to do: the slot count before this call, one integer, when admitted; { used, now, retryAfterMs }
 * when refused (nothing taken). A reply that is one integer, not a table, saves the server and
 * ioredis about 3 µs on every limited action.
 */
export const TAKE_ONE = `
local key = KEYS[1]
local t = redis.call('TIME')
-- The entry's ms spelled from TIME's seconds and microseconds: cheaper than formatting a Lua
-- number.
local ms = t[1] .. string.sub('00000' .. t[2], -6, -4)
local entry = ms .. ' ' .. ARGV[1]
-- Pushed first: RPUSH answers the length, so an admission needs no LLEN. Over the limit, the
-- entry comes off again (nothing else runs inside a script) before the log is trimmed.
local n = redis.pcall('RPUSH', key, entry)
if type(n) ~= 'number' then
  ${rewriteSortedSet('key').trim().replace(/\n/g, '\n  ')}
  n = redis.call('RPUSH', key, entry)
end
local w = tonumber(ARGV[2])
local lim = tonumber(ARGV[3])
if n > lim then
  -- Expired entries only make the count larger: trim them only when it reaches the limit.
  redis.call('RPOP', key)
  local used = n - 1
  ${LOG.trim().replace(/\n/g, '\n  ')}
  local now = tonumber(ms)
  local gone = fresh(key, used, now - w)
  if gone > 0 then
    redis.call('LTRIM', key, gone, -1)
    used = used - gone
  end
  if used >= lim then
    return { used, now, math.max(1, stamp(redis.call('LINDEX', key, used - lim)) + w - now + 1) }
  end
  n = redis.call('RPUSH', key, entry)
end
-- The log must outlive its newest entry by a window. Renewed only when less than a window is left,
-- to two windows: a TTL read costs the server less than a write that Redis propagates.
if redis.call('PTTL', key) < w then redis.call('PEXPIRE', key, w * 2) end
return n - 1
`;

/**
 * All of an action's limits in one atomic call (`LimitsBackend.takeAll`). ARGV[1]: the number of
 * ops; then per op, in order, `r`, windows, member, then per window: windowMs, limit, capacity
 * (KEYS: one per window, as in RATE: a sliding log is a list, see `logLength`); or `b`, hold
 * name, micros, limit micros, hold ttl ms, period end, logical key (KEYS: the four of RESERVE).
 * Ops are checked in order until one refuses; only when none does is every op taken (a second
 * pass over ARGV). Returns one flat array (no tables per op: this script runs on every limited
 * action, and Lua tables are most of its cost): { ok, now, then per op: rate: hit (1-based
 * window, 0 = none), retryAfterMs, used per window; budget: ok, spent, reserved }. An op after
 * the refusing one reports zeros (hit 0 / ok 1).
 */
export const TAKE = `${NOW}${LOG}
local nops = tonumber(ARGV[1])
local out = { 1, now }
local n_out = 2
local tokens = {}
local ok = 1
local a = 2
local k = 1
for o = 1, nops do
  if ARGV[a] == 'r' then
    local n = tonumber(ARGV[a + 1])
    local check = ok == 1
    local at = n_out + 1
    out[at] = 0
    out[at + 1] = 0
    n_out = n_out + 2
    a = a + 3
    for i = 1, n do
      local used = 0
      if check then
        local key = KEYS[k]
        local w = tonumber(ARGV[a])
        local lim = tonumber(ARGV[a + 1])
        local cap = tonumber(ARGV[a + 2])
        if cap == 0 then
          -- Expired entries only make the count larger: trim them only when it reaches the limit.
          ${logLength('len', 'key').trim().replace(/\n/g, '\n          ')}
          used = len
          if used >= lim then
            local gone = fresh(key, used, now - w)
            if gone > 0 then
              redis.call('LTRIM', key, gone, -1)
              used = used - gone
            end
            if used >= lim and out[at] == 0 then
              out[at] = i
              out[at + 1] = math.max(1, stamp(redis.call('LINDEX', key, used - lim)) + w - now + 1)
            end
          end
        else
          local h = redis.call('HMGET', key, 'tokens', 'ts')
          local tk = tonumber(h[1])
          local ts = tonumber(h[2])
          if tk == nil or ts == nil then
            tk = cap
            ts = now
          end
          tk = math.min(cap, tk + (now - ts) * lim / w)
          tokens[k] = tk
          used = cap - math.floor(tk)
          if tk < 1 and out[at] == 0 then
            out[at] = i
            out[at + 1] = math.ceil((1 - tk) * w / lim)
          end
        end
      end
      n_out = n_out + 1
      out[n_out] = used
      k = k + 1
      a = a + 3
    end
    if out[at] > 0 then ok = 0 end
  else
    local r_ok, spent, reserved = 1, 0, 0
    if ok == 1 then
      local expired = redis.call('ZRANGEBYSCORE', KEYS[k + 2], '-inf', now)
      for _, id in ipairs(expired) do
        local m = tonumber(redis.call('HGET', KEYS[k + 1], id)) or 0
        redis.call('HDEL', KEYS[k + 1], id)
        redis.call('ZREM', KEYS[k + 2], id)
        redis.call('HINCRBY', KEYS[k], 'reserved', -m)
      end
      local v = redis.call('HMGET', KEYS[k], 'spent', 'reserved')
      spent = tonumber(v[1]) or 0
      reserved = tonumber(v[2]) or 0
      if spent + reserved + tonumber(ARGV[a + 2]) > tonumber(ARGV[a + 3]) then
        r_ok = 0
        ok = 0
      end
    end
    out[n_out + 1] = r_ok
    out[n_out + 2] = spent
    out[n_out + 3] = reserved
    n_out = n_out + 3
    k = k + 4
    a = a + 7
  end
end
if ok == 0 then
  out[1] = 0
  return out
end
a = 2
k = 1
for o = 1, nops do
  if ARGV[a] == 'r' then
    local n = tonumber(ARGV[a + 1])
    local entry = string.format('%d', now) .. ' ' .. ARGV[a + 2]
    a = a + 3
    for i = 1, n do
      local w = tonumber(ARGV[a])
      if tonumber(ARGV[a + 2]) == 0 then
        redis.call('RPUSH', KEYS[k], entry)
        redis.call('PEXPIRE', KEYS[k], w)
      else
        redis.call('HSET', KEYS[k], 'tokens', string.format('%.17g', tokens[k] - 1), 'ts', now)
        redis.call('PEXPIRE', KEYS[k], w * 2)
      end
      k = k + 1
      a = a + 3
    end
  else
    local name = ARGV[a + 1]
    local micros = ARGV[a + 2]
    local ttl = tonumber(ARGV[a + 4])
    local exp = ARGV[a + 5]
    redis.call('HSET', KEYS[k + 1], name, micros)
    redis.call('ZADD', KEYS[k + 2], now + ttl, name)
    redis.call('HINCRBY', KEYS[k], 'reserved', micros)
    if exp ~= '0' then
      for i = 0, 2 do redis.call('PEXPIREAT', KEYS[k + i], exp) end
    end
    redis.call('SADD', KEYS[k + 3], ARGV[a + 6])
    redis.call('PEXPIRE', KEYS[k + 3], ttl)
    k = k + 4
    a = a + 7
  end
end
return out
`;

/** A script's source and its SHA-1, which EVALSHA names it by. */
export interface LoadedScript {
  lua: string;
  sha: string;
}
const loaded = (lua: string): LoadedScript => ({ lua, sha: createHash('sha1').update(lua).digest('hex') });

/**
 * TAKE_ONE's reply: the slots in use before an admission, or { used, now, retryAfterMs } for a
 * refusal. An admission carries no server clock (nothing reads it): `now` is this process's.
 */
export function oneRate(reply: unknown): RateResult {
  if (typeof reply === 'number')
    return { ok: true, hit: -1, now: Date.now(), retryAfterMs: 0, used: [reply] };
  const [used, now, retryAfterMs] = reply as [number, number, number];
  return { ok: false, hit: 0, now, retryAfterMs, used: [used] };
}

/** TAKE's flat reply (ok, now, then each op's fields in order) as one result per op. */
export function takeResults(ops: readonly TakeOp[], reply: number[]): TakeResult[] {
  const now = reply[1] as number;
  let at = 2;
  return ops.map((op): TakeResult => {
    if (op.kind === 'reserve') {
      const result: TakeResult = {
        kind: 'reserve',
        reserve: { ok: reply[at] === 1, spent: reply[at + 1] as number, reserved: reply[at + 2] as number },
      };
      at += 3;
      return result;
    }
    const hit = (reply[at] as number) - 1;
    const retryAfterMs = reply[at + 1] as number;
    const used = reply.slice(at + 2, at + 2 + op.specs.length);
    at += 2 + op.specs.length;
    return { kind: 'rate', rate: { ok: hit < 0, hit, now, retryAfterMs, used } };
  });
}

export const ONE = loaded(TAKE_ONE);
export const ALL = loaded(TAKE);
