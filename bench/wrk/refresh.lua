-- wrk script: OAuth 2.0 refresh_token grant with refresh-token rotation and client_secret_basic.
--
--   wrk -t1 -c16 -d10s -s bench/wrk/refresh.lua http://127.0.0.1:7400 \
--       -- <client_id> <secret> <tokens_file> [path] [threads]
--
-- <tokens_file> holds refresh tokens of <client_id>, one per line, none used yet. Every request
-- POSTs grant_type=refresh_token&refresh_token=<token> to <path> (default: the URL's path, or
-- /token when the URL has none) with Authorization: Basic base64(client_id:secret), and every
-- token is sent once only:
--
--   * each wrk thread takes its own share of the file (line i goes to thread i mod threads) into
--     a FIFO queue;
--   * request() pops the oldest token of its thread's queue;
--   * response() takes the rotated "refresh_token" out of a 200 body (wrk's Lua has no JSON
--     library: a pattern match) and pushes it at the back of the queue.
--
-- A thread runs several connections with one Lua state, so a queue per thread (rather than one
-- token chain per connection) is what keeps the chains apart; a chain ends at its first non-200.
-- Seed at least as many tokens per thread as connections per thread. If a thread's queue is
-- ever empty, request() sends an invalid token (counted as "starved") so that wrk still gets a
-- request. [threads] is wrk's -t; when it is missing it is read from /proc/self/cmdline (wrk
-- starts each thread right after its init(), so the script cannot count threads itself).
--
-- done() prints "non-200 responses: N", one line per status with a sample body, "starved: N"
-- (requests sent without a token) and "200 without refresh_token: N".

local function base64(s)
  local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local c1 = math.floor(n / 262144) % 64
    local c2 = math.floor(n / 4096) % 64
    local c3 = math.floor(n / 64) % 64
    local c4 = n % 64
    out[#out + 1] = alphabet:sub(c1 + 1, c1 + 1) .. alphabet:sub(c2 + 1, c2 + 1)
      .. (b and alphabet:sub(c3 + 1, c3 + 1) or "=") .. (c and alphabet:sub(c4 + 1, c4 + 1) or "=")
  end
  return table.concat(out)
end

local function form_encode(s)
  return (s:gsub("[^%w%-%._~]", function(ch) return string.format("%%%02X", ch:byte()) end))
end

-- wrk's -t from its command line (-tN, -t N, --threads N, --threads=N); wrk's default is 2.
local function threads_from_cmdline()
  local f = io.open("/proc/self/cmdline", "rb")
  if not f then return 2 end
  local argv = {}
  for a in f:read("*a"):gmatch("([^%z]*)%z") do argv[#argv + 1] = a end
  f:close()
  for i, a in ipairs(argv) do
    if a == "--" then break end
    if a == "-t" or a == "--threads" then return tonumber(argv[i + 1]) or 2 end
    local v = a:match("^%-t(%d+)$") or a:match("^%-%-threads=(%d+)$")
    if v then return tonumber(v) end
  end
  return 2
end

-- Main (setup/done) state.
local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
  thread:set("id", #threads - 1) -- 0-based
end

-- Per-thread state.
non200 = 0
statuses = {}
samples = {}
starved = 0
missing_rt = 0
seeded = 0

local queue, head, tail = {}, 1, 0
local prefix, suffix

function init(args)
  local client_id, secret, file, path, nthreads = args[1], args[2], args[3], args[4], args[5]
  if not client_id or not secret or not file then
    error("usage: wrk ... -s refresh.lua <url> -- <client_id> <secret> <tokens_file> [path] [threads]")
  end
  if path and path ~= "" then
    wrk.path = path
  elseif wrk.path == nil or wrk.path == "" or wrk.path == "/" then
    wrk.path = "/token"
  end
  nthreads = tonumber(nthreads) or threads_from_cmdline()

  local f = assert(io.open(file, "r"))
  local i = 0
  for line in f:lines() do
    local token = line:match("^%s*(.-)%s*$")
    if token ~= "" then
      if i % nthreads == id then
        tail = tail + 1
        queue[tail] = token
      end
      i = i + 1
    end
  end
  f:close()
  seeded = tail

  local headers = {
    ["Host"] = wrk.headers["Host"] or wrk.host,
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Accept"] = "application/json",
    ["Authorization"] = "Basic " .. base64(form_encode(client_id) .. ":" .. form_encode(secret)),
  }
  -- wrk.format() with a placeholder body gives the request line and headers; the body has a
  -- fixed prefix and the token, and Content-Length is patched per request.
  local template = wrk.format("POST", wrk.path, headers, "@BODY@")
  local head_part = template:sub(1, template:find("\r\n\r\n", 1, true) + 3)
  head_part = head_part:gsub("Content%-Length: %d+\r\n", "")
  prefix = head_part:sub(1, -3) -- without the final CRLF
  suffix = "grant_type=refresh_token&refresh_token="
end

function request()
  local token
  if head <= tail then
    token = queue[head]
    queue[head] = nil
    head = head + 1
  else
    starved = starved + 1
    token = "starved"
  end
  local body = suffix .. form_encode(token)
  return prefix .. "Content-Length: " .. #body .. "\r\n\r\n" .. body
end

function response(status, headers, body)
  if status == 200 then
    local rt = body:match('"refresh_token"%s*:%s*"([^"]+)"')
    if rt then
      tail = tail + 1
      queue[tail] = rt
    else
      missing_rt = missing_rt + 1
    end
  else
    non200 = non200 + 1
    local key = tostring(status)
    statuses[key] = (statuses[key] or 0) + 1
    if not samples[key] then samples[key] = tostring(body):sub(1, 300) end
  end
end

function done(summary, latency, requests)
  local total, nstarved, nmissing, nseeded, by_status, first = 0, 0, 0, 0, {}, {}
  for _, thread in ipairs(threads) do
    total = total + (thread:get("non200") or 0)
    nstarved = nstarved + (thread:get("starved") or 0)
    nmissing = nmissing + (thread:get("missing_rt") or 0)
    nseeded = nseeded + (thread:get("seeded") or 0)
    for k, v in pairs(thread:get("statuses") or {}) do by_status[k] = (by_status[k] or 0) + v end
    for k, v in pairs(thread:get("samples") or {}) do first[k] = first[k] or v end
  end
  io.write(string.format("non-200 responses: %d\n", total))
  for k, v in pairs(by_status) do io.write(string.format("  status %s: %d, e.g. %s\n", k, v, first[k])) end
  io.write(string.format("starved: %d\n", nstarved))
  io.write(string.format("200 without refresh_token: %d\n", nmissing))
  io.write(string.format("seeded tokens: %d over %d threads\n", nseeded, #threads))
end
