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

# One timed run: wall seconds and peak RSS (KB).
once() {
    { /usr/bin/time -f "%e %M" "$@" > /dev/null; } 2>&1 | tail -n 1
}

# The commands, timed in rounds: each round runs every command once, so a
# burst of load from elsewhere on the machine slows the floor and the
# commands alike instead of skewing one ratio. Best wall time per command.
labels=(
    "csv crate: read every record (floor)"
    "assess"
    "assess --by organization --weight budget"
    "classify -o FILE"
    "assess, one thread (--threads 1)"
    "assess, 100k rows"
)
run_command() {
    case $1 in
        0) once "$FLOOR" "$DIR/portfolio.csv" ;;
        1) once "$BIN" -q assess "$DIR/portfolio.csv" -o "$DIR/assess.txt" ;;
        2) once "$BIN" -q assess "$DIR/portfolio.csv" --by organization --weight budget -o "$DIR/assess-by.txt" ;;
        3) once "$BIN" -q classify "$DIR/portfolio.csv" -o "$DIR/classified.csv" ;;
        4) once "$BIN" -q --threads 1 assess "$DIR/portfolio.csv" -o "$DIR/assess1.txt" ;;
        5) once "$BIN" -q assess "$DIR/portfolio-100k.csv" -o "$DIR/assess-100k.txt" ;;
    esac
}
best=(); rss=()
for _ in $(seq "$REPEAT"); do
    for k in "${!labels[@]}"; do
        read -r t m < <(run_command "$k")
        if [ -z "${best[$k]:-}" ] || awk "BEGIN{exit !($t < ${best[$k]})}"; then
            best[$k]=$t; rss[$k]=$m
        fi
    done
done

floor=${best[0]}
printf '%-48s %8s %8s %10s\n' "command" "wall s" "× floor" "peak RSS"
for k in 0 1 2 3 4; do
    printf '%-48s %8s %8.2f %8s MB\n' "${labels[$k]}" "${best[$k]}" \
        "$(awk "BEGIN{print ${best[$k]} / $floor}")" "$((rss[$k] / 1024))"
done
echo "peak RSS of assess at 100k rows: $((rss[5] / 1024)) MB"

# Start-up plus a 50-row portfolio, averaged over 20 runs.
start=$(date +%s%N)
for _ in $(seq 20); do "$BIN" -q assess "$DIR/portfolio-50.csv" > /dev/null; done
echo "start-up + 50-row assess: $(( ($(date +%s%N) - start) / 20000000 )) ms per run"
cmp -s "$DIR/assess.txt" "$DIR/assess1.txt" && echo "parallel and one-thread reports are identical"
