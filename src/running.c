/*
 * running.c - the configuration in force and its reload (running.h).
 */
#include "running.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "config.h"
#include "log.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct config *current;

void running_start(struct config *cfg)
{
	pthread_mutex_lock(&lock);
	current = cfg;
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

/* Appends a line to r's message, cut when it is full. */
static void say(struct running_reload *r, const char *line)
{
	size_t n = strlen(r->message);

	snprintf(r->message + n, sizeof(r->message) - n, "%s\n", line);
}

struct config *running_reload(struct running_reload *r)
{
	struct cfg_errors errs = { 0 };
	struct config *cur = running_get(), *next;
	char err[512], path[4096];

	r->ok = false;
	r->message[0] = '\0';
	if (!cur) {
		say(r, "pinhole is not running");
		return NULL;
	}
	snprintf(path, sizeof(path), "%s", cur->path ? cur->path : "(embedded default)");
	next = config_load(cur->path, &errs);
	config_unref(cur);
	if (!next) {
		log_error("reload of %s refused, the running configuration stays:", path);
		for (size_t i = 0; i < errs.n; i++) {
			log_error("%s", errs.msgs[i]);
			say(r, errs.msgs[i]);
		}
		cfg_errors_free(&errs);
		return NULL;
	}
	cfg_errors_free(&errs);
	if (log_configure(next->log, err, sizeof(err)) < 0) {
		log_error("reload of %s refused: %s", path, err);
		say(r, err);
		config_unref(next);
		return NULL;
	}
	log_always("configuration reloaded from %s", path);
	pthread_mutex_lock(&lock);
	struct config *old = current;

	current = config_ref(next);
	pthread_mutex_unlock(&lock);
	config_unref(old);
	r->ok = true;
	return next;
}

void running_request_reload(void)
{
	kill(getpid(), SIGHUP);
}
