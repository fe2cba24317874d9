# shellcheck shell=bash
# Shared by the bench scripts (sourced): the median of REPEAT runs of a
# command as bench/measure.py times them. Needs REPEAT set.

# Median of JSON lines from measure.py: "wall cpu peak all-ok".
median() {
  python3 -c '
import json, sys
runs = sorted((json.loads(l) for l in sys.stdin), key=lambda r: r["wall_s"])
m = runs[len(runs) // 2]
print(m["wall_s"], m["cpu_s"], m["peak_mib"], "yes" if all(r["status"] == 0 for r in runs) else "NO")'
}

# REPEAT runs of a command; $PRE, when set, runs (untimed) before each.
measure() {
  local i
  for ((i = 0; i < REPEAT; i++)); do
    if [ -n "${PRE:-}" ]; then eval "$PRE"; fi
    python3 bench/measure.py "$@"
  done | median
}
