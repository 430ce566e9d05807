/* SPDX-License-Identifier: MIT */
/*
 * The kernel's tracing file system, for the kernel backend of probekit
 * trace and list: files read and written whole, error_log entries, the
 * kernel's build configuration.
 */
#ifndef PK_CLI_TRACEFS_H
#define PK_CLI_TRACEFS_H

#include <stddef.h>

#define PK_TRACEFS "/sys/kernel/tracing"
#define PK_DEBUGFS "/sys/kernel/debug"

/**
 * pk_tracefs_mount() - make sure tracefs is mounted at PK_TRACEFS.
 *
 * Return: 0, or the -errno of mount(2) (-EPERM without CAP_SYS_ADMIN,
 * -ENODEV for a kernel without tracefs).
 */
int pk_tracefs_mount(void);

/**
 * pk_debugfs_mount() - make sure debugfs is mounted at PK_DEBUGFS.
 * Return: 0, or the -errno of mount(2).
 */
int pk_debugfs_mount(void);

/**
 * pk_tracefs_path() - PK_TRACEFS "/" @rel into @buf.
 * @buf: output.
 * @size: its size.
 * @rel: a path under the tracefs root.
 * Return: @buf.
 */
char *pk_tracefs_path(char *buf, size_t size, const char *rel);

/**
 * pk_tracefs_write() - write @text to the tracefs file @rel in one write(2).
 * @rel: a path under the tracefs root.
 * @text: what to write (a command is taken whole or refused whole).
 * @append: 1 to open with O_APPEND (kprobe_events: add, do not replace).
 *
 * Return: 0, or the -errno of open(2) or write(2): the kernel's refusal
 * (-EINVAL for a definition or filter it does not take, -EBUSY for an event
 * in use, -ENOENT for a file this kernel does not have).
 */
int pk_tracefs_write(const char *rel, const char *text, int append);

/**
 * pk_file_read() - the whole of a file, NUL-terminated.
 * @path: an absolute path (or relative to the current directory).
 * @out: set to a malloc'ed buffer the caller frees.
 * @len: if not NULL, set to the number of bytes read (NULs included).
 *
 * Reads until end of file, so that pseudo files whose size is 0 come whole.
 * Return: 0, -ENOMEM, or the -errno of open(2) or read(2).
 */
int pk_file_read(const char *path, char **out, size_t *len);

/** pk_tracefs_read() - pk_file_read() of a path under the tracefs root. */
int pk_tracefs_read(const char *rel, char **out, size_t *len);

/**
 * pk_tracefs_exists() - 1 if @rel exists under the tracefs root, else 0.
 * @rel: a path under the tracefs root.
 */
int pk_tracefs_exists(const char *rel);

/**
 * pk_error_log_new() - the entries of an error_log that @before did not hold.
 * @rel: "error_log", or "instances/NAME/error_log".
 * @before: the log's text earlier (pk_tracefs_read()), or NULL.
 * @buf: output: each new entry without its "[timestamp] " prefix, as
 *       pk_event_error_print() prints one.
 * @size: its size.
 *
 * Return: the length written (0: nothing new), or the -errno of reading.
 */
int pk_error_log_new(const char *rel, const char *before, char *buf, size_t size);

/**
 * pk_kernel_config() - how this kernel was built, for one option.
 * @option: "CONFIG_KPROBES".
 * @source: set to the file the answer comes from (/proc/config.gz or
 *          /boot/config-RELEASE), when there is one.
 * @size: its size.
 *
 * Return: 1 if the option is y or m, 0 if it is not set (or absent from
 * the configuration), -ENOENT if no configuration can be read.
 */
int pk_kernel_config(const char *option, char *source, size_t size);

/**
 * pk_kernel_say_missing() - say plainly that this kernel has no @what.
 * @cmd: "trace" or "list", for the message's prefix.
 * @what: "kprobe events", "kprobes"...
 * @options: NULL-terminated CONFIG_ names, each depending on the one
 *           before; the first that the configuration does not set is named.
 * @missing: the file to name instead when the configuration cannot tell.
 */
void pk_kernel_say_missing(const char *cmd, const char *what, const char *const *options,
			   const char *missing);

#endif
