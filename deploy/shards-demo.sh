#!/usr/bin/env bash
# shards-demo.sh: the sharded load run on one machine, by hand (what
# deploy/shards_test.go checks). It builds xoneharness, starts one standalone
# sandbox on a free loopback port, runs SHARDS shard processes of
# `xoneharness load --shard I/SHARDS` against it at once, merges their report
# directories with `xoneharness report`, and stops the sandbox, which prints
# how many offers it saw confirmed twice (0 expected).
#
#   deploy/shards-demo.sh                        # 3 shards, 150/s for 2s
#   SHARDS=2 RATE=100/s DURATION=5s deploy/shards-demo.sh
#   OUT=/tmp/demo deploy/shards-demo.sh          # keep the reports there
#
# Needs only Go and a POSIX userland; talks to 127.0.0.1 only.
set -euo pipefail

SHARDS=${SHARDS:-3}
RATE=${RATE:-150/s}
DURATION=${DURATION:-2s}
OFFERS=${OFFERS:-600}   # rows in the generated feed (each used at most once)
LATENCY=${LATENCY:-10ms} # the sandbox's fixed confirm latency

cd "$(dirname "$0")/.."
OUT=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/xoneharness-shards.XXXXXX")}
mkdir -p "$OUT"
bin="$OUT/xoneharness"
echo "== build $bin"
go build -o "$bin" ./cmd/xoneharness

sandbox_pid=
cleanup() {
	if [[ -n $sandbox_pid ]] && kill -0 "$sandbox_pid" 2>/dev/null; then
		kill -INT "$sandbox_pid" 2>/dev/null || true
		wait "$sandbox_pid" 2>/dev/null || true
	fi
}
trap cleanup EXIT

echo "== sandbox (latency $LATENCY)"
"$bin" sandbox --addr 127.0.0.1:0 --latency "$LATENCY" >"$OUT/sandbox.log" 2>&1 &
sandbox_pid=$!
url=
for _ in $(seq 100); do
	url=$(sed -n 's/.*listening on \(http:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' "$OUT/sandbox.log")
	[[ -n $url ]] && break
	kill -0 "$sandbox_pid" 2>/dev/null || { cat "$OUT/sandbox.log"; exit 1; }
	sleep 0.1
done
[[ -n $url ]] || { echo "sandbox did not start"; cat "$OUT/sandbox.log"; exit 1; }
echo "   $url"

# The sandbox accepts any UUID offer: generate fresh ones.
new_uuid() {
	if [[ -r /proc/sys/kernel/random/uuid ]]; then cat /proc/sys/kernel/random/uuid
	else uuidgen | tr 'A-Z' 'a-z'; fi
}
{
	echo "offer_id,quote_id"
	for _ in $(seq "$OFFERS"); do echo "$(new_uuid),$(new_uuid)"; done
} >"$OUT/offers.csv"

export XONE_BASE_URL=$url XONE_CLIENT_ID=sandbox-client XONE_CLIENT_SECRET=sandbox-secret \
	XONE_PARTNER_ID=SANDBOX-PARTNER

echo "== $SHARDS shards at $RATE in total for $DURATION"
pids=() dirs=()
for ((i = 0; i < SHARDS; i++)); do
	dirs+=("$OUT/shard-$i")
	"$bin" load --shard "$i/$SHARDS" --rate "$RATE" --duration "$DURATION" \
		--offers "$OUT/offers.csv" --report-dir "$OUT/shard-$i" --quiet >"$OUT/shard-$i.log" 2>&1 &
	pids+=($!)
done
failed=0
for i in "${!pids[@]}"; do
	if ! wait "${pids[$i]}"; then
		echo "shard $i/$SHARDS failed:"; cat "$OUT/shard-$i.log"; failed=1
	fi
	grep -m1 '^requests' "$OUT/shard-$i.log" | sed "s|^|   shard $i/$SHARDS: |" || true
done
((failed == 0)) || exit 1

echo "== merge"
merge_rc=0
"$bin" report --out "$OUT/merged" "${dirs[@]}" || merge_rc=$?

echo "== sandbox"
kill -INT "$sandbox_pid"
wait "$sandbox_pid" || true
sandbox_pid=
grep 'sandbox stopped' "$OUT/sandbox.log"

echo
cat "$OUT/merged/report.md"
echo
echo "reports in $OUT (merged: $OUT/merged)"
exit "$merge_rc"
