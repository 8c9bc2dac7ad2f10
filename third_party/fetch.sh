#!/bin/sh
# Fetch the pinned Debian packages, check their SHA-256 and unpack them into
# third_party/root. Idempotent: a package already unpacked at the pinned
# version is left alone. Needs apt-get (run `apt-get update` once on a fresh
# machine) and dpkg-deb.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
debs="$here/debs"
root="$here/root"
mkdir -p "$debs" "$root"

grep -v '^#' "$here/packages.lock" | while read -r name ver sum; do
	[ -n "$name" ] || continue
	stamp="$root/.$name.$sum"
	[ -f "$stamp" ] && continue
	deb=$(ls "$debs"/"${name}"_*.deb 2>/dev/null | head -n 1 || true)
	if [ -z "$deb" ] || ! echo "$sum  $deb" | sha256sum -c --status; then
		rm -f "$debs"/"${name}"_*.deb
		(cd "$debs" && apt-get download -q "$name=$ver") || {
			echo "fetch.sh: cannot download $name=$ver; run 'apt-get update' first" >&2
			exit 1
		}
		deb=$(ls "$debs"/"${name}"_*.deb | head -n 1)
	fi
	if ! echo "$sum  $deb" | sha256sum -c --status; then
		echo "fetch.sh: $deb does not match the pinned SHA-256 $sum" >&2
		exit 1
	fi
	dpkg-deb -x "$deb" "$root"
	touch "$stamp"
done

# Debian's musl-gcc.specs names /usr paths; ours points into third_party/root
# so that the musl build never sees glibc's headers.
sed -e "s#/usr/include/x86_64-linux-musl#$root/usr/include/x86_64-linux-musl#g" \
    -e "s#/usr/lib/x86_64-linux-musl#$root/usr/lib/x86_64-linux-musl#g" \
    "$root/usr/lib/x86_64-linux-musl/musl-gcc.specs" > "$here/musl-gcc.specs"
