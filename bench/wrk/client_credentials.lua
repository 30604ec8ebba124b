-- wrk script: OAuth 2.0 client_credentials grant with client_secret_basic.
--
--   wrk -t1 -c16 -d10s -s bench/wrk/client_credentials.lua http://127.0.0.1:7400 \
--       -- <client_id> <secret> [path]
--
-- POSTs grant_type=client_credentials&scope=api to <path> (default: the URL's path, or /token
-- when the URL has none) with Authorization: Basic base64(client_id:secret). The request is the
-- same every time, so it is built once per thread. Non-200 responses are counted per status and
-- printed by done() as "non-200 responses: N" (plus one line per status and a sample body).

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

-- Form-encoding of a client id or secret in the Basic credentials (RFC 6749 §2.3.1).
local function form_encode(s)
  return (s:gsub("[^%w%-%._~]", function(ch) return string.format("%%%02X", ch:byte()) end))
end

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

-- Per-thread state (each wrk thread has its own Lua state).
non200 = 0
statuses = {}
sample = ""

function init(args)
  local client_id, secret, path = args[1], args[2], args[3]
  if not client_id or not secret then
    error("usage: wrk ... -s client_credentials.lua <url> -- <client_id> <secret> [path]")
  end
  if path and path ~= "" then
    wrk.path = path
  elseif wrk.path == nil or wrk.path == "" or wrk.path == "/" then
    wrk.path = "/token"
  end
  wrk.method = "POST"
  wrk.body = "grant_type=client_credentials&scope=api"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Accept"] = "application/json"
  wrk.headers["Authorization"] = "Basic " .. base64(form_encode(client_id) .. ":" .. form_encode(secret))
end

function response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
    local key = tostring(status)
    statuses[key] = (statuses[key] or 0) + 1
    if sample == "" then sample = key .. " " .. tostring(body):sub(1, 300) end
  end
end

function done(summary, latency, requests)
  local total, by_status, first = 0, {}, ""
  for _, thread in ipairs(threads) do
    total = total + (thread:get("non200") or 0)
    for k, v in pairs(thread:get("statuses") or {}) do by_status[k] = (by_status[k] or 0) + v end
    local s = thread:get("sample")
    if first == "" and s and s ~= "" then first = s end
  end
  io.write(string.format("non-200 responses: %d\n", total))
  for k, v in pairs(by_status) do io.write(string.format("  status %s: %d\n", k, v)) end
  if first ~= "" then io.write("  first: " .. first .. "\n") end
end
