/*
 * list.h - the one doubly-linked list: a struct list is both the head and
 * the link embedded in an element (Linux's list_head, nginx's ngx_queue_t).
 * An empty head points at itself, so adding and removing never test for
 * the ends.  No allocation: elements are owned by whoever embeds the link.
 */
#ifndef PINHOLE_LIST_H
#define PINHOLE_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct list {
	struct list *prev, *next;
};

/* The element of type `type` whose member `member` is the link l. */
#define list_entry(l, type, member) ((type *)((char *)(l)-offsetof(type, member)))

static inline void list_init(struct list *head)
{
	head->prev = head->next = head;
}

static inline bool list_empty(const struct list *head)
{
	return head->next == head;
}

/* Inserts n right after at (at the front when at is the head). */
static inline void list_insert_after(struct list *at, struct list *n)
{
	n->prev = at;
	n->next = at->next;
	at->next->prev = n;
	at->next = n;
}

static inline void list_add_front(struct list *head, struct list *n)
{
	list_insert_after(head, n);
}

static inline void list_add_back(struct list *head, struct list *n)
{
	list_insert_after(head->prev, n);
}

/* Unlinks n; n is left pointing at itself (list_empty(n) is then true). */
static inline void list_del(struct list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	list_init(n);
}

/* Whether n is linked into some list (after list_init or list_del: not). */
static inline bool list_linked(const struct list *n)
{
	return n->next != n;
}

/* The first and last element's link, or NULL when the list is empty. */
static inline struct list *list_first(const struct list *head)
{
	return list_empty(head) ? NULL : head->next;
}

static inline struct list *list_last(const struct list *head)
{
	return list_empty(head) ? NULL : head->prev;
}

/* Every link of head, safe against removing the current one. */
#define list_for_each_safe(pos, tmp, head) \
	for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head); (pos) = (tmp), (tmp) = (pos)->next)

#endif
