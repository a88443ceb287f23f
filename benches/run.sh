#!/usr/bin/env bash
# End-to-end benchmark: generates a deterministic portfolio, then times, in
# the same run, a plain read of every record with the csv crate (the floor)
# and spectrum-audit's assess, assess --by --weight and classify -o. Prints
# wall time, the ratio to the floor and peak memory (RSS) for each.
#
#   bash benches/run.sh [ROWS] [WORKDIR]      (defaults: 1000000 rows, /tmp/spectrum-bench)
#
# Needs /usr/bin/time (Debian package `time`) for peak memory.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-1000000}
DIR=${2:-/tmp/spectrum-bench}
REPEAT=${REPEAT:-3}
mkdir -p "$DIR"

cargo build --release --locked --quiet --bin spectrum-audit --example gen_portfolio --example csv_floor
BIN=target/release/spectrum-audit
GEN=target/release/examples/gen_portfolio
FLOOR=target/release/examples/csv_floor

echo "generating $ROWS rows and 100000 rows into $DIR"
"$GEN" "$ROWS" > "$DIR/portfolio.csv"
"$GEN" 100000 > "$DIR/portfolio-100k.csv"
head -n 51 "$DIR/portfolio.csv" > "$DIR/portfolio-50.csv"
echo "portfolio: $(du -h "$DIR/portfolio.csv" | cut -f1), $(($(wc -l < "$DIR/portfolio.csv") - 1)) lines"

# best wall time (s) and its peak RSS (KB) over $REPEAT runs of a command
measure() {
    local best="" rss=""
    for _ in $(seq "$REPEAT"); do
        local out
        out=$( { /usr/bin/time -f "%e %M" "$@" > /dev/null; } 2>&1 | tail -n 1)
        local t=${out% *} m=${out#* }
        if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; rss=$m; fi
    done
    echo "$best $rss"
}

printf '%-48s %8s %8s %10s\n' "command" "wall s" "× floor" "peak RSS"
read -r floor floor_rss < <(measure "$FLOOR" "$DIR/portfolio.csv")
printf '%-48s %8s %8s %8s MB\n' "csv crate: read every record (floor)" "$floor" "1.00" "$((floor_rss / 1024))"
row() {
    local label=$1; shift
    read -r t m < <(measure "$@")
    printf '%-48s %8s %8.2f %8s MB\n' "$label" "$t" "$(awk "BEGIN{print $t / $floor}")" "$((m / 1024))"
}
row "assess" "$BIN" -q assess "$DIR/portfolio.csv" -o "$DIR/assess.txt"
row "assess --by organization --weight budget" "$BIN" -q assess "$DIR/portfolio.csv" --by organization --weight budget -o "$DIR/assess-by.txt"
row "classify -o FILE" "$BIN" -q classify "$DIR/portfolio.csv" -o "$DIR/classified.csv"
row "assess, one thread (--threads 1)" "$BIN" -q --threads 1 assess "$DIR/portfolio.csv" -o "$DIR/assess1.txt"
read -r _ rss100k < <(measure "$BIN" -q assess "$DIR/portfolio-100k.csv" -o "$DIR/assess-100k.txt")
echo "peak RSS of assess at 100k rows: $((rss100k / 1024)) MB"

# Start-up plus a 50-row portfolio, averaged over 20 runs.
start=$(date +%s%N)
for _ in $(seq 20); do "$BIN" -q assess "$DIR/portfolio-50.csv" > /dev/null; done
echo "start-up + 50-row assess: $(( ($(date +%s%N) - start) / 20000000 )) ms per run"
cmp -s "$DIR/assess.txt" "$DIR/assess1.txt" && echo "parallel and one-thread reports are identical"
