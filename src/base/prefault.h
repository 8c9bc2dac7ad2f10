/*
 * prefault: ask the kernel for every page of a fresh buffer at once, with
 * one madvise(MADV_POPULATE_WRITE) call, instead of a page fault per 4 KiB
 * as it is first written. Page faults are dear in virtual machines (about
 * 10 us each on ours): a load that fills megabytes spent more time in them
 * than in parsing. Only for buffers about to be filled whole (the RSS is
 * the same either way). Best effort: kernels before 5.14 refuse the advice
 * and the pages come one fault at a time, as before.
 */
#ifndef SEEDD_PREFAULT_H
#define SEEDD_PREFAULT_H

#include <stddef.h>

void prefault(void *p, size_t len);

#endif
