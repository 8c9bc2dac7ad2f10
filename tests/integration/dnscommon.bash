# Helpers shared by tests/integration/dns_*.sh (sourced after ../lib.sh).
# Not named *.sh so tests/run.sh does not run it as a test.
# Every query goes to loopback only (127.0.0.0/8, ::1); dnsraw.py refuses
# anything else.

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3
ZONE=seed.example.com
TRANSPORTS="127.0.0.1/udp 127.0.0.1/tcp ::1/udp ::1/tcp"

# raw ARGS...: dnsraw.py CLI (query / send / build); prints a parsed reply.
raw() { "$PY" "$HERE/dnsraw.py" "$@"; }

# rq ADDR/PROTO PORT [dnsraw query options] NAME TYPE
rq() {
	local tp=$1 port=$2; shift 2
	local addr=${tp%/*} proto=${tp#*/} t=()
	[ "$proto" = tcp ] && t=(--tcp)
	raw query "${t[@]}" "$addr" "$port" "$@"
}

# rs ADDR/PROTO PORT HEX [timeout]: send raw bytes.
rs() {
	local tp=$1 port=$2 hex=$3 to=${4:-2}
	local addr=${tp%/*} proto=${tp#*/} t=()
	[ "$proto" = tcp ] && t=(--tcp)
	raw send "${t[@]}" --timeout "$to" "$addr" "$port" "$hex"
}

# hdr OUT KEY: a header field of a parsed reply ("" when there is none).
hdr() { printf '%s\n' "$1" | sed -n "s/^HDR.* $2=\([^ ]*\).*/\1/p"; }

# sec OUT SECTION [TYPE]: the record lines of one section (and type).
sec() {
	if [ $# -ge 3 ]; then
		printf '%s\n' "$1" | awk -v s="$2" -v t="$3" '$1==s && $5==t'
	else
		printf '%s\n' "$1" | awk -v s="$2" '$1==s'
	fi
}
# nsec OUT SECTION [TYPE]: how many.
nsec() { sec "$@" | grep -c . ; }
# rdatas OUT SECTION TYPE: the RDATA fields, one a line.
rdatas() { sec "$1" "$2" "$3" | awk '{ $1=$2=$3=$4=$5=""; sub(/^ +/, ""); print }'; }
# ttls OUT SECTION TYPE: the distinct TTLs of those records.
ttls() { sec "$1" "$2" "$3" | awk '{print $3}' | sort -u | tr '\n' ' ' | sed 's/ $//'; }
# hline OUT: the HDR line, for failure messages.
hline() { printf '%s\n' "$1" | grep -E '^(HDR|NOREPLY|UNPARSEABLE)' | head -n1; }
# brief OUT: the reply without the hex lines, on one line, for failure messages.
brief() { printf '%s\n' "$1" | grep -vE '^(RAW|QHEX) ' | head -n 12 | tr '\n' '|'; }

# t NAME REASON CMD...: pass when CMD succeeds, else fail with REASON.
t() {
	local n=$1 why=$2; shift 2
	if "$@"; then pass "$n"; else fail "$n" "$why"; fi
}
# eq A B: string equality, as a command.
eq() { [ "$1" = "$2" ]; }
has() { printf '%s\n' "$1" | grep -Eq -- "$2"; }
hasnt() { ! printf '%s\n' "$1" | grep -Eq -- "$2"; }

# A wrapper around dig: loopback server, short timeout, one try.
DIG() { dig +time=2 +tries=1 "$@" 2>&1; }
KDIG() { kdig +time=2 +retry=0 "$@" 2>&1; }
# digstatus OUT: the status: field of dig's header line.
digstatus() { printf '%s\n' "$1" | sed -n 's/.*status: \([A-Z]*\),.*/\1/p' | head -n1; }
digflags() { printf '%s\n' "$1" | sed -n 's/^;; flags: \([a-z ]*\);.*/\1/p' | head -n1; }

# write_soa DIR MINIMUM [MNAME] [RNAME] [SERIAL]: zone.csv with only its SOA line.
write_soa() {
	printf '%s,%s %s 28800 7200 604800 %s\n' "${3:-ns.$ZONE}" "${4:-hostmaster.$ZONE}" \
		"${5:-2026112201}" "$2" >"$1/zone.csv"
}
# add_rows DIR ROW...: append NAME,VALUE rows.
add_rows() { local d=$1; shift; printf '%s\n' "$@" >>"$d/zone.csv"; }

# start DIR PORTVAR ARGS...: seedd on 127.0.0.1:PORT and [::1]:PORT (plus
# ARGS), PORT taken from the variable named PORTVAR. free_port only sees
# listening sockets, so a port can still be held by some client's ephemeral
# socket: on "cannot bind" another free port is tried (and stored in
# PORTVAR). Any other failure is reported and ends the script.
start() {
	local dir=$1 var=$2 port try; shift 2
	port=${!var}
	for try in 1 2 3 4 5; do
		if start_seedd "$dir" --zone "$ZONE" --concurrency 0 -l "127.0.0.1:$port" -l "[::1]:$port" "$@"; then
			printf -v "$var" '%s' "$port"
			return 0
		fi
		grep -q "cannot bind" "$dir/log" 2>/dev/null || break
		port=$(free_port)
	done
	fail "start-seedd" "seedd did not start: $(tail -n 5 "$dir/log" 2>/dev/null | tr '\n' '|')"
	exit 1
}

# uniq_count: number of distinct non-empty input lines.
uniq_count() { grep . | sort -u | grep -c . ; }

# tag ADDR/PROTO: a short suffix for check names (udp4, tcp6, ...).
tag() {
	local a=${1%/*} p=${1#*/}
	case $a in *:*) echo "${p}6" ;; *) echo "${p}4" ;; esac
}

# qsec_hex NAME TYPE [CLASS]: the question section a query for NAME carries, as hex.
qsec_hex() { raw build --class "${3:-IN}" "$1" "$2" | cut -c25-; }

# stop_all: SIGTERM every seedd this script started and wait for it.
stop_all() { local p; for p in $SEEDD_PIDS; do stop_seedd "$p" >/dev/null; done; SEEDD_PIDS=""; }

# pyrun ARGS... <<'EOF': inline python (with dnsraw importable) that prints
# PASS/FAIL lines itself; a crash is reported as a failed check.
pyrun() {
	local rc
	PYTHONPATH="$HERE" "$PY" - "$@"
	rc=$?
	[ "$rc" = 0 ] || fail "inline-python-at-line-${BASH_LINENO[0]}" "python exited $rc"
	return "$rc"
}
