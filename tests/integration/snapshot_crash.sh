#!/usr/bin/env bash
# zone.csv survives kill -9 at any moment of a rewrite: after every kill,
# zone.csv (or zone.csv.old) parses completely and holds the whole zone.
source "$(dirname "$0")/../lib.sh"

dir=$(new_dir)
port=$(free_port)
rows=80000

# A large zone: the SOA, 80000 node rows in distinct /16s, static rows.
{
	echo "ns.seed.example.com,hostmaster.seed.example.com 1 28800 7200 604800 86400"
	for i in $(seq 0 $((rows - 1))); do
		echo "seed.example.com,$((11 + i / 65536 % 100)).$((i / 256 % 256)).$((i % 256)).1"
	done
	echo "ns.seed.example.com,1.2.3.4"
	echo "www.seed.example.com,seed.example.com"
} >"$dir/zone.csv"
cp "$dir/zone.csv" "$TMPBASE/orig.csv"

# complete FILE: SOA first, every node row and both static rows present.
complete() {
	local f=$1
	[ -s "$f" ] || return 1
	head -n 1 "$f" | grep -q '^ns.seed.example.com,hostmaster.seed.example.com [0-9]* 28800 7200 604800 86400$' || return 1
	[ "$(grep -vc '^seed.example.com,' "$f")" = 3 ] || return 1
	[ "$(grep -c '^seed.example.com,' "$f")" -ge "$rows" ] || return 1
	grep -qx 'ns.seed.example.com,1.2.3.4' "$f" || return 1
	grep -qx 'www.seed.example.com,seed.example.com' "$f" || return 1
	[ "$(tail -c 1 "$f" | od -An -c | tr -d ' ')" = '\n' ] || return 1
}

bad=0
kills=0
midwrite=0
for round in $(seq 1 25); do
	start_seedd "$dir" --zone seed.example.com --concurrency 0 -l "127.0.0.1:$port" --snapshot-interval 1 || {
		fail snapshot/start "round $round: seedd did not start: $(tail -n 3 "$dir/log")"; bad=1; break; }
	# Keep seedd rewriting: an operator edit (a new node row, out of order)
	# and SIGHUP every few ms; each reload changes the zone, which seedd
	# writes back at once (rows sorted, serial grown).
	(
		for k in $(seq 1 400); do
			{ cat "$dir/zone.csv"; echo "seed.example.com,12.$round.$((k % 256)).$((k / 256 + 1))"; } \
				>"$dir/edit.$k" 2>/dev/null && mv "$dir/edit.$k" "$dir/zone.csv" 2>/dev/null
			kill -HUP "$SEEDD_PID" 2>/dev/null || exit 0
			sleep 0.02
		done
	) &
	editor=$!
	if [ $((round % 2)) = 1 ]; then
		# Odd rounds: kill the moment a rewrite has begun (zone.csv.tmp exists).
		deadline=$(( $(date +%s) + 5 ))
		until [ -e "$dir/zone.csv.tmp" ] || [ "$(date +%s)" -ge "$deadline" ]; do :; done
	else
		sleep "0.$(( 2 + RANDOM % 7 ))$(( RANDOM % 10 ))"
	fi
	kill -KILL "$SEEDD_PID"
	wait "$SEEDD_PID" 2>/dev/null
	kill "$editor" 2>/dev/null; wait "$editor" 2>/dev/null
	rm -f "$dir"/edit.*
	kills=$((kills + 1))
	[ -e "$dir/zone.csv.tmp" ] && midwrite=$((midwrite + 1))
	if complete "$dir/zone.csv"; then :
	elif complete "$dir/zone.csv.old"; then :
	else
		fail snapshot/complete-after-kill "round $round: neither zone.csv nor zone.csv.old is complete"
		bad=1
		break
	fi
done
echo "kills: $kills, of which mid-write (zone.csv.tmp left behind): $midwrite"
[ "$bad" = 0 ] && pass "snapshot/complete-after-$kills-kill-9"
ls "$dir" | grep -q '\.tmp$' && rm -f "$dir"/*.tmp   # a leftover temp file is harmless

# After all that, a clean start serves the whole zone at once.
start_seedd "$dir" --zone seed.example.com --concurrency 0 -l "127.0.0.1:$port" --answers 5
n=$(dig +short +tries=1 +time=2 @127.0.0.1 -p "$port" seed.example.com A | wc -l)
[ "$n" = 5 ] && pass snapshot/serves-after-crashes || fail snapshot/serves-after-crashes "got $n addresses"
stop_seedd
[ "$SEEDD_RC" = 0 ] && pass snapshot/clean-exit || fail snapshot/clean-exit "exit $SEEDD_RC"
complete "$dir/zone.csv" && pass snapshot/written-on-stop || fail snapshot/written-on-stop "zone.csv incomplete"
