#!/bin/sh
# make-offers.sh [N]: prints a CSV header and N (default 100) rows of fresh
# offer_id,quote_id pairs on standard output, for
#
#   sh examples/ci/make-offers.sh 100 | xoneharness run --offers - ...
#
# This is a STAND-IN: its ids are random UUIDs that no XONE sandbox knows, so
# confirms of them fail. Replace the marked section with the partner's own
# offer-creating call (the code of their integration that creates a quote and
# an offer in their XCover sandbox), printing one "OFFER_ID,QUOTE_ID" line per
# offer as it is created: xoneharness reads the rows as it needs them, so a
# slow generator shows up in the report as a starved feed, never as a lower
# rate. Make N at least the requests the run sends (rate x duration) plus one
# for the contract suite; `xoneharness run --dry-run` prints the number.
set -eu

n=${1:-100}
case $n in
'' | *[!0-9]*)
	echo "make-offers.sh: N must be a number, got '$n'" >&2
	exit 2
	;;
esac

echo "offer_id,quote_id"

# ---- Replace from here with the partner's offer-creating call. -------------
# Stand-in: 32 random bytes per row, shaped into two version-4 UUIDs.
od -An -v -N $((32 * n)) -tx1 /dev/urandom | tr -d ' \n' | fold -w 64 |
	awk '{
		printf "%s-%s-4%s-a%s-%s,%s-%s-4%s-b%s-%s\n",
			substr($0, 1, 8), substr($0, 9, 4), substr($0, 14, 3), substr($0, 18, 3), substr($0, 21, 12),
			substr($0, 33, 8), substr($0, 41, 4), substr($0, 46, 3), substr($0, 50, 3), substr($0, 53, 12)
	}'
# ---- to here. ---------------------------------------------------------------
