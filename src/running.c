/*
 * running.c - the configuration in force, its reload and the record of the
 * last one (running.h).
 */
#include "running.h"

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "config.h"
#include "log.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct config *current;
static struct running_status status;

void running_start(struct config *cfg)
{
	config_commit(cfg);
	pthread_mutex_lock(&lock);
	current = cfg;
	memset(&status, 0, sizeof(status));
	status.started = (uint64_t)time(NULL);
	status.last_success = status.started;
	status.last_reload_ok = true;
	pthread_mutex_unlock(&lock);
}

struct config *running_get(void)
{
	pthread_mutex_lock(&lock);
	struct config *cfg = current ? config_ref(current) : NULL;

	pthread_mutex_unlock(&lock);
	return cfg;
}

void running_stop(void)
{
	pthread_mutex_lock(&lock);
	struct config *old = current;

	current = NULL;
	pthread_mutex_unlock(&lock);
	config_unref(old);
}

void running_status(struct running_status *st)
{
	pthread_mutex_lock(&lock);
	*st = status;
	pthread_mutex_unlock(&lock);
}

void running_set_draining(void)
{
	pthread_mutex_lock(&lock);
	status.draining = true;
	pthread_mutex_unlock(&lock);
}

/* Appends a line to r's message, cut when it is full. */
void running_say(struct running_reload *r, const char *line)
{
	size_t n = strlen(r->message);

	snprintf(r->message + n, sizeof(r->message) - n, "%s\n", line);
}

void running_warnings(const struct cfg_errors *errs, struct running_reload *r)
{
	for (size_t i = 0; i < errs->nwarns; i++) {
		log_warn("%s", errs->warns[i]);
		if (r)
			running_say(r, errs->warns[i]);
	}
}

/* Records a refusal whose reasons are in r. */
static void refused(struct running_reload *r)
{
	pthread_mutex_lock(&lock);
	status.last_reload = (uint64_t)time(NULL);
	status.last_reload_ok = false;
	status.reloads_refused++;
	snprintf(status.last_error, sizeof(status.last_error), "%.*s", (int)strcspn(r->message, "\n"), r->message);
	pthread_mutex_unlock(&lock);
	r->ok = false;
}

static const char *path_of(const struct config *cfg)
{
	return cfg && cfg->path ? cfg->path : "(embedded default)";
}

struct config *running_parse(struct running_reload *r)
{
	struct cfg_errors errs = { 0 };
	struct config *cur = running_get(), *next;

	r->ok = false;
	r->message[0] = '\0';
	if (!cur) {
		running_say(r, "pinhole is not running");
		return NULL;
	}
	next = config_load(cur->path, &errs);
	if (!next) {
		log_error("reload of %s refused, the running configuration stays:", path_of(cur));
		for (size_t i = 0; i < errs.n; i++) {
			log_error("%s", errs.msgs[i]);
			running_say(r, errs.msgs[i]);
		}
		running_warnings(&errs, r);
		refused(r);
	} else {
		running_warnings(&errs, r);
	}
	cfg_errors_free(&errs);
	config_unref(cur);
	return next;
}

void running_refuse(struct running_reload *r, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("reload refused, the running configuration stays: %s", msg);
	/* The reason first: it is what the admin reads. */
	size_t mlen = strlen(msg), rlen = strlen(r->message);

	if (mlen + 1 >= sizeof(r->message))
		mlen = sizeof(r->message) - 2;
	if (mlen + 1 + rlen >= sizeof(r->message))
		rlen = sizeof(r->message) - mlen - 2;
	memmove(r->message + mlen + 1, r->message, rlen);
	memcpy(r->message, msg, mlen);
	r->message[mlen] = '\n';
	r->message[mlen + 1 + rlen] = '\0';
	refused(r);
}

int running_commit(struct config *next, struct running_reload *r)
{
	char err[512];

	if (log_configure(next->log, err, sizeof(err)) < 0) {
		running_refuse(r, "%s", err);
		return -1;
	}
	config_commit(next);
	log_always("configuration reloaded from %s (generation %llu)", path_of(next),
	           (unsigned long long)next->generation);
	pthread_mutex_lock(&lock);
	struct config *old = current;

	current = config_ref(next);
	status.last_reload = status.last_success = (uint64_t)time(NULL);
	status.last_reload_ok = true;
	status.reloads_ok++;
	status.last_error[0] = '\0';
	pthread_mutex_unlock(&lock);
	config_unref(old);
	r->ok = true;
	return 0;
}

void running_request_reload(void)
{
	kill(getpid(), SIGHUP);
}
