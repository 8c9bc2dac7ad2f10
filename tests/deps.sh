#!/bin/sh
# Install what building and testing seedd needs on Debian bookworm (as root).
# Used by the README's set-up commands and by .ci/run.
set -eu
export DEBIAN_FRONTEND=noninteractive
pkgs="gcc make libc6-dev dpkg-dev ca-certificates iproute2 procps util-linux
      dnsutils knot-dnsutils clang libclang-rt-14-dev python3 python3-dnslib
      python3-websockets openssl python3-libtorrent skopeo prometheus"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# apt-get download in third_party/fetch.sh needs fresh package lists too.
apt-get update -qq
if [ -n "$missing" ]; then
	# prometheus is here for promtool (tests/integration/appliance_metrics.sh);
	# its postinst must not start the server (on *:9090) where no init
	# system would stop it: keep services from starting while installing.
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
