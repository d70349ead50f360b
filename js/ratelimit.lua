-- rampart RedisRateLimiter: one atomic call for a batch of operations on one or more keys (all
-- in one hash slot on Redis Cluster). The same three algorithms as src/ratelimit/algorithm.rs,
-- line for line, on the Redis server's clock (TIME) in microseconds instead of the native
-- monotonic nanoseconds. Lua numbers are doubles, exact only below 2^53, so every product that
-- can exceed that (cost x window, previous x overlap, ...) goes through `muldiv`.
--
-- ARGV[1] algorithm ('g' gcra, 'f' fixed-window, 's' sliding-window), ARGV[2] limit,
-- ARGV[3] window in microseconds, then for KEYS[i]: ARGV[2+2i] operation ('h' hit, 'p' peek,
-- 'r' refund, 'x' reset) and ARGV[3+2i] cost; or, when every key of the call has the same
-- operation and cost (the common batch: hits of cost 1), only ARGV[4] and ARGV[5], once. The two
-- forms agree for one key. Fewer arguments measured ~8% less Redis CPU per key in a batch of 32.
-- Returns 4 integers per key: allowed (1/0; -1 when the key holds another Redis type), remaining,
-- reset (us), retry after (us). A reset answers 1 when the key existed.
-- State per key, a string with a TTL that ends when the key is indistinguishable from a fresh one:
--   gcra 'g <T> <R>': theoretical arrival time T + R/limit us (0 <= R < limit)
--   fixed-window 'f <start> <count>'; sliding-window 's <start> <current> <previous>'

local alg = ARGV[1]
local limit = tonumber(ARGV[2])
local W = tonumber(ARGV[3])
local clock = redis.call('TIME')
local NOW = tonumber(clock[1]) * 1000000 + tonumber(clock[2])

-- floor(a*b/d) and a*b mod d, exactly, for a < 2^32, b < 2^48, d < 2^45, quotient < 2^53.
local function muldiv(a, b, d)
  local ab = a * b
  if ab < 9007199254740992 then -- 2^53: the double product is exact
    local q = math.floor(ab / d)
    if q * d > ab then q = q - 1 elseif (q + 1) * d <= ab then q = q + 1 end
    return q, ab - q * d
  end
  local a0 = a % 65536
  local a1 = (a - a0) / 65536
  local b0 = b % 65536
  local t = (b - b0) / 65536
  local b1 = t % 65536
  local b2 = (t - b1) / 65536
  local p = { a0 * b0, a0 * b1 + a1 * b0, a0 * b2 + a1 * b1, a1 * b2, 0 }
  local carry = 0
  for i = 1, 5 do
    local v = p[i] + carry
    local lo = v % 65536
    p[i] = lo
    carry = (v - lo) / 65536
  end
  local q, r = 0, 0
  for i = 5, 1, -1 do
    local lo = p[i] % 256
    local digits = { (p[i] - lo) / 256, lo }
    for j = 1, 2 do
      r = r * 256 + digits[j]
      local qd = math.floor(r / d)
      if qd * d > r then qd = qd - 1 elseif (qd + 1) * d <= r then qd = qd + 1 end
      r = r - qd * d
      q = q * 256 + qd
    end
  end
  return q, r
end

-- ceil(x / d) for 0 <= x, d < 2^45, exactly.
local function cdiv(x, d)
  local k = math.ceil(x / d)
  if k * d < x then k = k + 1 elseif k > 0 and (k - 1) * d >= x then k = k - 1 end
  return k
end

-- A time in us (an integer, 0 <= t < 2^53) as the two arguments of '%d%09d' (assign them to
-- locals first: a call inside an argument list passes only its first result). A state's times
-- have 16 digits, and string.format's '%.0f' prints them slowly (glibc's exact float printing:
-- ~0.7 us of the ~5 us Redis spends per key in a batch), while '%d' casts to a C long, 32 bits
-- on some platforms: so two parts below 10^9, each exact as a long of any width. Counts, below
-- 2^32, keep '%.0f'.
local function split(t)
  local high = math.floor(t / 1000000000)
  return high, t - high * 1000000000
end

-- Writes the state with a TTL of `ttl` us (rounded up to ms), or deletes it when `ttl` <= 0.
local function store(key, value, ttl)
  if ttl <= 0 then
    redis.call('DEL', key)
  else
    redis.call('SET', key, value, 'PX', math.ceil(ttl / 1000))
  end
end

-- The stored numbers of a state, or nil (fresh) when absent or not this algorithm's.
local PATTERNS = { g = '^g (%d+) (%d+)$', f = '^f (%d+) (%d+)$', s = '^s (%d+) (%d+) (%d+)$' }
local function load(raw, tag)
  if type(raw) ~= 'string' then return nil end
  local a, b, c = string.match(raw, PATTERNS[tag])
  if a == nil then return nil end
  return tonumber(a), tonumber(b), tonumber(c)
end

