/*
 * evq: the simulator's events in a binary min-heap on (time, insertion
 * order), so events at the same millisecond are handled in the order
 * they were made and every run replays exactly.
 */
#include <stdio.h>
#include <stdlib.h>

#include "churn.h"

void
evq_init(struct evq *q)
{
	q->v = NULL;
	q->n = q->cap = 0;
	q->seq = 0;
}

void
evq_free(struct evq *q)
{
	free(q->v);
	evq_init(q);
}

static bool
before(const struct ev *a, const struct ev *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

void
evq_push(struct evq *q, struct ev e)
{
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 4096;
		struct ev *v = realloc(q->v, cap * sizeof(*v));
		if (!v) {
			fprintf(stderr, "churn: out of memory\n");
			exit(2);
		}
		q->v = v;
		q->cap = cap;
	}
	e.seq = q->seq++;
	size_t pos = q->n++;
	while (pos > 0) {
		size_t parent = (pos - 1) / 2;
		if (!before(&e, &q->v[parent]))
			break;
		q->v[pos] = q->v[parent];
		pos = parent;
	}
	q->v[pos] = e;
}

struct ev
evq_pop(struct evq *q)
{
	struct ev top = q->v[0], last = q->v[--q->n];
	size_t pos = 0;

	for (;;) {
		size_t c = 2 * pos + 1;
		if (c >= q->n)
			break;
		if (c + 1 < q->n && before(&q->v[c + 1], &q->v[c]))
			c++;
		if (!before(&q->v[c], &last))
			break;
		q->v[pos] = q->v[c];
		pos = c;
	}
	if (q->n)
		q->v[pos] = last;
	return top;
}
