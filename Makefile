# seedd: one hand-written Makefile.
#   make          the static musl binary ./seedd (stripped, --gc-sections)
#   make test     unit tests under ASan+UBSan (host compiler), then
#                 integration tests against ./seedd; ends "N passed, N failed"
#                 (then ", N skipped" when a check could not run here)
#   make fuzz     libFuzzer targets, FUZZ_SECONDS each (default 60)
#   make bench    dnsperf: seedd against NSD and Knot; a flood against seedd's
#                 and NSD's rate limiting; 100,000 nodes and 1,000,000
#                 infohashes (start, memory, disk writes, stop); a crawl of a
#                 simulated 5,000-node network; the DHT (not part of make test)
#   make sim      the churn simulator (tests/churn): 10,000 nodes for 60 simulated
#                 days under the baseline health model and ours; a Markdown table
#   make demo     seedd on docs/example-zone.csv at 127.0.0.1:5353, asked with dig
#   make rootfs   build/rootfs: the container image's tree (rootfs/README.md)
#   make image    build/seedd-oci.tar: that tree as an OCI image archive, no engine
#   make fresh-check  the README's two set-up commands in a fresh debootstrap
#                 root with the current commit (tools/fresh-check.sh; root,
#                 15-30 min; not part of make test)
#   make SAN=1    the binary itself under ASan+UBSan with the host compiler

TP      := third_party/root
SPECS   := third_party/musl-gcc.specs
FETCHED := third_party/.fetched
BEARSSL := $(TP)/usr/lib/x86_64-linux-gnu/libbearssl.a

CSTD  := -std=c11 -D_GNU_SOURCE
WARN  := -Wall -Wextra -Wshadow -Wconversion -Wpointer-arith -Wstrict-prototypes \
         -Wmissing-prototypes -Werror=implicit-function-declaration -Werror
INC   := -isystem $(TP)/usr/include -Isrc

# One folder per subsystem (docs/architecture.md); headers are included as "folder/name.h".
SRC     := $(wildcard src/*/*.c)
HDR     := $(wildcard src/*/*.h)
LIBSRC  := $(filter-out src/app/main.c,$(SRC))
UNITSRC := $(wildcard tests/unit/*.c tests/unit/*/*.c)
FUZZSRC := $(wildcard tests/fuzz/fuzz_*.c)
CHURNSRC := $(wildcard tests/churn/*.c)
CHURNLIB := src/crawl/crawl_core.c src/nodes/health.c src/nodes/node_table.c src/base/addr.c src/base/rng.c

MUSL_CFLAGS := $(CSTD) $(WARN) $(INC) -O2 -flto -ffunction-sections -fdata-sections \
               -fno-asynchronous-unwind-tables -fstack-protector-strong
SAN_FLAGS   := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_CFLAGS  := $(CSTD) $(WARN) $(INC) -O1 -g $(SAN_FLAGS)
FUZZ_CFLAGS := $(CSTD) $(INC) -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Isrc
# The library is compiled once for every target (instrumented, not linked with libFuzzer's main).
FUZZ_LIB_CFLAGS := $(CSTD) $(INC) -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all

MUSL_OBJ := $(patsubst src/%.c,build/musl/%.o,$(SRC)) build/musl/fortify_compat.o
SAN_OBJ  := $(patsubst src/%.c,build/san/%.o,$(LIBSRC))
FUZZ_OBJ := $(patsubst src/%.c,build/fuzzlib/%.o,$(LIBSRC))

FUZZ_SECONDS ?= 60

# make rootfs / make image: the CA bundle copied into the image, and the
# time stamped on every file of it (the last commit's, for reproducible builds).
CA_BUNDLE ?= /etc/ssl/certs/ca-certificates.crt
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

ifeq ($(SAN),1)
all: build/san/seedd
	cp build/san/seedd seedd
else
all: seedd
endif

$(FETCHED): third_party/packages.lock third_party/fetch.sh
	./third_party/fetch.sh
	touch $@

build/musl/%.o: src/%.c $(HDR) $(FETCHED)
	@mkdir -p $(@D)
	gcc -specs $(SPECS) $(MUSL_CFLAGS) -c -o $@ $<

# Debian's libbearssl.a wants glibc's checked memcpy family under musl.
build/musl/fortify_compat.o: third_party/fortify_compat.c $(FETCHED)
	@mkdir -p $(@D)
	gcc -specs $(SPECS) $(CSTD) -Wall -Wextra -Werror -Os -c -o $@ $<

seedd: $(MUSL_OBJ)
	gcc -specs $(SPECS) -static -s -O2 -flto -Wl,--gc-sections -o $@ $(MUSL_OBJ) $(BEARSSL)
	@echo "seedd: $$(stat -c %s $@) bytes"

build/san/%.o: src/%.c $(HDR) $(FETCHED)
	@mkdir -p $(@D)
	cc $(SAN_CFLAGS) -c -o $@ $<

build/san/seedd: $(SAN_OBJ) build/san/app/main.o
	cc $(SAN_FLAGS) -o $@ $^ $(BEARSSL)

build/san/unit: $(SAN_OBJ) $(UNITSRC) $(wildcard tests/unit/*.h tests/unit/*/*.h)
	cc $(SAN_CFLAGS) -Itests/unit -o $@ $(UNITSRC) $(SAN_OBJ) $(BEARSSL) -lm

