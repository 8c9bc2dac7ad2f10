#include "base/prefault.h"

#include <stdint.h>
#include <sys/mman.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14; musl's headers predate it */
#endif

#define PREFAULT_MIN (64u << 10) /* below this a few faults cost less than the call */

void
prefault(void *p, size_t len)
{
	const uintptr_t page = 4096;
	/* madvise wants whole pages; those around the edges are mapped too (p is). */
	uintptr_t start = (uintptr_t)p & ~(page - 1);
	uintptr_t end = ((uintptr_t)p + len + page - 1) & ~(page - 1);

	if (len < PREFAULT_MIN)
		return;
	(void)madvise((void *)start, end - start, MADV_POPULATE_WRITE);
}
