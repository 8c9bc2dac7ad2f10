#!/usr/bin/env bash
# --user UID[:GID] (issue 5), run as root: every socket is bound first (one
# DNS port below 1024, which only root may bind), then setgroups, setgid,
# setuid. /proc/PID/status shows the ids (real, effective, saved, fs), the
# one supplementary group and no capabilities left; both ports answer;
# SIGTERM exits 0 and zone.csv is written by 65534. A data directory that
# user cannot write: exit 1 with the chown advice, nothing written there.
# Bad values exit 2; as root without --user a warning is logged.
source "$(dirname "$0")/../lib.sh"
PREFIX=appliance-user
ZONE=seed.example.com

if [ "$(id -u)" != 0 ]; then
	fail "$PREFIX/root" "this test runs as root (it switches to uid 65534)"
	exit 1
fi

# A free UDP+TCP port on 127.0.0.1 between 900 and 1000.
low_port() {
	local p
	for p in $(seq 900 1000 | shuf); do
		if ! ss -Hanu "sport = :$p" | grep -q . && ! ss -Hant "sport = :$p" | grep -q .; then
			echo "$p"; return 0
		fi
	done
	return 1
}
# status PID FIELD: a line of /proc/PID/status, fields joined by one space.
status() { awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ /, ""); print }' "/proc/$1/status"; }
# dq PORT [dig options]: the status of a query for the apex SOA.
dq() { local p=$1; shift; dig +time=1 +tries=1 "$@" -p "$p" @127.0.0.1 "$ZONE" SOA 2>&1 | sed -n 's/.*status: \([A-Z]*\),.*/\1/p'; }

# --- bad values -----------------------------------------------------------------
dir=$(new_dir)
for v in abc 65534: :65534 1:2:3 -1 2147483647 ''; do
	"$SEEDD" --zone "$ZONE" -d "$dir" --concurrency 0 --listen "127.0.0.1:$(free_port)" --user "$v" 2>"$dir/err"
	rc=$?
	[ $rc = 2 ] && grep -qF -- "seedd: --user: '$v': not UID[:GID]" "$dir/err" && [ "$(wc -l <"$dir/err")" = 1 ] &&
		pass "$PREFIX/--user '$v' exits 2" || fail "$PREFIX/--user '$v' exits 2" "rc=$rc $(head -c 300 "$dir/err")"
done
[ -z "$(find "$dir" -mindepth 1 ! -name err)" ] && pass "$PREFIX/bad values write nothing" || fail "$PREFIX/bad values write nothing" "$(ls "$dir")"

# --- as root without --user: a warning -------------------------------------------
dir=$(new_dir); port=$(free_port)
if start_seedd "$dir" --zone "$ZONE" --concurrency 0 --listen "127.0.0.1:$port"; then
	grep -q 'warn main msg="running as root; give --user UID:GID' "$dir/log" && pass "$PREFIX/root without --user warns" ||
		fail "$PREFIX/root without --user warns" "$(grep -v ' info ' "$dir/log" | head -n 3)"
	stop_seedd
else fail "$PREFIX/root without --user warns" "did not start: $(tail -n 3 "$dir/log")"; fi

# --- --user 65534:65534 ------------------------------------------------------------
dir=$(new_dir); chown 65534:65534 "$dir"
low=$(low_port) || { fail "$PREFIX/port below 1024" "none free in 900-1000"; exit 1; }
port=$(free_port)
if ! start_seedd "$dir" --zone "$ZONE" --concurrency 0 --listen "127.0.0.1:$port" --listen "127.0.0.1:$low" \
	--user 65534:65534; then
	fail "$PREFIX/start" "$(tail -n 5 "$dir/log" | tr '\n' '|')"; exit 1
fi
pid=$SEEDD_PID
grep -q 'info main msg="privileges dropped" uid=65534 gid=65534' "$dir/log" && pass "$PREFIX/drop logged" ||
	fail "$PREFIX/drop logged" "$(grep main "$dir/log" | tr '\n' '|')"
grep -q 'running as root' "$dir/log" && fail "$PREFIX/no root warning with --user" "$(grep 'running as root' "$dir/log")" ||
	pass "$PREFIX/no root warning with --user"
