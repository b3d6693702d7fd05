"""Self cost (instructions) per function of a callgrind dump written with
--compress-strings=no, most expensive first:  python3 callgrind_self.py <dump> [top]"""
import collections
import sys

dump, top = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 40
cost = collections.Counter()
fn, after_calls = None, False
for line in open(dump, errors="replace"):
    if line.startswith("fn="):
        fn = line[3:].strip()
    elif line.startswith("calls="):
        after_calls = True  # the next cost line is the callee's inclusive cost, not fn's own
    elif line[:1].isdigit() or line[:1] in "+-*":
        if after_calls:
            after_calls = False
        elif fn:
            parts = line.split()
            if len(parts) >= 2:
                cost[fn] += int(parts[1])
total = sum(cost.values())
print("total", total)
for name, v in cost.most_common(top):
    print("%6.2f%% %s" % (100.0 * v / total, name[:160]))