unit: build/san/unit
	./build/san/unit

build/churn: $(CHURNSRC) tests/churn/churn.h $(CHURNLIB) $(HDR) $(FETCHED)
	@mkdir -p $(@D)
	cc $(CSTD) $(WARN) $(INC) -O2 -Isrc -o $@ $(CHURNSRC) $(CHURNLIB) $(BEARSSL) -lm

build/san/churn: $(CHURNSRC) tests/churn/churn.h $(HDR) $(patsubst src/%.c,build/san/%.o,$(CHURNLIB))
	cc $(SAN_CFLAGS) -Isrc -o $@ $(CHURNSRC) $(patsubst src/%.c,build/san/%.o,$(CHURNLIB)) $(BEARSSL) -lm

test: seedd build/san/unit build/san/churn
	./tests/run.sh

build/fuzzlib/%.o: src/%.c $(HDR) $(FETCHED)
	@mkdir -p $(@D)
	clang $(FUZZ_LIB_CFLAGS) -c -o $@ $<

build/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(FUZZ_OBJ) $(HDR) $(FETCHED)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_OBJ) $(BEARSSL)

fuzz: $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZSRC))
	./tests/fuzz/run.sh $(FUZZ_SECONDS)

bench: seedd
	./bench/dns.sh
	./bench/rrl.sh
	./bench/scale.sh
	./bench/crawl.sh
	./bench/dht.sh

demo: seedd
	./docs/demo.sh

sim: build/churn
	./build/churn

rootfs: seedd
	@test -s $(CA_BUNDLE) || { echo "make rootfs: no CA bundle at $(CA_BUNDLE) (install ca-certificates or set CA_BUNDLE=FILE)"; exit 1; }
	rm -rf build/rootfs
	@mkdir -p build
	cp -R rootfs build/rootfs
	rm -f build/rootfs/README.md build/rootfs/data/.keep
	install -m 0755 seedd build/rootfs/seedd
	install -D -m 0644 $(CA_BUNDLE) build/rootfs/etc/ssl/certs/ca-certificates.crt
	chmod -R u=rwX,go=rX build/rootfs

image: rootfs
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) python3 tools/oci-image.py build/rootfs Dockerfile build/seedd-oci.tar

fresh-check:
	./tools/fresh-check.sh

clean:
	rm -rf build seedd

.PHONY: all test unit fuzz bench demo rootfs image fresh-check clean sim
