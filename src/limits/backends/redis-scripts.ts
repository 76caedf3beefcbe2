/**
 * Lua scripts run atomically inside Redis: each check-and-take happens in one step on the server,
 * with the server's clock (`TIME`), so processes on several hosts share one exact limit.
 */

/** Sets `now` (ms) from the server's clock. */
export const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * Lua that sets \`local <n>\` to the number of entries in the sliding log at \`<key>\`. A sliding log
 * is a list of \`<ms> <member>\` entries, oldest first; the ms is always 13 digits, so an entry's
 * time is its first 13 characters. A list and not a sorted set: an append and a length are O(1),
 * where a sorted set's insert is O(log n), and the take is the cost of every limited action.
 *
 * Warden before the list kept the same log in a sorted set (member scored by ms) under the same
 * key. Such a set is rewritten into a list in place, the first time a script meets it (LLEN
 * answers WRONGTYPE). A process still on the sorted set then gets WRONGTYPE on that key and its
 * limiter denies (\`limits.unavailable\`): during a rolling upgrade old processes refuse, never
 * count apart from the new ones and admit more than the limit between them.
 */
export const logLength = (n: string, key: string): string => `
local ${n} = redis.pcall('LLEN', ${key})
if type(${n}) ~= 'number' then
  ${rewriteSortedSet(key).trim().replace(/\n/g, '\n  ')}
  ${n} = redis.call('LLEN', ${key})
end
`;

/** Lua that rewrites the sorted set at \`<key>\` (an earlier Warden's log) into a list: see \`logLength\`. */
export const rewriteSortedSet = (key: string): string => `
local e = redis.call('ZRANGE', ${key}, 0, -1, 'WITHSCORES')
local ttl = redis.call('PTTL', ${key})
redis.call('DEL', ${key})
for j = 1, #e, 2 do
  redis.call('RPUSH', ${key}, string.format('%013d', tonumber(e[j + 1])) .. ' ' .. e[j])
end
if ttl > 0 then redis.call('PEXPIRE', ${key}, ttl) end
`;

/**
 * Defines \`stamp(entry)\`, a log entry's time in ms, and \`fresh(key, n, cut)\`: how many of the
 * log's n entries, from the oldest, are before \`cut\` (they have left the window): the index of the
 * first entry at or after it. Read from the head in chunks that double (1, 2, 4, …), so k expired
 * entries cost about log2(k) reads and one when none has expired. A scan, not a binary search:
 * entries are in arrival order, which is time order only while the server's clock never steps
 * back; after a backward step the scan stops at the first entry still in the window, so the log
 * counts some expired entries for a while (stricter), and never drops one still in it.
 */
export const LOG = `
local function stamp(entry) return tonumber(string.sub(entry, 1, 13)) end
local function fresh(key, n, cut)
  local at, size = 0, 1
  while at < n do
    local batch = redis.call('LRANGE', key, at, at + size - 1)
    for j = 1, #batch do
      if stamp(batch[j]) >= cut then return at + j - 1 end
    end
    at = at + #batch
    size = size * 2
  end
  return n
end
`;

/**
 * KEYS: one per window. ARGV: consume (0/1), member, then per window: windowMs, limit, capacity
 * (0 = sliding log, a list: see \`logLength\`; > 0 = token bucket in a hash).
 * Returns { hit (1-based window that refused, 0 = admitted), now, retryAfterMs, used… }.
 */
export const RATE = `${NOW}${LOG}
local consume = ARGV[1] == '1'
local member = ARGV[2]
local used = {}
local tokens = {}
local hit = 0
local retry = 0
for i = 1, #KEYS do
  local w = tonumber(ARGV[3 + (i - 1) * 3])
  local lim = tonumber(ARGV[4 + (i - 1) * 3])
  local cap = tonumber(ARGV[5 + (i - 1) * 3])
  if cap == 0 then
    -- Expired entries only ever make the count larger: trim them only when it reaches the limit
    -- (one call fewer on the common path; the log still never holds more than limit entries).
    ${logLength('c', 'KEYS[i]').trim().replace(/\n/g, '\n    ')}
    if c >= lim then
      local gone = fresh(KEYS[i], c, now - w)
      if gone > 0 then
        redis.call('LTRIM', KEYS[i], gone, -1)
        c = c - gone
      end
    elseif not consume then
      c = c - fresh(KEYS[i], c, now - w)
    end
    used[i] = c
    if hit == 0 and c >= lim then
      hit = i
      retry = math.max(1, stamp(redis.call('LINDEX', KEYS[i], c - lim)) + w - now + 1)
    end
  else
    local h = redis.call('HMGET', KEYS[i], 'tokens', 'ts')
    local tk = tonumber(h[1])
    local ts = tonumber(h[2])
    if tk == nil or ts == nil then
      tk = cap
      ts = now
    end
    tk = math.min(cap, tk + (now - ts) * lim / w)
    tokens[i] = tk
    used[i] = cap - math.floor(tk)
    if hit == 0 and tk < 1 then
      hit = i
      retry = math.ceil((1 - tk) * w / lim)
    end
  end
