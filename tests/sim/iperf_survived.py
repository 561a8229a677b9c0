#!/usr/bin/env python3
"""iperf_survived.py JSON SINCE WHAT

Whether an iperf3 -J run survived WHAT (backend restarts, an upgrade): it
used one TCP connection, ended without error, and moved data in the
intervals that started at or after SINCE (a Unix time). Prints one "ok:"
line, or exits non-zero with the reason."""
import json
import sys

path, since, what = sys.argv[1], float(sys.argv[2]), sys.argv[3]
r = json.load(open(path))
if "error" in r:
    sys.exit("iperf3: " + r["error"])
if len(r["start"]["connected"]) != 1:
    sys.exit("iperf3 used %d connections" % len(r["start"]["connected"]))
start = r["start"]["timestamp"]["timesecs"]
after = [i["sum"]["bytes"] for i in r["intervals"] if start + i["sum"]["start"] >= since]
if not after or sum(after) == 0:
    sys.exit("no data after %s; bytes per second: %s"
             % (what, [i["sum"]["bytes"] for i in r["intervals"]]))
print("ok: one TCP connection across %s, %.0f Mbit/s on average, %d bytes after it"
      % (what, r["end"]["sum_received"]["bits_per_second"] / 1e6, sum(after)))
