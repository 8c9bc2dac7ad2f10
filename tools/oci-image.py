#!/usr/bin/env python3
"""Pack a root file system as an OCI image archive, without a container engine.

    tools/oci-image.py ROOTFS DOCKERFILE OUT.tar

ROOTFS (build/rootfs from `make rootfs`) becomes one gzip'd tar layer. The
image config (Entrypoint, Cmd, Volumes, ExposedPorts, StopSignal) is read
from DOCKERFILE, so the archive and a `docker build` of that Dockerfile
describe the same image. The Dockerfile may hold only FROM scratch, one
COPY of build/rootfs/ to /, and ENTRYPOINT/CMD (JSON form), VOLUME,
EXPOSE, STOPSIGNAL; anything else is an error.

OUT.tar is an OCI image layout (oci-layout, index.json, blobs/sha256/…) in
a tar, what `skopeo copy … oci-archive:OUT.tar` reads and writes; the index
names the image `latest`. Output is reproducible: entries sorted, owned by
0:0 with no user or group names, every mtime (and the config's `created`)
set to $SOURCE_DATE_EPOCH (0 when unset), gzip without name or time.
Python 3 standard library only.
"""
import gzip
import hashlib
import io
import json
import os
import shlex
import stat
import sys
import tarfile
import time

LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"
CONFIG_TYPE = "application/vnd.oci.image.config.v1+json"
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
INDEX_TYPE = "application/vnd.oci.image.index.v1+json"
REF_NAME = "latest"


def die(msg):
    sys.stderr.write("oci-image: %s\n" % msg)
    sys.exit(1)


def read_dockerfile(path):
    """The image config of a FROM-scratch Dockerfile (see the module text)."""
    cfg = {}
    seen = set()
    with open(path) as f:
        lines = f.read().split("\n")
    for no, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            die("%s:%d: line continuations are not supported" % (path, no))
        instr, _, arg = line.partition(" ")
        instr = instr.upper()
        arg = arg.strip()
        where = "%s:%d: %s" % (path, no, instr)
        if instr == "FROM":
            if arg != "scratch":
                die("%s: only 'FROM scratch' is supported" % where)
        elif instr == "COPY":
            if arg.split() != ["build/rootfs/", "/"]:
                die("%s: only 'COPY build/rootfs/ /' is supported" % where)
        elif instr in ("ENTRYPOINT", "CMD"):
            try:
                v = json.loads(arg)
            except ValueError:
                v = None
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                die("%s: give a JSON array of strings" % where)
            cfg["Entrypoint" if instr == "ENTRYPOINT" else "Cmd"] = v
        elif instr == "VOLUME":
            v = json.loads(arg) if arg.startswith("[") else shlex.split(arg)
            cfg.setdefault("Volumes", {}).update({x: {} for x in v})
        elif instr == "EXPOSE":
            for p in arg.split():
                if "/" not in p:
                    p += "/tcp"
                num, proto = p.split("/", 1)
                if not num.isdigit() or proto not in ("tcp", "udp", "sctp"):
                    die("%s: bad port '%s'" % (where, p))
                cfg.setdefault("ExposedPorts", {})[p] = {}
        elif instr == "STOPSIGNAL":
            cfg["StopSignal"] = arg
        else:
            die("%s: not supported by tools/oci-image.py" % where)
        seen.add(instr)
    if "FROM" not in seen or "COPY" not in seen:
        die("%s: needs 'FROM scratch' and 'COPY build/rootfs/ /'" % path)
    return cfg


def layer_tar(root, mtime):
    """The uncompressed layer: every entry under root, sorted, 0:0, mtime fixed."""
    paths = []
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            paths.append(os.path.relpath(os.path.join(dirpath, n), root))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for rel in sorted(paths):
            full = os.path.join(root, rel)
            st = os.lstat(full)
            ti = tarfile.TarInfo(rel)
            ti.mode = stat.S_IMODE(st.st_mode)
            ti.uid = ti.gid = 0
            ti.uname = ti.gname = ""
            ti.mtime = mtime
            if stat.S_ISDIR(st.st_mode):
                ti.type = tarfile.DIRTYPE
                t.addfile(ti)
            elif stat.S_ISREG(st.st_mode):
                ti.size = st.st_size
                with open(full, "rb") as f:
                    t.addfile(ti, f)
            elif stat.S_ISLNK(st.st_mode):
                ti.type = tarfile.SYMTYPE
                ti.linkname = os.readlink(full)
                t.addfile(ti)
            else:
                die("%s: not a file, directory or symlink" % full)
    return buf.getvalue()


def gz(data):
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=9) as g:
        g.write(data)
    return out.getvalue()


def canon(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def main():
    if len(sys.argv) != 4:
        die("usage: tools/oci-image.py ROOTFS DOCKERFILE OUT.tar")
    root, dockerfile, out = sys.argv[1:]
    if not os.path.isdir(root):
        die("%s: no such directory (run make rootfs)" % root)
    mtime = int(os.environ.get("SOURCE_DATE_EPOCH") or 0)
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(mtime))
    imgcfg = read_dockerfile(dockerfile)

    # The Makefile builds x86-64 only: say so, and check the entry point is that.
    entry = imgcfg.get("Entrypoint", [None])[0]
    if entry:
        try:
            with open(os.path.join(root, entry.lstrip("/")), "rb") as f:
                head = f.read(20)
        except OSError as e:
            die("entry point %s: %s" % (entry, e.strerror))
        if head[:4] != b"\x7fELF" or head[18:20] != b"\x3e\x00":
            die("entry point %s is not an x86-64 ELF file" % entry)

    layer = layer_tar(root, mtime)
    layer_gz = gz(layer)
    config = canon({
        "created": created,
        "architecture": "amd64",
        "os": "linux",
        "config": imgcfg,
        "rootfs": {"type": "layers", "diff_ids": [digest(layer)]},
        "history": [{"created": created, "created_by": "make image (tools/oci-image.py)"}],
    })
    manifest = canon({
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": {"mediaType": CONFIG_TYPE, "digest": digest(config), "size": len(config)},
        "layers": [{"mediaType": LAYER_TYPE, "digest": digest(layer_gz), "size": len(layer_gz)}],
    })
    index = canon({
        "schemaVersion": 2,
        "mediaType": INDEX_TYPE,
        "manifests": [{
            "mediaType": MANIFEST_TYPE,
            "digest": digest(manifest),
            "size": len(manifest),
            "platform": {"architecture": "amd64", "os": "linux"},
            "annotations": {"org.opencontainers.image.ref.name": REF_NAME},
        }],
    })
    layout = canon({"imageLayoutVersion": "1.0.0"})

    files = [("oci-layout", layout), ("index.json", index)]
    for blob in sorted({layer_gz, config, manifest}, key=digest):
        files.append(("blobs/sha256/" + digest(blob)[7:], blob))
    tmp = out + ".tmp"
    with tarfile.open(tmp, mode="w", format=tarfile.PAX_FORMAT) as t:
        for d in ("blobs", "blobs/sha256"):
            ti = tarfile.TarInfo(d)
            ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, mtime
            t.addfile(ti)
        for name, data in files:
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode, ti.mtime = len(data), 0o644, mtime
            t.addfile(ti, io.BytesIO(data))
    os.rename(tmp, out)
    print("%s: %s, layer %s (%d bytes gzip'd, %d bytes tar)"
          % (out, digest(manifest), digest(layer_gz), len(layer_gz), len(layer)))


if __name__ == "__main__":
    main()
