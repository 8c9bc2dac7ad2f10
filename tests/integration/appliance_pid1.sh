#!/usr/bin/env bash
# seedd as PID 1 in an empty root (SPEC 7): a copy of build/rootfs (make
# rootfs: /seedd, /data, the CA bundle, nothing else) run with
# `unshare --pid --fork --mount-proc chroot`. DNS answers, SIGHUP re-reads
# zone.csv, an orphan entering its PID namespace is adopted and reaped, and
# SIGTERM from outside exits 0 within 2 s with the snapshots written.
# Everything on loopback; the crawler checks one seed where nothing listens.
source "$(dirname "$0")/../lib.sh"
P=appliance/pid1

if [ "$(id -u)" != 0 ]; then fail $P "needs root (unshare --pid, chroot)"; exit 0; fi
# unshare --mount-proc first makes every mount private in its new mount
# namespace; where it cannot (in a chroot whose / is not a mount point,
# say, or without CAP_SYS_ADMIN) this machine cannot run the test at all:
# a skip with the reason, not a failure that would look like seedd's.
if ! err=$(unshare --pid --fork --mount-proc true 2>&1); then
	why=""
	mountpoint -q / 2>/dev/null || why="; / is not a mount point here (a chroot?)"
	echo "SKIP $P: unshare --pid --fork --mount-proc fails on this machine: $(echo "$err" | head -n 1)$why"
	exit 0
fi
if ! out=$(env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s -C "$ROOT" rootfs 2>&1); then
	fail $P/make-rootfs "$out"; exit 0
fi
newroot="$(cd "$TMPBASE" && pwd -P)/root"
cp -a "$ROOT/build/rootfs" "$newroot"

# Nothing in the root but the binary, the data directory and the CA bundle.
got=$(cd "$newroot" && find . -mindepth 1 | sort | tr '\n' ' ')
want="./data ./etc ./etc/ssl ./etc/ssl/certs ./etc/ssl/certs/ca-certificates.crt ./seedd "
[ "$got" = "$want" ] && pass $P/root-holds-only-seedd-data-ca || fail $P/root-holds-only-seedd-data-ca "got: $got"

