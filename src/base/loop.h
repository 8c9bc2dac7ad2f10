/*
 * loop: the one epoll event loop, its timers and its signals.
 *
 * A struct loop_io is one descriptor's registration. Closing it during a
 * batch marks it dead; later events of the same batch for it are skipped
 * and its memory is released by the owner's free callback after the batch
 * (no stale events, no use after free). Interest follows state: callers set
 * the mask they need and the loop calls epoll_ctl only when it changes.
 * Timers are a small fixed table: each module owns one and re-arms it.
 * Signals arrive through a signalfd as ordinary events.
 * Functions return -1 with errno set on failure.
 */
#ifndef SEEDD_LOOP_H
#define SEEDD_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#define LOOP_TIMERS 16

struct loop;
struct loop_io;

typedef void loop_io_fn(struct loop *l, struct loop_io *io, uint32_t events);
typedef void loop_free_fn(struct loop_io *io);
typedef void loop_timer_fn(struct loop *l, void *arg);
typedef void loop_signal_fn(struct loop *l, int signo, void *arg);

struct loop_io {
	int fd;
	uint32_t mask;
	bool dead;
	loop_io_fn *cb;
	loop_free_fn *free_cb; /* called after the batch that closed it; may be NULL */
	void *arg;
	struct loop_io *next_dead;
};

struct loop_timer {
	int64_t due; /* monotonic ms; 0 = disarmed */
	loop_timer_fn *cb;
	void *arg;
};

struct loop {
	int epfd;
	int sigfd;
	bool stop;
	int64_t now; /* monotonic ms, refreshed every iteration */
	struct loop_timer timers[LOOP_TIMERS];
	struct loop_io *dead;
	loop_signal_fn *on_signal;
	void *signal_arg;
	struct loop_io sigio;
};

int loop_init(struct loop *l);
void loop_close(struct loop *l);
int64_t loop_clock(void);

int loop_add(struct loop *l, struct loop_io *io, uint32_t mask);
int loop_set(struct loop *l, struct loop_io *io, uint32_t mask);
/* Deregister and close the descriptor; the memory goes after the batch. */
void loop_del(struct loop *l, struct loop_io *io);

/* A timer slot (0..LOOP_TIMERS-1); arm it due in_ms from now, or disarm with in_ms < 0. */
int loop_timer_new(struct loop *l, loop_timer_fn *cb, void *arg);
void loop_timer_arm(struct loop *l, int timer, int64_t in_ms);

/* Block these signals and deliver them to fn through the loop; SIGPIPE is ignored. */
int loop_signals(struct loop *l, const int *signals, int n, loop_signal_fn *fn, void *arg);

/* Run until loop_stop. */
int loop_run(struct loop *l);
void loop_stop(struct loop *l);

#endif
