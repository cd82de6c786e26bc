-- Readers for bench/newsroom_day.py: each request picks a path by Zipf weight from the
-- table bench/zipf.py wrote (one "cumulative-weight path" per line), and each response is
-- counted by status, by the page cache's diagnostic header and by Varnish's verdict
-- (deploy/varnish/newsroom.vcl's X-Cache: HIT, STALE, MISS, PASS; else X-Varnish, which
-- holds two numbers on a hit). wrk ends with one JSON line the Python side reads.
--   wrk -t2 -c16 -d60s -s bench/wrk_day.lua http://127.0.0.1:8115 -- TABLE [HEADER]

local threads = {}
local totals, requests = {}, {}
local header_name, header_lower = "X-Page-Cache", "x-page-cache"
counts = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  local table_path = args[1]
  if args[2] then header_name = args[2] end
  header_lower = string.lower(header_name)
  math.randomseed(os.time() * 1000 + (id or 0))
  for line in io.lines(table_path) do
    local total, path = line:match("^(%S+) (.+)$")
    if total then
      table.insert(totals, tonumber(total))
      table.insert(requests, wrk.format("GET", path))
    end
  end
end

local function pick(draw)
  local low, high = 1, #totals
  while low < high do
    local mid = math.floor((low + high) / 2)
    if totals[mid] > draw then high = mid else low = mid + 1 end
  end
  return low
end

function request()
  return requests[pick(math.random())]
end

function response(status, headers, body)
  local page = headers[header_name] or headers[header_lower] or "-"
  local edge = headers["X-Cache"] or headers["x-cache"]
  if edge then
    edge = string.lower(edge)
  else
    local varnish = headers["X-Varnish"] or headers["x-varnish"]
    edge = varnish and (varnish:find(" ") and "hit" or "miss") or "-"
  end
  local key = status .. " " .. page .. " " .. edge
  counts[key] = (counts[key] or 0) + 1
end

function done(summary, latency, _)
  local merged = {}
  for _, thread in ipairs(threads) do
    for key, n in pairs(thread:get("counts")) do merged[key] = (merged[key] or 0) + n end
  end
  local parts = {}
  for key, n in pairs(merged) do table.insert(parts, string.format('"%s": %d', key, n)) end
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "status_errors": %d, "socket_errors": %d, "counts": {%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout, table.concat(parts, ", ")
  ))
end
