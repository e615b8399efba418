/*
 * escape.h - text that came from clients, origins or files made safe for
 * where it goes: the inside of a JSON string (valid UTF-8 whatever the
 * bytes), HTML text, and log text (printable ASCII only).  The one place
 * for each; it knows nothing of what the text means.
 */
#ifndef PINHOLE_ESCAPE_H
#define PINHOLE_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strbuf;

/* One code point from s (at most n bytes): its length, or 0 when the bytes
 * are not well-formed UTF-8 (overlong forms, surrogates and values past
 * U+10FFFF included). */
size_t esc_utf8_len(const unsigned char *s, size_t n, uint32_t *cp);

/* Whether code point cp is one a reader does not see, or that changes
 * what the text around it looks like: C0 and C1 controls, DEL, the line
 * and paragraph separators (they end a line in JavaScript), and the
 * bidirectional marks, embeddings, overrides and isolates (a User-Agent
 * could display as something it is not). */
bool esc_invisible(uint32_t cp);

/* Escapes s[0..len) as the inside of a JSON string into dst (at most cap
 * bytes, no NUL): quotes, backslashes and invisible characters (above)
 * escaped, bytes that are not UTF-8 written as U+FFFD.  Stops before a
 * character whose escape would not fit.  Returns the bytes written; *used
 * (if not NULL) is how much of s was consumed. */
size_t esc_json(char *dst, size_t cap, const char *s, size_t len, size_t *used);
/* Appends s as a quoted JSON string ("null" when s is NULL). */
void esc_json_str(struct strbuf *b, const char *s);
/* Appends s as HTML text (also safe inside a quoted attribute). */
void esc_html(struct strbuf *b, const char *s);
/* Copies s[0..len) into dst (at most cap bytes, NUL-terminated when cap >
 * 0) with every byte that is not printable ASCII written as \xNN, so a log
 * line never carries a client's control bytes or raw binary (a backslash
 * stays as it is: DOMAIN\user reads as it should).  Returns the bytes
 * written (without the NUL). */
size_t esc_printable(char *dst, size_t cap, const char *s, size_t len);

#endif