u=$(status "$pid" Uid) g=$(status "$pid" Gid) gs=$(status "$pid" Groups)
[ "$u" = "65534 65534 65534 65534" ] && pass "$PREFIX/uid real effective saved fs" || fail "$PREFIX/uid real effective saved fs" "Uid: $u"
[ "$g" = "65534 65534 65534 65534" ] && pass "$PREFIX/gid real effective saved fs" || fail "$PREFIX/gid real effective saved fs" "Gid: $g"
[ "$gs" = 65534 ] && pass "$PREFIX/groups: only 65534" || fail "$PREFIX/groups: only 65534" "Groups: '$gs'"
caps="$(status "$pid" CapPrm) $(status "$pid" CapEff) $(status "$pid" CapAmb)"
[ "$caps" = "0000000000000000 0000000000000000 0000000000000000" ] && pass "$PREFIX/no capabilities left" ||
	fail "$PREFIX/no capabilities left" "CapPrm CapEff CapAmb: $caps"
st="$(dq "$port") $(dq "$low") $(dq "$low" +tcp)"
[ "$st" = "NOERROR NOERROR NOERROR" ] && pass "$PREFIX/answers on $port and on $low (udp, tcp) after the drop" ||
	fail "$PREFIX/answers on $port and on $low (udp, tcp) after the drop" "$st"
stop_seedd
[ "$SEEDD_RC" = 0 ] && pass "$PREFIX/SIGTERM exits 0" || fail "$PREFIX/SIGTERM exits 0" "rc=$SEEDD_RC $(tail -n 3 "$dir/log")"
own=$(stat -c %u:%g "$dir/zone.csv" 2>&1)
[ "$own" = 65534:65534 ] && head -n 1 "$dir/zone.csv" | grep -q "^ns.$ZONE,hostmaster.$ZONE " &&
	pass "$PREFIX/zone.csv written by 65534" || fail "$PREFIX/zone.csv written by 65534" "$own $(ls -ln "$dir" | tr '\n' '|')"
root_files=$(find "$dir" -mindepth 1 -user 0 ! -name log)
[ -z "$root_files" ] && pass "$PREFIX/nothing written as root" || fail "$PREFIX/nothing written as root" "$root_files"

# --- UID:GID with another group ----------------------------------------------------
dir=$(new_dir); chown 65534:4242 "$dir"; port=$(free_port)
if start_seedd "$dir" --zone "$ZONE" --concurrency 0 --listen "127.0.0.1:$port" --user 65534:4242; then
	g=$(status "$SEEDD_PID" Gid) gs=$(status "$SEEDD_PID" Groups)
	[ "$g" = "4242 4242 4242 4242" ] && [ "$gs" = 4242 ] && grep -q 'msg="privileges dropped" uid=65534 gid=4242' "$dir/log" &&
		pass "$PREFIX/--user 65534:4242" || fail "$PREFIX/--user 65534:4242" "Gid: $g Groups: $gs"
	stop_seedd
else fail "$PREFIX/--user 65534:4242" "did not start: $(tail -n 3 "$dir/log")"; fi

# --- a data directory 65534 cannot write -------------------------------------------
dir=$(new_dir); chmod 0755 "$dir"; port=$(free_port)
timeout 10 "$SEEDD" --zone "$ZONE" -d "$dir" --concurrency 0 --listen "127.0.0.1:$port" --user 65534 2>"$TMPBASE/err"
rc=$?
line=$(grep '^seedd: ' "$TMPBASE/err")
case "$line" in
"seedd: --user 65534:65534: cannot write in the data directory as that user: "*"; chown it to 65534:65534")
	[ $rc = 1 ] && pass "$PREFIX/unwritable data dir exits 1 with the chown advice" ||
		fail "$PREFIX/unwritable data dir exits 1 with the chown advice" "rc=$rc" ;;
*) fail "$PREFIX/unwritable data dir exits 1 with the chown advice" "rc=$rc $(head -c 400 "$TMPBASE/err")" ;;
esac
[ -z "$(ls -A "$dir")" ] && pass "$PREFIX/unwritable data dir: nothing written as root" ||
	fail "$PREFIX/unwritable data dir: nothing written as root" "$(ls -ln "$dir" | tr '\n' '|')"
