#!/usr/bin/env bash
# make image: build/seedd-oci.tar, an OCI image archive made without a
# container engine (tools/oci-image.py), read back with skopeo: digests and
# sizes of every blob, the config (entry point, volume, ports, diff_id) as
# the Dockerfile says, the static binary inside the layer, reproducible
# output. Then docs/seedd.service checked with systemd-analyze verify.
source "$(dirname "$0")/../lib.sh"
P=appliance/image

if ! out=$(env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s -C "$ROOT" image 2>&1); then
	fail $P/make-image "$out"; exit 0
fi
archive="$ROOT/build/seedd-oci.tar"
sha() { sha256sum "$1" | cut -d' ' -f1; }
# json FILE EXPR: evaluate a Python expression over the JSON document j.
json() { python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }

if ! skopeo inspect "oci-archive:$archive" >"$TMPBASE/inspect.json" 2>"$TMPBASE/err"; then
	fail $P/skopeo-inspect "$(cat "$TMPBASE/err")"; exit 0
fi
[ "$(json "$TMPBASE/inspect.json" 'j["Architecture"], j["Os"], len(j["Layers"])')" = "('amd64', 'linux', 1)" ] \
	&& pass $P/skopeo-inspect || fail $P/skopeo-inspect "$(cat "$TMPBASE/inspect.json")"
skopeo inspect --raw "oci-archive:$archive" >"$TMPBASE/manifest.json" 2>/dev/null
skopeo inspect --config "oci-archive:$archive" >"$TMPBASE/config.json" 2>/dev/null

