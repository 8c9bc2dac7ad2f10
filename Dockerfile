# seedd as a FROM scratch image: run `make rootfs` first (build/rootfs/ is the
# binary at /seedd, an empty /data and the build host's CA bundle; see
# rootfs/README.md). `make image` builds the same image as an OCI archive
# without a container engine, reading its settings from this file
# (tools/oci-image.py), so keep to these instructions.
FROM scratch
COPY build/rootfs/ /
VOLUME ["/data"]
EXPOSE 53/udp 53/tcp
ENTRYPOINT ["/seedd", "--data-dir", "/data"]