end
if hit == 0 and consume then
  local entry = string.format('%d', now) .. ' ' .. member
  for i = 1, #KEYS do
    local w = tonumber(ARGV[3 + (i - 1) * 3])
    local cap = tonumber(ARGV[5 + (i - 1) * 3])
    if cap == 0 then
      redis.call('RPUSH', KEYS[i], entry)
      redis.call('PEXPIRE', KEYS[i], w)
    else
      redis.call('HSET', KEYS[i], 'tokens', string.format('%.17g', tokens[i] - 1), 'ts', now)
      redis.call('PEXPIRE', KEYS[i], w * 2)
    end
  end
end
local out = { hit, now, retry }
for i = 1, #KEYS do out[3 + i] = used[i] end
return out
`;

/**
 * KEYS: one per window. ARGV: member, then per window: windowMs, limit, capacity. Gives a slot
 * back: in a log, the member's latest entry.
 */
export const UNRATE = `${NOW}
for i = 1, #KEYS do
  local w = tonumber(ARGV[2 + (i - 1) * 3])
  local lim = tonumber(ARGV[3 + (i - 1) * 3])
  local cap = tonumber(ARGV[4 + (i - 1) * 3])
  if cap == 0 then
    ${logLength('n', 'KEYS[i]').trim().replace(/\n/g, '\n    ')}
    local all = redis.call('LRANGE', KEYS[i], 0, -1)
    for j = n, 1, -1 do
      if string.sub(all[j], 15) == ARGV[1] then
        redis.call('LREM', KEYS[i], -1, all[j])
        break
      end
    end
  else
    local h = redis.call('HMGET', KEYS[i], 'tokens', 'ts')
    local tk = tonumber(h[1])
    local ts = tonumber(h[2])
    if tk ~= nil and ts ~= nil then
      tk = math.min(cap, tk + (now - ts) * lim / w + 1)
      redis.call('HSET', KEYS[i], 'tokens', string.format('%.17g', tk), 'ts', now)
    end
  end
end
return 0
`;

/** Drops expired holds: KEYS[1] budget hash (spent, reserved), KEYS[2] hold amounts, KEYS[3] hold expiries. */
const PURGE = `
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)
for _, id in ipairs(expired) do
  local m = tonumber(redis.call('HGET', KEYS[2], id)) or 0
  redis.call('HDEL', KEYS[2], id)
  redis.call('ZREM', KEYS[3], id)
  redis.call('HINCRBY', KEYS[1], 'reserved', -m)
end
`;

/**
 * KEYS: budget hash, hold amounts, hold expiries, hold index of this hold.
 * ARGV: consume, hold name (`holdName`: agent and action id), micros, limit micros, hold ttl ms, period end (ms epoch, 0 = none), logical key.
 * Returns { ok (0/1), spent, reserved }.
 */
export const RESERVE = `${NOW}${PURGE}
local v = redis.call('HMGET', KEYS[1], 'spent', 'reserved')
local spent = tonumber(v[1]) or 0
local reserved = tonumber(v[2]) or 0
local micros = tonumber(ARGV[3])
if spent + reserved + micros > tonumber(ARGV[4]) then
  return { 0, spent, reserved }
end
if ARGV[1] == '1' then
  redis.call('HSET', KEYS[2], ARGV[2], micros)
  redis.call('ZADD', KEYS[3], now + tonumber(ARGV[5]), ARGV[2])
  redis.call('HINCRBY', KEYS[1], 'reserved', micros)
  if ARGV[6] ~= '0' then
    for i = 1, 3 do redis.call('PEXPIREAT', KEYS[i], ARGV[6]) end
  end
  redis.call('SADD', KEYS[4], ARGV[7])
  redis.call('PEXPIRE', KEYS[4], ARGV[5])
end
return { 1, spent, reserved }
`;

/**
 * KEYS: budget hash, hold amounts, hold expiries. ARGV: hold name, actual micros (-1 = the held
 * amount), release (0/1). Turns the hold into spend, or drops it.
 */
export const SETTLE = `${NOW}
local existed = redis.call('EXISTS', KEYS[1])
${PURGE}
local m = tonumber(redis.call('HGET', KEYS[2], ARGV[1]))
if m then
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[3], ARGV[1])
  redis.call('HINCRBY', KEYS[1], 'reserved', -m)
end
if ARGV[3] == '0' then
  local spend = tonumber(ARGV[2])
  if spend < 0 then spend = m or 0 end
  redis.call('HINCRBY', KEYS[1], 'spent', spend)
end
if existed == 0 then redis.call('PEXPIRE', KEYS[1], 3024000000) end
return 0
`;

/** KEYS[1]: budget hash (+ holds). Returns { spent, reserved } after dropping expired holds. */
export const PEEK_BUDGET = `${NOW}${PURGE}
local v = redis.call('HMGET', KEYS[1], 'spent', 'reserved')
return { tonumber(v[1]) or 0, tonumber(v[2]) or 0 }
`;

/** KEYS[1]: session start. ARGV: consume, ttl ms. Returns the start (ms epoch) or nil. */
export const SESSION = `${NOW}
if ARGV[1] == '1' then redis.call('SET', KEYS[1], now, 'NX', 'PX', ARGV[2]) end
local s = redis.call('GET', KEYS[1])
if s then return tonumber(s) end
return false
`;
