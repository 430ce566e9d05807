// SPDX-License-Identifier: MIT
/*
 * tracefs files for the kernel backend. A tracefs command file takes each
 * write(2) as one command and answers it with the write's errno, so every
 * command goes out in a single write of its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <zlib.h>

#include "cli/tracefs.h"

static int mount_at(const char *dir, const char *probe, const char *type)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, probe);
	if (!access(path, F_OK))
		return 0;
	if (mount("nodev", dir, type, 0, NULL))
		return -errno;
	return 0;
}

int pk_tracefs_mount(void)
{
	return mount_at(PK_TRACEFS, "instances", "tracefs");
}

int pk_debugfs_mount(void)
{
	/* Every debugfs holds "bdi"; an empty directory is not mounted yet. */
	return mount_at(PK_DEBUGFS, "bdi", "debugfs");
}

char *pk_tracefs_path(char *buf, size_t size, const char *rel)
{
	snprintf(buf, size, "%s/%s", PK_TRACEFS, rel);
	return buf;
}

int pk_tracefs_write(const char *rel, const char *text, int append)
{
	char path[4096];
	size_t n = strlen(text);
	ssize_t w;
	int fd, err = 0;

	fd = open(pk_tracefs_path(path, sizeof(path), rel),
		  O_WRONLY | O_CLOEXEC | (append ? O_APPEND : O_TRUNC));
	if (fd < 0)
		return -errno;
	w = write(fd, text, n);
	if (w < 0)
		err = -errno;
	else if ((size_t)w != n)
		err = -EIO;
	/* Some files answer only at close (a filter that fails to apply). */
	if (close(fd) && !err)
		err = -errno;
	return err;
}

int pk_file_read(const char *path, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap), *grown;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		int err = -errno;

		free(buf);
		return err;
	}
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		if (cap - n < 2048) {
			grown = realloc(buf, cap * 2);
			if (!grown) {
				free(buf);
				close(fd);
				return -ENOMEM;
			}
			buf = grown;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = -errno;

			free(buf);
			close(fd);
			return err;
		}
		if (!r)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = 0;
	*out = buf;
	if (len)
		*len = n;
	return 0;
}

int pk_tracefs_read(const char *rel, char **out, size_t *len)
{
	char path[4096];

	return pk_file_read(pk_tracefs_path(path, sizeof(path), rel), out, len);
}

int pk_tracefs_exists(const char *rel)
{
	char path[4096];

	return !access(pk_tracefs_path(path, sizeof(path), rel), F_OK);
}

/* The entry that starts at @s ("[ts] ..." up to the next line starting with '['). */
static size_t entry_len(const char *s)
{
	const char *p = s;

	for (;;) {
		p = strchr(p, '\n');
		if (!p)
			return strlen(s);
		p++;
		if (*p == '[' || !*p)
			return (size_t)(p - s);
	}
}

static int holds_entry(const char *log, const char *e, size_t n)
{
	const char *p = log;

	while (p && *p) {
		size_t l = entry_len(p);

		if (l == n && !memcmp(p, e, n))
			return 1;
		p += l;
	}
	return 0;
}

int pk_error_log_new(const char *rel, const char *before, char *buf, size_t size)
{
	char *now, *p;
	size_t used = 0;
	int err = pk_tracefs_read(rel, &now, NULL);

	if (err)
		return err;
	if (size)
		buf[0] = 0;
	for (p = now; *p; p += entry_len(p)) {
		size_t l = entry_len(p);
		const char *body = p, *rb = memchr(p, ']', l);

		if (before && holds_entry(before, p, l))
			continue;
		if (*p == '[' && rb && rb[1] == ' ') {
			body = rb + 2;
			l -= (size_t)(body - p);
		}
		if (used + l < size) {
			memcpy(buf + used, body, l);
			used += l;
			buf[used] = 0;
		}
	}
	free(now);
	return (int)used;
}

/* The configuration's line for @option: 1 set (y or m), 0 not set. */
static int config_line(const char *line, const char *option)
{
	size_t n = strlen(option);

	if (!strncmp(line, option, n) && line[n] == '=')
		return line[n + 1] == 'y' || line[n + 1] == 'm';
	return -1;
}

int pk_kernel_config(const char *option, char *source, size_t size)
{
	char line[512], path[300];
	struct utsname u;
	int found = -1;
	gzFile gz;
	FILE *f;

	/* gzgets reads a file that is not compressed as it is, too. */
	gz = gzopen("/proc/config.gz", "rb");
	if (gz) {
		snprintf(source, size, "/proc/config.gz");
		while (found < 0 && gzgets(gz, line, sizeof(line)))
			found = config_line(line, option);
		gzclose(gz);
		return found > 0;
	}
	if (uname(&u))
		return -ENOENT;
	snprintf(path, sizeof(path), "/boot/config-%s", u.release);
	f = fopen(path, "re");
	if (!f)
		return -ENOENT;
	snprintf(source, size, "%s", path);
	while (found < 0 && fgets(line, sizeof(line), f))
		found = config_line(line, option);
	fclose(f);
	return found > 0;
}

void pk_kernel_say_missing(const char *cmd, const char *what, const char *const *options,
			   const char *missing)
{
	char src[300];
	int i, set = 1;

	for (i = 0; options[i] && set > 0; i++)
		set = pk_kernel_config(options[i], src, sizeof(src));
	if (!set)
		fprintf(stderr, "probekit %s: this kernel has no %s (%s is not set in %s)\n", cmd,
			what, options[i - 1], src);
	else
		fprintf(stderr, "probekit %s: this kernel has no %s (%s is missing)\n", cmd, what,
			missing);
}
