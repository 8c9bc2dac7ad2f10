#!/usr/bin/env bash
# mkcerts.sh DIR: a throw-away test CA and the node certificates of the
# simulated network (topo.py kinds), RSA 2048, made with openssl:
#   ca.pem                    the trust anchor (seedd --ca-file)
#   tls1.pem/.key             tls1.net.test, signed by the CA
#   tls4.pem/.key             tls4.net.test, signed by the CA
#   wrongname.pem/.key        wrong.net.test, signed by the CA (served as tls2.net.test)
#   selfsigned.pem/.key       tls3.net.test, self-signed (not from the CA)
set -euo pipefail
d=$1
mkdir -p "$d"
cd "$d"
q() { "$@" >/dev/null 2>&1 || { echo "mkcerts: failed: $*" >&2; "$@"; exit 1; }; }

q openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 30 \
	-subj "/CN=seedd test CA" \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"

leaf() { # NAME FILE: a leaf for NAME signed by the CA
	local name=$1 f=$2
	q openssl req -newkey rsa:2048 -nodes -keyout "$f.key" -out "$f.csr" -subj "/CN=$name"
	printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:%s\n' \
		"$name" >"$f.ext"
	q openssl x509 -req -in "$f.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$f.pem" \
		-days 30 -sha256 -extfile "$f.ext"
	rm -f "$f.csr" "$f.ext"
}
leaf tls1.net.test tls1
leaf tls4.net.test tls4
leaf wrong.net.test wrongname
q openssl req -x509 -newkey rsa:2048 -nodes -keyout selfsigned.key -out selfsigned.pem -days 30 \
	-subj "/CN=tls3.net.test" -addext "subjectAltName=DNS:tls3.net.test"
