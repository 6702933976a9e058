-- Requests for wrk, chosen by environment variables that benchmarks/harness.py sets.
--
-- BENCH_MODE      get | form | register | refresh
-- BENCH_TOKEN     access token sent as "Authorization: Bearer ..." (get)
-- BENCH_BODY      url-encoded form body (form: the login)
-- BENCH_PASSWORD  password of every registered account (register)
-- BENCH_RUN       run id, part of every registered address (register)
-- BENCH_TOKENS    file of refresh tokens, one a line, shared out between threads (refresh)
-- BENCH_THREADS   wrk's thread count (refresh)
--
-- done() prints one line "WRK_JSON {...}" that the harness parses.

local mode = os.getenv("BENCH_MODE") or "get"
local token = os.getenv("BENCH_TOKEN") or ""
local form_body = os.getenv("BENCH_BODY") or ""
local password = os.getenv("BENCH_PASSWORD") or ""
local run_id = os.getenv("BENCH_RUN") or "run"
local tokens_file = os.getenv("BENCH_TOKENS")
local thread_count = tonumber(os.getenv("BENCH_THREADS") or "1")

local counter = 0
local pool = {}
local next_thread = 0

function setup(thread)
   next_thread = next_thread + 1
   thread:set("thread_id", next_thread)
end

function init(args)
   math.randomseed(os.time() * 1000 + (thread_id or 1))
   if mode == "refresh" and tokens_file then
      local index = 0
      for line in io.lines(tokens_file) do
         if line ~= "" then
            if index % thread_count == (thread_id or 1) - 1 then
               table.insert(pool, line)
            end
            index = index + 1
         end
      end
   end
end

if mode == "get" then
   wrk.method = "GET"
   if token ~= "" then
      wrk.headers["Authorization"] = "Bearer " .. token
   end
elseif mode == "form" then
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
   wrk.body = form_body
elseif mode == "register" then
   request = function()
      -- unique: run id, thread, counter; the random suffix guards against a reused run id
      counter = counter + 1
      local email = string.format(
         "reg-%s-%d-%d-%d@example.com", run_id, thread_id or 1, counter, math.random(1, 999999999)
      )
      local body = string.format('{"email":"%s","password":"%s"}', email, password)
      return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
   end
elseif mode == "refresh" then
   -- Each refresh token works once: every answer's new token goes back to the pool, so a
   -- connection always has an unspent token while the pool started with more tokens than
   -- the thread has connections.
   request = function()
      local refresh = table.remove(pool) or "pool-empty"
      local body = '{"refresh_token":"' .. refresh .. '"}'
      return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
   end
   response = function(status, headers, body)
      if status == 200 then
         local fresh = string.match(body, '"refresh_token"%s*:%s*"([^"]+)"')
         if fresh then
            table.insert(pool, fresh)
         end
      end
   end
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'WRK_JSON {"requests":%.0f,"duration_us":%.0f,"connect":%.0f,"read":%.0f,'
         .. '"write":%.0f,"status":%.0f,"timeout":%.0f,"p50_us":%.0f,"p99_us":%.0f,'
         .. '"max_us":%.0f}\n',
      summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(99), latency.max
   ))
end
