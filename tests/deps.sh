#!/bin/sh
# Install everything building, testing and benchmarking seedd calls, on
# Debian bookworm (as root). Used by the README's set-up commands and by
# .ci/run. This is the one list: a test or bench that calls a new program
# adds its package here and the program to the check at the end.
set -eu
export DEBIAN_FRONTEND=noninteractive

# Debian packages, and what calls them.
pkgs="
gcc make libc6-dev dpkg-dev git
ca-certificates
iproute2
procps
util-linux
bind9-dnsutils
knot-dnsutils
clang libclang-rt-14-dev
python3 python3-websockets python3-libtorrent
openssl
curl
skopeo
prometheus
systemd
dnsperf nsd knot
"
# gcc make libc6-dev dpkg-dev  build (make, make SAN=1, the unit tests)
# git                 make image (SOURCE_DATE_EPOCH from the last commit)
# ca-certificates     make rootfs copies the CA bundle; npm ci over TLS
# iproute2            ss (tests/lib.sh free_port, dht_swarm, benches)
# procps              pgrep (bench/dns.sh)
# util-linux          unshare, nsenter (appliance_pid1), setpriv
#                     (files_and_flags), taskset (benches)
# bind9-dnsutils      dig (most integration tests, make demo, benches)
# knot-dnsutils       kdig (dns_* tests)
# clang libclang-rt-14-dev  libFuzzer (make fuzz, fuzz_smoke)
# python3 ...         /usr/bin/python3 with websockets (tests/sim) and
#                     libtorrent (tests/dht swarm)
# openssl             the simulated network's test CA (tests/sim/mkcerts.sh)
# curl                /metrics and /healthz (appliance_metrics)
# skopeo              reads the OCI archive back (appliance_image)
# prometheus          promtool check metrics (appliance_metrics)
# systemd             systemd-analyze verify docs/seedd.service (appliance_image)
# dnsperf nsd knot    make bench (bench/dns.sh: seedd against NSD and Knot); nsd and
#                     knot also as secondaries of seedd (xfr_secondaries)

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# apt-get download in third_party/fetch.sh needs fresh package lists too.
apt-get update -qq
if [ -n "$missing" ]; then
	# prometheus, nsd and knot are servers: their postinst must not start
	# them (prometheus on *:9090, nsd and knot on port 53) where no init
	# system would stop them: keep services from starting while installing.
	guard=""
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		guard=1
	fi
	rc=0
	apt-get install -y -qq --no-install-recommends $missing >/dev/null || rc=$?
	[ -z "$guard" ] || rm -f /usr/sbin/policy-rc.d
	[ "$rc" = 0 ]
	# Nor at the next boot: the tests and benches start their own copies
	# on loopback. Only for the servers installed just now, so that one set
	# up on purpose is left alone.
	for s in prometheus nsd knot; do
		case " $missing " in *" $s "*) deb-systemd-helper disable "$s.service" >/dev/null 2>&1 || true ;; esac
	done
fi
# The DHT swarm test (tests/dht): bittorrent-dht from npm, locked by
# tests/dht/package-lock.json. Debian's node only when there is none.
if ! command -v node >/dev/null 2>&1; then
	apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
dht="$(cd "$(dirname "$0")" && pwd)/dht"
if [ ! -d "$dht/node_modules" ]; then
	(cd "$dht" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

# Every program the tests and benches call, and what provides it.
absent=""
for c in gcc:gcc cc:gcc make:make git:git dpkg-deb:dpkg apt-get:apt \
	sha256sum:coreutils od:coreutils chroot:coreutils cmp:diffutils tar:tar gzip:gzip \
	ss:iproute2 pgrep:procps unshare:util-linux nsenter:util-linux setpriv:util-linux \
	taskset:util-linux dig:bind9-dnsutils kdig:knot-dnsutils clang:clang \
	/usr/bin/python3:python3 openssl:openssl curl:curl skopeo:skopeo promtool:prometheus \
	systemd-analyze:systemd dnsperf:dnsperf nsd:nsd knotd:knot node:nodejs npm:npm; do
	command -v "${c%%:*}" >/dev/null 2>&1 || absent="$absent ${c%%:*} (${c#*:})"
done
for m in websockets:python3-websockets libtorrent:python3-libtorrent; do
	/usr/bin/python3 -c "import ${m%%:*}" >/dev/null 2>&1 || absent="$absent python3 module ${m%%:*} (${m#*:})"
done
if command -v clang >/dev/null 2>&1; then
	[ -f "$(clang -print-resource-dir)/lib/linux/libclang_rt.fuzzer-x86_64.a" ] ||
		absent="$absent libFuzzer (libclang-rt-14-dev)"
fi
[ -f "$dht/node_modules/bittorrent-dht/package.json" ] || absent="$absent bittorrent-dht (npm ci in tests/dht)"
if [ -n "$absent" ]; then
	echo "tests/deps.sh: still missing:$absent" >&2
	exit 1
fi
