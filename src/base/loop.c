#include "base/loop.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"

#define LOOP_BATCH 64

int64_t
loop_clock(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
loop_init(struct loop *l)
{
	memset(l, 0, sizeof(*l));
	l->sigfd = -1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->now = loop_clock();
	return l->epfd < 0 ? -1 : 0;
}

void
loop_close(struct loop *l)
{
	if (l->sigfd >= 0)
		close(l->sigfd);
	if (l->epfd >= 0)
		close(l->epfd);
	l->sigfd = l->epfd = -1;
}

int
loop_add(struct loop *l, struct loop_io *io, uint32_t mask)
{
	struct epoll_event ev = { .events = mask, .data.ptr = io };

	io->mask = mask;
	io->dead = false;
	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, io->fd, &ev);
}

int
loop_set(struct loop *l, struct loop_io *io, uint32_t mask)
{
	struct epoll_event ev = { .events = mask, .data.ptr = io };

	if (io->mask == mask || io->dead)
		return 0;
	io->mask = mask;
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, io->fd, &ev);
}

void
loop_del(struct loop *l, struct loop_io *io)
{
	if (io->dead)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL);
	close(io->fd);
	io->fd = -1;
	io->dead = true;
	io->next_dead = l->dead;
	l->dead = io;
}

int
loop_timer_new(struct loop *l, loop_timer_fn *cb, void *arg)
{
	for (int i = 0; i < LOOP_TIMERS; i++) {
		if (l->timers[i].cb == NULL) {
			l->timers[i].cb = cb;
			l->timers[i].arg = arg;
			l->timers[i].due = 0;
			return i;
		}
	}
	errno = ENOSPC;
	return -1;
}

void
loop_timer_arm(struct loop *l, int timer, int64_t in_ms)
{
	/* A slot never handed out (a module not started) is ignored, not written. */
	if (timer < 0 || timer >= LOOP_TIMERS || l->timers[timer].cb == NULL)
		return;
	/* due 0 means disarmed; the monotonic clock is never 0 ms here. */
	l->timers[timer].due = in_ms < 0 ? 0 : l->now + in_ms;
}

static void
on_sigfd(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct signalfd_siginfo si;

	(void)events;
	for (;;) {
		ssize_t n = read(io->fd, &si, sizeof(si));
		if (n != (ssize_t)sizeof(si))
			return; /* EAGAIN: drained */
		l->on_signal(l, (int)si.ssi_signo, l->signal_arg);
	}
}

int
loop_signals(struct loop *l, const int *signals, int n, loop_signal_fn *fn, void *arg)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	for (int i = 0; i < n; i++)
		sigaddset(&set, signals[i]);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	l->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (l->sigfd < 0)
		return -1;
	l->on_signal = fn;
	l->signal_arg = arg;
	l->sigio = (struct loop_io){ .fd = l->sigfd, .cb = on_sigfd };
	return loop_add(l, &l->sigio, EPOLLIN);
}

void
loop_stop(struct loop *l)
{
	l->stop = true;
}

static int
next_timeout(struct loop *l)
{
	int64_t next = -1;

	for (int i = 0; i < LOOP_TIMERS; i++)
		if (l->timers[i].cb != NULL && l->timers[i].due != 0 &&
		    (next < 0 || l->timers[i].due < next))
			next = l->timers[i].due;
	if (next < 0)
		return -1;
	return next <= l->now ? 0 : (int)(next - l->now > 60000 ? 60000 : next - l->now);
}

static void
run_timers(struct loop *l)
{
	for (int i = 0; i < LOOP_TIMERS; i++) {
		struct loop_timer *t = &l->timers[i];
		if (t->cb != NULL && t->due != 0 && t->due <= l->now) {
			t->due = 0; /* one-shot: the callback re-arms */
			t->cb(l, t->arg);
		}
	}
}

int
loop_run(struct loop *l)
{
	struct epoll_event evs[LOOP_BATCH];

	while (!l->stop) {
		int n = epoll_wait(l->epfd, evs, LOOP_BATCH, next_timeout(l));
		l->now = loop_clock();
		if (n < 0 && errno != EINTR) {
			log_error("loop", "msg=\"epoll_wait failed\" error=\"%s\"", strerror(errno));
			return -1;
		}
		for (int i = 0; i < n; i++) {
			struct loop_io *io = evs[i].data.ptr;
			if (!io->dead) /* closed earlier in this batch */
				io->cb(l, io, evs[i].events);
		}
		run_timers(l);
		while (l->dead != NULL) {
			struct loop_io *io = l->dead;
			l->dead = io->next_dead;
			if (io->free_cb != NULL)
				io->free_cb(io);
		}
	}
	return 0;
}