# proc_children PID: "pid state" of every process whose parent is PID.
proc_children() {
	local f s rest pp
	for f in /proc/[0-9]*/stat; do
		read -r s 2>/dev/null <"$f" || continue
		rest=${s##*) }          # after the command name: state ppid ...
		pp=${rest#* }; pp=${pp%% *}
		[ "$pp" = "$1" ] && echo "${s%% *} ${rest%% *}"
	done
}

data="$newroot/data"
cat >"$data/zone.csv" <<'ZONE'
ns.seed.test,hostmaster.seed.test 2026112201 28800 7200 604800 86400
www.seed.test,1.2.3.4
ZONE
port=$(free_port)
closed=$(free_port)   # the crawler's seed: nothing listens there
log="$TMPBASE/log"
unshare --pid --fork --mount-proc chroot "$newroot" /seedd --zone seed.test --listen "127.0.0.1:$port" \
	--seed "ws://127.0.0.1:$closed" --allow-private --concurrency 4 --timeout 1 --data-dir /data 2>"$log" &
upid=$!
SEEDD_PIDS="$SEEDD_PIDS $upid"
spid=""
for _ in $(seq 1 100); do
	[ -n "$spid" ] || spid=$(cat /proc/"$upid"/task/"$upid"/children 2>/dev/null | tr -d ' ')
	grep -q "msg=started" "$log" 2>/dev/null && [ -n "$spid" ] && break
	kill -0 "$upid" 2>/dev/null || break
	sleep 0.05
done
if [ -z "$spid" ] || ! grep -q "msg=started" "$log"; then
	fail $P/started "$(cat "$log")"; exit 0
fi
SEEDD_PIDS="$SEEDD_PIDS $spid"

nspid=$(awk '/^NSpid:/ { print $NF }' /proc/"$spid"/status)
[ "$nspid" = 1 ] && grep -q "msg=started .*pid=1" "$log" && pass $P/is-pid-1 || fail $P/is-pid-1 "NSpid $nspid; $(grep started "$log")"
# The same directory, by device and inode: the link's text is the path in
# seedd's own mount namespace, which is longer when this test runs in a chroot.
[ "$(stat -L -c %d:%i /proc/"$spid"/root)" = "$(stat -c %d:%i "$newroot")" ] \
	&& pass $P/chrooted || fail $P/chrooted "root is $(readlink /proc/"$spid"/root), not $newroot"
# The crawler reads the bundle a piece a loop turn, after main's "started".
for _ in $(seq 1 40); do grep -q 'trust anchors loaded' "$log" && break; sleep 0.05; done
grep -qE 'trust anchors loaded.* count=[1-9]' "$log" && pass $P/ca-bundle-read || fail $P/ca-bundle-read "$(grep -i 'crawl' "$log")"

a=$(dig +short +time=1 +tries=1 @127.0.0.1 -p "$port" www.seed.test A)
[ "$a" = 1.2.3.4 ] && pass $P/dns-answers || fail $P/dns-answers "got '$a'"

# SIGHUP: the row changed in place (same inode and size, mtime put back), so
# that the once-a-second file watcher cannot see it: only SIGHUP reloads.
touch -r "$data/zone.csv" "$TMPBASE/mtime"
sed 's/^www\.seed\.test,1\.2\.3\.4$/www.seed.test,5.6.7.8/' "$data/zone.csv" >"$TMPBASE/zone.new"
cat "$TMPBASE/zone.new" >"$data/zone.csv"
touch -r "$TMPBASE/mtime" "$data/zone.csv"
sleep 1.3
a=$(dig +short +time=1 +tries=1 @127.0.0.1 -p "$port" www.seed.test A)
[ "$a" = 1.2.3.4 ] && pass $P/no-reload-without-sighup || fail $P/no-reload-without-sighup "got '$a'"
kill -HUP "$spid"
for _ in $(seq 1 40); do
	a=$(dig +short +time=1 +tries=1 @127.0.0.1 -p "$port" www.seed.test A)
	[ "$a" = 5.6.7.8 ] && break
	sleep 0.05
done
[ "$a" = 5.6.7.8 ] && grep -q SIGHUP "$log" && pass $P/sighup-reloads || fail $P/sighup-reloads "got '$a'"

# An orphan in seedd's PID namespace: nsenter's child (a host shell, host
# root) forks a subshell that starts `sleep` and exits, so the kernel gives
# the sleep to the namespace's init, seedd, which must reap it.
nsenter --target "$spid" --pid -- /bin/sh -c '(sleep 1 &); exit 0' >/dev/null 2>&1
orphan=""
for _ in $(seq 1 40); do
	orphan=$(proc_children "$spid" | awk '$2 != "Z" { print $1; exit }')
	[ -n "$orphan" ] && break
	sleep 0.05
done
[ -n "$orphan" ] && [ "$(cat /proc/"$orphan"/comm 2>/dev/null)" = sleep ] \
	&& pass $P/orphan-adopted || fail $P/orphan-adopted "children of seedd: $(proc_children "$spid")"
for _ in $(seq 1 50); do
	[ -n "$orphan" ] && [ -e /proc/"$orphan" ] || break
	sleep 0.05
done
left=$(proc_children "$spid")
[ -n "$orphan" ] && [ ! -e /proc/"$orphan" ] && [ -z "$left" ] \
	&& pass $P/orphan-reaped || fail $P/orphan-reaped "children of seedd: ${left:-none}, orphan $orphan"

# SIGTERM from outside: exit 0 within 2 s, zone.csv and nodes.csv written.
rm -f "$data/zone.csv.old"
t0=$(date +%s%N)
kill -TERM "$spid"
wait "$upid"; rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$rc" = 0 ] && [ "$ms" -lt 2000 ] && pass $P/sigterm-exit-0 || fail $P/sigterm-exit-0 "exit $rc after $ms ms: $(tail -n 3 "$log")"
[ -f "$data/zone.csv.old" ] && grep -qx 'www.seed.test,5.6.7.8' "$data/zone.csv" \
	&& pass $P/zone-written || fail $P/zone-written "$(ls "$data")"
grep -q "^127.0.0.1,no,.*,refused,.*ws://127.0.0.1:$closed/" "$data/nodes.csv" 2>/dev/null \
	&& pass $P/nodes-written || fail $P/nodes-written "$(cat "$data/nodes.csv" 2>&1)"
exit 0
