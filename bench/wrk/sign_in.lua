-- wrk script: onetrip password sign-in (POST /api/v1/session with a JSON body).
--
--   wrk -t1 -c16 -d10s --timeout 10s -s bench/wrk/sign_in.lua http://127.0.0.1:PORT \
--       -- <login> <password> [path]
--
-- POSTs {"login": <login>, "password": <password>} to <path> (default /api/v1/session) with
-- Content-Type: application/json and no cookie, so that every request is a fresh sign-in (a
-- password verification, a new session and an audit row). The request is the same every time,
-- so it is built once per thread. Send only a correct password: failed sign-ins are throttled
-- per login name and IP address after a few failures, and the run would measure refusals.
--
-- done() prints "non-200 responses: N" (plus one line per status with a sample body) and
-- "200 without session cookie: N" (a 200 whose answer sets no cookie).

local function json_string(s)
  return '"' .. s:gsub('[%c"\\]', function(ch)
    return string.format("\\u%04x", ch:byte())
  end) .. '"'
end

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

-- Per-thread state (each wrk thread has its own Lua state).
non200 = 0
no_cookie = 0
statuses = {}
samples = {}

function init(args)
  local login, password, path = args[1], args[2], args[3]
  if not login or not password then
    error("usage: wrk ... -s sign_in.lua <url> -- <login> <password> [path]")
  end
  if path and path ~= "" then
    wrk.path = path
  elseif wrk.path == nil or wrk.path == "" or wrk.path == "/" then
    wrk.path = "/api/v1/session"
  end
  wrk.method = "POST"
  wrk.body = '{"login":' .. json_string(login) .. ',"password":' .. json_string(password) .. '}'
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Accept"] = "application/json"
end

function response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
    local key = tostring(status)
    statuses[key] = (statuses[key] or 0) + 1
    if not samples[key] then samples[key] = tostring(body):sub(1, 300) end
    return
  end
  for name, _ in pairs(headers) do
    if name:lower() == "set-cookie" then return end
  end
  no_cookie = no_cookie + 1
end

function done(summary, latency, requests)
  local total, missing, by_status, first = 0, 0, {}, {}
  for _, thread in ipairs(threads) do
    total = total + (thread:get("non200") or 0)
    missing = missing + (thread:get("no_cookie") or 0)
    for k, v in pairs(thread:get("statuses") or {}) do by_status[k] = (by_status[k] or 0) + v end
    for k, v in pairs(thread:get("samples") or {}) do first[k] = first[k] or v end
  end
  io.write(string.format("non-200 responses: %d\n", total))
  for k, v in pairs(by_status) do io.write(string.format("  status %s: %d, e.g. %s\n", k, v, first[k])) end
  io.write(string.format("200 without session cookie: %d\n", missing))
end
