/*
 * htpasswd.h - Apache htpasswd files as a credential store: load and check a
 * whole file, verify a user's password against its hash, make a new line.
 * It knows nothing of HTTP; Basic auth (basic.c) and the admin interface use it.
 */
#ifndef PINHOLE_HTPASSWD_H
#define PINHOLE_HTPASSWD_H

#include <stdbool.h>
#include <stddef.h>

struct cfg_errors;
struct htpasswd; /* one loaded file, immutable: safe to verify from many threads */

enum htpasswd_result {
	HTPASSWD_MATCH,    /* the user exists and the password is right */
	HTPASSWD_MISMATCH, /* unknown user or wrong password (indistinguishable by time) */
	HTPASSWD_ERROR,    /* the hash could not be computed (why says which and why) */
};

/* The largest htpasswd file pinhole reads. */
#define HTPASSWD_MAX_FILE (64u * 1024 * 1024)
/* The longest user name (auth_result.user holds 255 bytes and a NUL). */
#define HTPASSWD_MAX_USER 255

/* Reads path and checks every line.  Problems inside the file are reported
 * as "PATH:LINE: message" (all of them, not only the first); a file that
 * cannot be read or holds no user is reported at conf_file:conf_line, the
 * directive that names it.  Returns NULL when anything was reported. */
struct htpasswd *htpasswd_load(const char *path, const char *conf_file, int conf_line, struct cfg_errors *errs);
/* Another holder of h (a check running on another thread); every holder
 * calls htpasswd_free. */
struct htpasswd *htpasswd_ref(struct htpasswd *h);
void htpasswd_free(struct htpasswd *h);
/* Whether checking user's password costs a deliberately slow hash (bcrypt,
 * SHA-crypt, yescrypt), worth a thread of its own. */
bool htpasswd_is_slow(const struct htpasswd *h, const char *user, size_t user_len);
size_t htpasswd_count(const struct htpasswd *h);

/* Checks user/password (neither needs a NUL; either may hold any byte).  An
 * unknown user costs a hash of the file's most common kind, so that timing
 * does not tell which users exist.  why (may be NULL) gets a sentence on
 * HTPASSWD_ERROR; it never holds the password or the hash. */
enum htpasswd_result htpasswd_verify(const struct htpasswd *h, const char *user, size_t user_len, const char *password,
                                     size_t password_len, char *why, size_t why_len);

/* A new "USER:HASH" line (no newline) for `pinhole passwd --basic USER`:
 * bcrypt ($2b$, cost 10) through libxcrypt, which Apache, nginx and pinhole
 * all read.  NULL with a sentence in err when the user name cannot go into
 * an htpasswd file or the password cannot be hashed.  The caller frees. */
char *htpasswd_make_line(const char *user, const char *password, char *err, size_t err_len);

#endif