local function gcra(key, raw, op, cost)
  local now = NOW
  local T, R = now, 0
  local t, r = load(raw, 'g')
  if t and r < limit then T, R = t, r end
  -- A clock stepped back never makes the debt exceed one window.
  if T - now > W or (T - now == W and R > 0) then now = T - W + (R > 0 and 1 or 0) end
  if T < now then T, R = now, 0 end
  local A = T - now
  local q, f = muldiv(cost, W, limit)
  if op == 'r' then
    if A > 0 or R > 0 then
      local nT, nR = T - q, R - f
      if nR < 0 then nR, nT = nR + limit, nT - 1 end
      if nT < now then nT, nR = now, 0 end
      local high, low = split(nT)
      store(key, string.format('g %d%09d %.0f', high, low, nR), nT - now + (nR > 0 and 1 or 0))
    end
    return 1, 0, 0, 0
  end
  local nA, nR = A + q, R + f
  if nR >= limit then nR, nA = nR - limit, nA + 1 end
  local allowed = nA < W or (nA == W and nR == 0)
  local aA, aR = A, R
  if allowed then aA, aR = nA, nR end
  local reset = aA + (aR > 0 and 1 or 0)
  if allowed and op == 'h' and cost > 0 then
    local high, low = split(now + aA)
    store(key, string.format('g %d%09d %.0f', high, low, aR), reset)
  end
  local q1, r1 = muldiv(limit, W - aA, W)
  local remaining = q1
  if r1 < aR then remaining = q1 - cdiv(aR - r1, W) end
  if remaining < 0 then remaining = 0 end
  local retry = 0
  if not allowed then retry = nA - W + (nR > 0 and 1 or 0) end
  return allowed and 1 or 0, remaining, reset, retry
end

local function fixed(key, raw, op, cost)
  local now = NOW
  local start, count = 0, 0
  local s0, c0 = load(raw, 'f')
  if s0 then start, count = s0, c0 end
  if now < start then now = start end
  if op == 'r' then
    if count > 0 and now < start + W then
      count = math.max(count - cost, 0)
      local high, low = split(start)
      store(key, string.format('f %d%09d %.0f', high, low, count), count > 0 and (start + W - now) or 0)
    end
    return 1, 0, 0, 0
  end
  if count == 0 or now >= start + W then start, count = now, 0 end
  local allowed = count + cost <= limit
  if allowed then count = count + cost end
  local reset = start + W - now
  if allowed and op == 'h' and cost > 0 then
    local high, low = split(start)
    store(key, string.format('f %d%09d %.0f', high, low, count), reset)
  end
  return allowed and 1 or 0, limit - count, count == 0 and 0 or reset, allowed and 0 or reset
end

local function sliding_wait(start, current, previous, now, cost)
  local room = limit - (current + cost)
  if room >= 0 then
    local slack = W
    if previous > 0 and room < previous then slack = muldiv(room, W, previous) end
    if slack > 0 then return math.max(start + W - slack, now) - now end
  end
  local room2 = limit - cost
  local t = start + W
  if current > 0 and room2 < current then
    t = math.max(start + 2 * W - muldiv(room2, W, current), start + W)
  end
  return math.max(t - now, 0)
end

local function sliding(key, raw, op, cost)
  local now = NOW
  local start, current, previous = 0, 0, 0
  local s0, c0, p0 = load(raw, 's')
  if s0 then start, current, previous = s0, c0, p0 end
  if now < start then now = start end
  local aligned = now - math.fmod(now, W)
  local function save()
    local ttl = 0
    if current > 0 then ttl = start + 2 * W - now elseif previous > 0 then ttl = start + W - now end
    local high, low = split(start)
    store(key, string.format('s %d%09d %.0f %.0f', high, low, current, previous), ttl)
  end
  if op == 'r' then
    if s0 and aligned == start and current > 0 then
      current = math.max(current - cost, 0)
      save()
    end
    return 1, 0, 0, 0
  end
  if aligned ~= start then
    if aligned == start + W then previous = current else previous = 0 end
    current = 0
    start = aligned
  end
  local overlap = start + W - now
  local pq, pr = muldiv(previous, overlap, W)
  local used = pq + (pr > 0 and 1 or 0) -- ceil(previous x overlap / W)
  local room = limit - current - cost
  local allowed = room >= 0 and used <= room
  if allowed then current = current + cost end
  if allowed and op == 'h' and cost > 0 then save() end
  local remaining = math.max(limit - current - used, 0)
  local reset = 0
  if current > 0 then reset = start + 2 * W - now elseif previous > 0 then reset = start + W - now end
  local retry = 0
  if not allowed then retry = sliding_wait(start, current, previous, now, cost) end
  return allowed and 1 or 0, remaining, reset, retry
end

local run = ({ g = gcra, f = fixed, s = sliding })[alg]
-- Per-key work is what Redis spends its CPU on under load: the results go in by index (not
-- `#out`), and each state is written with one string.format (measured ~7% less Redis CPU per key).
local out = {}
local n = 0
local shared = #ARGV == 5
local op, cost = ARGV[4], tonumber(ARGV[5])
for i = 1, #KEYS do
  local key = KEYS[i]
  if not shared then op, cost = ARGV[2 + 2 * i], tonumber(ARGV[3 + 2 * i]) end
  local a, b, c, d = 1, 0, 0, 0
  if op == 'x' then
    a = redis.call('DEL', key)
  else
    local raw = redis.pcall('GET', key)
    if type(raw) == 'table' and raw.err then
      a = -1
    else
      a, b, c, d = run(key, raw, op, cost)
    end
  end
  out[n + 1], out[n + 2], out[n + 3], out[n + 4] = a, b, c, d
  n = n + 4
end
return out