# Every blob in the archive is named by its SHA-256; the manifest's layer
# is the blob skopeo lists, with its size; the manifest is index.json's.
x="$TMPBASE/x"; mkdir -p "$x"; tar -xf "$archive" -C "$x"
bad=""
for b in "$x"/blobs/sha256/*; do [ "$(sha "$b")" = "$(basename "$b")" ] || bad="$bad $(basename "$b")"; done
[ -z "$bad" ] && [ "$(json "$x/oci-layout" 'j["imageLayoutVersion"]')" = 1.0.0 ] \
	&& pass $P/blob-digests || fail $P/blob-digests "mismatch:$bad"
ldig=$(json "$TMPBASE/inspect.json" 'j["Layers"][0]')
layer="$x/blobs/sha256/${ldig#sha256:}"
mdig=$(json "$x/index.json" 'j["manifests"][0]["digest"]')
[ -f "$layer" ] && [ "sha256:$(sha "$layer")" = "$ldig" ] \
	&& [ "$(json "$TMPBASE/manifest.json" 'j["layers"][0]["digest"], j["layers"][0]["size"], j["mediaType"]')" = \
	     "('$ldig', $(stat -c %s "$layer"), 'application/vnd.oci.image.manifest.v1+json')" ] \
	&& [ "sha256:$(sha "$x/blobs/sha256/${mdig#sha256:}")" = "$mdig" ] \
	&& pass $P/layer-digest || fail $P/layer-digest "layer $ldig; $(cat "$TMPBASE/manifest.json")"
gzip -dc "$layer" >"$TMPBASE/layer.tar"
[ "$(json "$TMPBASE/config.json" 'j["rootfs"]["diff_ids"]')" = "['sha256:$(sha "$TMPBASE/layer.tar")']" ] \
	&& pass $P/diff-id || fail $P/diff-id "$(json "$TMPBASE/config.json" 'j["rootfs"]')"

# The config: what the Dockerfile says.
[ "$(json "$TMPBASE/config.json" 'j["config"]["Entrypoint"], sorted(j["config"]["Volumes"]), sorted(j["config"]["ExposedPorts"])')" = \
  "(['/seedd', '--data-dir', '/data'], ['/data'], ['53/tcp', '53/udp'])" ] \
	&& pass $P/config || fail $P/config "$(json "$TMPBASE/config.json" 'j["config"]')"
df=$(sed -n 's/^ENTRYPOINT //p' "$ROOT/Dockerfile")
[ "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1]))' "$df")" = "$(json "$TMPBASE/config.json" 'j["config"]["Entrypoint"]')" ] \
	&& pass $P/config-matches-dockerfile || fail $P/config-matches-dockerfile "Dockerfile: $df"

# The layer: the tree of make rootfs, owned by 0:0; the binary is ./seedd.
list=$(tar -tvf "$TMPBASE/layer.tar")
names=$(tar -tf "$TMPBASE/layer.tar" | tr '\n' ' ')
[ "$names" = "data/ etc/ etc/ssl/ etc/ssl/certs/ etc/ssl/certs/ca-certificates.crt seedd " ] \
	&& ! printf '%s\n' "$list" | awk '$2 != "0/0"' | grep -q . \
	&& printf '%s\n' "$list" | grep -qE '^-rwxr-xr-x 0/0 .* seedd$' \
	&& pass $P/layer-contents || fail $P/layer-contents "$list"
mkdir -p "$TMPBASE/l"; tar -xf "$TMPBASE/layer.tar" -C "$TMPBASE/l"
cmp -s "$TMPBASE/l/seedd" "$SEEDD" && "$TMPBASE/l/seedd" --version | grep -q '^seedd ' \
	&& pass $P/binary-inside || fail $P/binary-inside "the layer's /seedd differs from ./seedd or does not run"
cmp -s "$TMPBASE/l/etc/ssl/certs/ca-certificates.crt" /etc/ssl/certs/ca-certificates.crt \
	&& pass $P/ca-bundle-inside || fail $P/ca-bundle-inside "not the build host's bundle"

# skopeo copies it (reading every blob against its digest) to an OCI layout.
skopeo copy -q "oci-archive:$archive" "oci:$TMPBASE/copy:seedd" >"$TMPBASE/err" 2>&1 \
	&& pass $P/skopeo-copy || fail $P/skopeo-copy "$(cat "$TMPBASE/err")"

# Reproducible: a copy of the tree with other owners and times packs to the
# same bytes for the same SOURCE_DATE_EPOCH; every mtime is that time.
cp -a "$ROOT/build/rootfs" "$TMPBASE/r2"
chown -R 1234:1234 "$TMPBASE/r2"; touch -d '2001-02-03 04:05:06' "$TMPBASE/r2"/seedd "$TMPBASE/r2"/data
SOURCE_DATE_EPOCH=1000000000 python3 "$ROOT/tools/oci-image.py" "$ROOT/build/rootfs" "$ROOT/Dockerfile" "$TMPBASE/a.tar" >/dev/null
SOURCE_DATE_EPOCH=1000000000 python3 "$ROOT/tools/oci-image.py" "$TMPBASE/r2" "$ROOT/Dockerfile" "$TMPBASE/b.tar" >/dev/null
mkdir -p "$TMPBASE/a"; tar -xf "$TMPBASE/a.tar" -C "$TMPBASE/a" 2>/dev/null
m=$(json "$TMPBASE/a/index.json" 'j["manifests"][0]["digest"][7:]' 2>/dev/null)
l=$(json "$TMPBASE/a/blobs/sha256/$m" 'j["layers"][0]["digest"][7:]' 2>/dev/null)
times=$( (TZ=UTC tar -tvf "$TMPBASE/a.tar"; gzip -dc "$TMPBASE/a/blobs/sha256/$l" | TZ=UTC tar -tv) 2>&1 | awk '{ print $4, $5 }' | sort -u)
[ -s "$TMPBASE/a.tar" ] && cmp -s "$TMPBASE/a.tar" "$TMPBASE/b.tar" && [ "$times" = "2001-09-09 01:46" ] \
	&& pass $P/reproducible || fail $P/reproducible "archives differ or times '$times'"

# The systemd unit for VPS installs: the hardening asked for, and a clean
# systemd-analyze verify (on a copy naming ./seedd, since verify wants
# the binary to exist) when systemd is installed.
U=appliance/systemd-unit
unit="$ROOT/docs/seedd.service"
missing=""
for k in DynamicUser=yes StateDirectory=seedd AmbientCapabilities=CAP_NET_BIND_SERVICE \
	CapabilityBoundingSet=CAP_NET_BIND_SERVICE NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes \
	PrivateTmp=yes 'RestrictAddressFamilies=AF_INET AF_INET6'; do
	grep -qx "$k" "$unit" || missing="$missing '$k'"
done
grep -q '^ExecStart=/usr/local/bin/seedd .*--data-dir /var/lib/seedd' "$unit" || missing="$missing ExecStart"
[ -z "$missing" ] && pass $U/hardening || fail $U/hardening "missing:$missing"
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir -p "$TMPBASE/unit"
	sed "s#/usr/local/bin/seedd#$SEEDD#" "$unit" >"$TMPBASE/unit/seedd.service"
	out=$(cd "$TMPBASE/unit" && systemd-analyze verify ./seedd.service 2>&1); rc=$?
	[ "$rc" = 0 ] && [ -z "$out" ] && pass $U/verify || fail $U/verify "exit $rc: $out"
else
	echo "SKIP $U/verify: no systemd-analyze on this machine"
fi
exit 0
