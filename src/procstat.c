/*
 * procstat.c - the process's CPU time, memory and descriptors
 * (procstat.h), from /proc/self/stat (proc(5)), /proc/self/fd and
 * getrlimit.
 */
#include "procstat.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

void procstat_read(struct procstat *p)
{
	char buf[1024], *s;
	unsigned long long utime, stime, vsize;
	long long rss;
	struct rlimit rl;
	FILE *f;
	DIR *d;
	long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);

	memset(p, 0, sizeof(*p));
	if ((f = fopen("/proc/self/stat", "re"))) {
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);

		fclose(f);
		buf[n] = '\0';
		/* The command name is in parentheses and may hold spaces: the
		 * fields that follow start after the last ')'. Field 3 (state)
		 * is the first; utime and stime are 14 and 15, vsize and rss 23
		 * and 24. */
		s = strrchr(buf, ')');
		if (s &&
		    sscanf(s + 1,
		           " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d %*u "
		           "%llu %lld",
		           &utime, &stime, &vsize, &rss) == 4 &&
		    ticks > 0) {
			p->cpu_seconds = (double)(utime + stime) / (double)ticks;
			p->virtual_bytes = vsize;
			p->resident_bytes = rss > 0 ? (uint64_t)rss * (uint64_t)(page > 0 ? page : 4096) : 0;
			p->ok = true;
		}
	}
	if ((d = opendir("/proc/self/fd"))) {
		struct dirent *e;

		while ((e = readdir(d)))
			if (e->d_name[0] != '.')
				p->open_fds++;
		closedir(d);
		/* The directory's own descriptor was counted. */
		if (p->open_fds)
			p->open_fds--;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		p->max_fds = rl.rlim_cur == RLIM_INFINITY ? 0 : (uint64_t)rl.rlim_cur;
}
