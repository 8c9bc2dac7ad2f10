#!/usr/bin/env bash
# make fresh-check: the README's two set-up commands on a fresh machine.
#
# Builds a `debootstrap --variant=minbase bookworm` root in a temp dir, from
# the Debian mirror this machine's apt uses (its Debian sources, security
# and updates included, are copied in; third-party ones are not), adds only
# git and ca-certificates, trusts the same extra certificate authorities as
# this machine (/usr/local/share/ca-certificates: package registries may be
# reached through a TLS-intercepting proxy) and uses its /etc/resolv.conf.
# Clones the current commit to /root/seedd in it, then runs there, in
# chroot, exactly
#     ./tests/deps.sh && make demo
#     ./tests/deps.sh && make test
# and prints the last lines and exit status of each. Not part of make test;
# takes 15-30 minutes and a few GB in the temp dir; needs root and
# debootstrap. The servers tests start listen on loopback, shared with this
# machine: do not run make test or make demo here meanwhile.
#
# Mounts in the root: itself (bound on itself, so that / is a mount point
# inside, as on a real machine), /proc, /sys, /dev, /dev/pts, a tmpfs on
# /dev/shm. All are undone, and processes left in the root killed, on every
# exit path.
#
# Exit status: 0 when the demo worked and make test ended "N passed,
# 0 failed"; 1 when either did not; 2 when the root could not be set up.
#
# Environment:
#   FRESH_KEEP=1    keep the temp dir (the root, and the logs next to it)
#   FRESH_MIRROR    Debian mirror for debootstrap (default: this machine's)
#   FRESH_LINES     lines of each log printed at the end (default 15)
#   FRESH_TIMEOUT   seconds each command may take (default 3600)
#   TMPDIR          where the temp dir goes (default /var/tmp)
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
SUITE=bookworm
LINES_SHOWN=${FRESH_LINES:-15}
TIMEOUT=${FRESH_TIMEOUT:-3600}
CMDS=("./tests/deps.sh && make demo" "./tests/deps.sh && make test")
NAMES=(demo test)

say() { echo "fresh-check: $*"; }
die() { echo "fresh-check: $*" >&2; exit 2; }

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, mount, chroot)"
for t in debootstrap chroot mount umount mountpoint git timeout; do
	command -v "$t" >/dev/null 2>&1 || die "$t missing (apt-get install debootstrap)"
done

