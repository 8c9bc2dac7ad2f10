/* What every fuzz target shares: libFuzzer's entry point and the invariant check. */
#ifndef SEEDD_FUZZ_H
#define SEEDD_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant stops the run with a crash libFuzzer records. */
#define REQUIRE(c)                          \
	do {                                    \
		if (!(c))                           \
			__builtin_trap();               \
	} while (0)

#endif
