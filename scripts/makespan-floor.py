#!/usr/bin/env python3
"""The shortest makespan any client can reach on a simulator workload.

The simulator draws each task's service time from T x U(0.8, 1.2). With 24 slots, each slot
taking the next job the moment it frees, and a fixed cost per job (POST, detection, download;
0 for a client that sees every Ready instantly), this prints the mean makespan over many draws
and its 5-95 % range, as a multiple of the physical limit ceil(N/24) x T.

Usage: scripts/makespan-floor.py JOBS T [COST_PER_JOB_SECONDS] [DRAWS]
"""
import heapq
import math
import random
import statistics
import sys


def makespan(jobs, service, cost, rng, slots=24):
    free_at = [0.0] * slots
    for _ in range(jobs):
        start = heapq.heappop(free_at)
        heapq.heappush(free_at, start + service * (0.8 + 0.4 * rng.random()) + cost)
    return max(free_at)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__.strip().splitlines()[-1])
    jobs, service = int(sys.argv[1]), float(sys.argv[2])
    cost = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    draws = int(sys.argv[4]) if len(sys.argv) > 4 else 2000
    limit = math.ceil(jobs / 24) * service
    spans = sorted(makespan(jobs, service, cost, random.Random(seed)) for seed in range(draws))
    mean = statistics.mean(spans)
    low, high = spans[draws * 5 // 100], spans[draws * 95 // 100]
    print(f"{jobs} jobs, T = {service} s, {cost * 1000:.0f} ms per job: mean {mean:.2f} s = {mean / limit:.3f} x the limit "
          f"({low / limit:.3f}-{high / limit:.3f} for 5-95 %)")


if __name__ == "__main__":
    main()
