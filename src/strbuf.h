/*
 * strbuf.h - a growing, always NUL-terminated string for text pinhole
 * builds whole before handing it on (pages, reports, /config, the report
 * command's output).  Unlike struct buf, it is heap memory of any size,
 * never a connection's pooled block.
 */
#ifndef PINHOLE_STRBUF_H
#define PINHOLE_STRBUF_H

#include <stddef.h>

struct strbuf {
	char *p; /* NULL until something is added */
	size_t len, cap;
};

/* Makes room for more bytes after len (and the NUL). */
void strbuf_reserve(struct strbuf *b, size_t more);
void strbuf_add(struct strbuf *b, const char *s, size_t n);
void strbuf_puts(struct strbuf *b, const char *s);
void strbuf_printf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
