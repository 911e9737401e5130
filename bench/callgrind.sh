#!/bin/bash
# Instructions per item of one workload of bench/callgrind.mjs, start-up cancelled out:
#   npm run build && bench/callgrind.sh pingpong 5000 30000
# SKEIN_MIXED=1 first yields effects of many classes, as a program does: repeatable only on a build
# whose slice never ends, at sizes far apart (see mixed.mjs).
# Repeatable where timings on a shared machine are not.
set -e
w=$1; a=${2:-5000}; b=${3:-30000}
here=$(dirname "$0")
ir() {
  valgrind --tool=callgrind --smc-check=all-non-file --callgrind-out-file=/dev/null \
    node --single-threaded --random-seed=1 --hash-seed=1 "$here/callgrind.mjs" "$w" "$1" 2>&1 | grep -o "Collected : [0-9]*" | grep -o "[0-9]*$"
}
A=$(ir "$a"); B=$(ir "$b")
echo "$w: $(( (B - A) / (b - a) )) instructions per item ($A at $a, $B at $b)"