# --- this machine's apt sources -----------------------------------------------
# One line per source: "URI SUITE COMPONENTS..." from sources.list (one-line
# format) and sources.list.d/*.list and *.sources (deb822), enabled binary
# ("deb") sources only.
host_sources() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		# deb [options] URI SUITE COMPONENTS...
		sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" | awk '$1 == "deb" && NF >= 3 { $1 = ""; sub(/^ /, ""); print }'
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk '
		function flush(   i, j, nu, ns, u, s) {
			if (types ~ /(^| )deb( |$)/ && tolower(enabled) != "no") {
				nu = split(uris, u, " "); ns = split(suites, s, " ")
				for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++) print u[i], s[j], comps
			}
			types = uris = suites = comps = ""; enabled = "yes"
		}
		BEGIN { enabled = "yes" }
		/^[ \t]*#/ { next }
		/^[ \t]*$/ { flush(); next }
		/^[ \t]/ { next }                      # continuation (an inline key)
		{
			k = tolower($1); v = $0; sub(/^[^:]*:[ \t]*/, "", v)
			if (k == "types:") types = v
			else if (k == "uris:") uris = v
			else if (k == "suites:") suites = v
			else if (k == "components:") comps = v
			else if (k == "enabled:") enabled = v
		}
		END { flush() }' "$f"
	done
}
# uri_host URI: the host part.
uri_host() { local h=${1#*://}; h=${h%%/*}; echo "${h##*@}"; }

sources=$(host_sources)
mirror=${FRESH_MIRROR:-}
if [ -z "$mirror" ]; then
	mirror=$(awk -v s="$SUITE" '$2 == s && / main( |$)/ { print $1; exit }' <<<"$sources")
fi
[ -n "$mirror" ] || die "no '$SUITE main' source in this machine's apt sources: set FRESH_MIRROR=URL"
mirror_host=$(uri_host "$mirror")
# The Debian sources for this suite (main, updates, security, backports): on
# the mirror's host or a debian.org one. Third-party repositories are left out.
debian_sources=$(while read -r uri suite comps; do
	[ -n "$uri" ] || continue
	case $suite in "$SUITE" | "$SUITE"-* | "$SUITE"/*) ;; *) continue ;; esac
	h=$(uri_host "$uri")
	case $h in "$mirror_host" | debian.org | *.debian.org) echo "deb $uri $suite $comps" ;; esac
done <<<"$sources" | awk '!seen[$0]++')
[ -n "$debian_sources" ] || debian_sources="deb $mirror $SUITE main"
# An HTTP proxy apt is configured with, for debootstrap and the root's apt.
proxy=$(apt-config dump 2>/dev/null | sed -n 's/^Acquire::http::Proxy "\(.*\)";$/\1/p' | head -n 1)

# --- the temp dir, and its undoing ---------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/seedd-fresh.XXXXXX")
ROOTFS="$WORK/root"
mkdir -p "$ROOTFS"
MOUNTS=()
CHILD=""

# Processes whose root is in ours (left over by a test or a postinst).
root_pids() {
	local d r
	for d in /proc/[0-9]*; do
		r=$(readlink "$d/root" 2>/dev/null) || continue
		[ "$r" = "$ROOTFS" ] || [ "${r#"$ROOTFS"/}" != "$r" ] && echo "${d#/proc/}"
	done
	return 0
}
# Every mount point at or under the root, deepest first.
mounts_below() {
	awk -v r="$ROOTFS" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}
cleanup() {
	local rc=$? p i m left
	trap - EXIT INT TERM
	# The command being waited for (debootstrap, timeout) when a signal came.
	if [ -n "$CHILD" ] && kill -0 "$CHILD" 2>/dev/null; then
		kill -TERM "$CHILD" 2>/dev/null || true
		sleep 1
		kill -KILL "$CHILD" 2>/dev/null || true
	fi
	p=$(root_pids)
	if [ -n "$p" ]; then
		# shellcheck disable=SC2086
		kill -TERM $p 2>/dev/null || true
		sleep 1
		p=$(root_pids)
		# shellcheck disable=SC2086
		[ -z "$p" ] || kill -KILL $p 2>/dev/null || true
		sleep 0.2
	fi
	for (( i = ${#MOUNTS[@]} - 1; i >= 0; i-- )); do
		m=${MOUNTS[$i]}
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || echo "fresh-check: cannot unmount $m" >&2
	done
	# Anything else still mounted there (lazily, deepest first).
	for m in $(mounts_below); do umount -l "$m" 2>/dev/null || true; done
	left=$(mounts_below)
	if [ -n "${FRESH_KEEP:-}" ]; then
		say "kept $WORK (the root in $ROOTFS, the logs in $WORK/*.log)"
	elif [ -n "$left" ]; then
		echo "fresh-check: still mounted, not deleting $WORK: $left" >&2
	else
		rm -rf --one-file-system "$WORK"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'say interrupted; exit 130' INT
trap 'say terminated; exit 143' TERM

mnt() { # mnt TARGET MOUNT-ARGS...: mount and remember it
	local target=$1; shift
	mount "$@" "$target"
	MOUNTS+=("$target")
}
# in_root COMMAND: run a shell command in the root, with a clean environment
# as a root login on a fresh machine would have.
ROOT_ENV=(/usr/bin/env -i HOME=/root USER=root LOGNAME=root SHELL=/bin/bash TERM=dumb LANG=C.UTF-8
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
in_root() { chroot "$ROOTFS" "${ROOT_ENV[@]}" /bin/bash -c "$1"; }
# bg_wait COMMAND...: run it in the background and wait, so that INT and
# TERM are acted on at once (bash runs a trap only between commands).
bg_wait() {
	local rc=0
	"$@" &
	CHILD=$!
	wait "$CHILD" || rc=$?
	CHILD=""
	return "$rc"
}
now() { date +%s; }
took() { local s=$(( $(now) - $1 )); printf '%dm%02ds' $(( s / 60 )) $(( s % 60 )); }

t_all=$(now)
say "root in $ROOTFS; mirror $mirror${proxy:+ (through $proxy)}"
say "apt sources in the root:"
sed 's/^/    /' <<<"$debian_sources"

# --- debootstrap -----------------------------------------------------------------
t=$(now)
if ! http_proxy=${proxy:-${http_proxy:-}} bg_wait debootstrap --variant=minbase "$SUITE" "$ROOTFS" "$mirror" \
	>"$WORK/debootstrap.log" 2>&1; then
	tail -n 20 "$WORK/debootstrap.log" >&2
	die "debootstrap failed (log: $WORK/debootstrap.log)"
fi
say "debootstrap --variant=minbase $SUITE: $(took "$t")"

# --- mounts ----------------------------------------------------------------------
# The root bound on itself and made private (nothing mounted below it
# propagates back to this machine's mounts), so that / is a mount point in
# the chroot.
mnt "$ROOTFS" --bind "$ROOTFS"
mount --make-private "$ROOTFS"
mnt "$ROOTFS/proc" -t proc proc
mnt "$ROOTFS/sys" -t sysfs sysfs
mnt "$ROOTFS/dev" --bind /dev
mkdir -p "$ROOTFS/dev/pts" "$ROOTFS/dev/shm"
mnt "$ROOTFS/dev/pts" --bind /dev/pts
mnt "$ROOTFS/dev/shm" -t tmpfs -o mode=1777,nosuid,nodev tmpfs
mountpoint -q "$ROOTFS" || die "the root is not a mount point after binding it"

# --- apt sources, resolver, git and ca-certificates, the CAs -------------------
t=$(now)
printf '%s\n' "$debian_sources" >"$ROOTFS/etc/apt/sources.list"
rm -f "$ROOTFS"/etc/apt/sources.list.d/*
[ -z "$proxy" ] || printf 'Acquire::http::Proxy "%s";\n' "$proxy" >"$ROOTFS/etc/apt/apt.conf.d/01proxy"
rm -f "$ROOTFS/etc/resolv.conf"
cp -L /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
if ! bg_wait in_root 'export DEBIAN_FRONTEND=noninteractive; apt-get update -qq &&
	apt-get install -y -qq --no-install-recommends git ca-certificates' >"$WORK/setup.log" 2>&1; then
	tail -n 20 "$WORK/setup.log" >&2
	die "installing git and ca-certificates failed"
fi
if [ -d /usr/local/share/ca-certificates ]; then
	cp -a /usr/local/share/ca-certificates/. "$ROOTFS/usr/local/share/ca-certificates/"
fi
in_root 'update-ca-certificates' >>"$WORK/setup.log" 2>&1 || die "update-ca-certificates failed"
git clone -q --no-hardlinks "$REPO" "$ROOTFS/root/seedd" || die "git clone $REPO failed"
commit=$(git -C "$ROOTFS/root/seedd" log -1 --format='%h (%cd)' --date=format:'%Y-%m-%d %H:%M')
say "git and ca-certificates installed, $(ls /usr/local/share/ca-certificates 2>/dev/null | wc -l) extra CA file(s), cloned $commit: $(took "$t")"

# --- the README's two commands -----------------------------------------------------
declare -A RC=() TOOK=()
for i in "${!CMDS[@]}"; do
	n=${NAMES[$i]}
	say "running in the root: cd /root/seedd && ${CMDS[$i]}"
	t=$(now)
	rc=0
	bg_wait timeout -k 10 "$TIMEOUT" chroot "$ROOTFS" "${ROOT_ENV[@]}" /bin/bash -c "cd /root/seedd && ${CMDS[$i]}" \
		>"$WORK/$n.log" 2>&1 </dev/null || rc=$?
	RC[$n]=$rc
	TOOK[$n]=$(took "$t")
	say "$n: exit $rc after ${TOOK[$n]}"
	# Whatever it left running would stay bound to loopback ports.
	p=$(root_pids)
	if [ -n "$p" ]; then
		say "left running in the root after $n, killed: $(for q in $p; do cat "/proc/$q/comm" 2>/dev/null; done | sort | uniq -c | tr -s ' \n' ' ')"
		# shellcheck disable=SC2086
		kill -KILL $p 2>/dev/null || true
	fi
done

# --- results -----------------------------------------------------------------------
demo_ok=0; test_ok=0
[ "${RC[demo]}" = 0 ] && grep -q 'status: NOERROR' "$WORK/demo.log" && demo_ok=1
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$WORK/test.log" | tail -n 1 || true)
[ "${RC[test]}" = 0 ] && [[ $summary =~ ^[0-9]+\ passed,\ 0\ failed ]] && test_ok=1
size=$(stat -c %s "$ROOTFS/root/seedd/seedd" 2>/dev/null || echo "?")
for i in "${!CMDS[@]}"; do
	n=${NAMES[$i]}
	echo
	echo "==== ${CMDS[$i]}: exit ${RC[$n]} after ${TOOK[$n]}; last $LINES_SHOWN lines:"
	tail -n "$LINES_SHOWN" "$WORK/$n.log"
	if [ "$n" = test ]; then
		f=$(grep -E '^FAIL ' "$WORK/test.log" || true)
		s=$(grep -E '^SKIP ' "$WORK/test.log" || true)
		[ -z "$f" ] || { echo "---- the FAIL lines:"; echo "$f"; }
		[ -z "$s" ] || { echo "---- the SKIP lines:"; echo "$s"; }
	fi
done
echo
say "commit $commit; seedd $size bytes"
say "demo: $([ $demo_ok = 1 ] && echo works || echo FAILED) (exit ${RC[demo]}, ${TOOK[demo]})"
say "test: ${summary:-no summary line} (exit ${RC[test]}, ${TOOK[test]})"
say "total $(took "$t_all")"
[ $demo_ok = 1 ] && [ $test_ok = 1 ]
