/* SPDX-License-Identifier: MIT */
/*
 * The little a kernel module gets from <linux/module.h>, for modules that
 * are shared objects preloaded into a program.
 *
 * module_init() runs the init function from a constructor, before the
 * program's main(); module_exit() runs the exit function from a destructor,
 * but only when init succeeded, as rmmod only ever unloads a module whose
 * init returned 0. Module parameters come from the environment:
 * PK_PARAM_<name>, since a preloaded object has no insmod command line.
 *
 * Define KBUILD_MODNAME (the module's name, for messages) before including.
 */
#ifndef PK_EXAMPLE_MODULE_H
#define PK_EXAMPLE_MODULE_H

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef KBUILD_MODNAME
#error "define KBUILD_MODNAME before including module.h"
#endif

#define MODULE_PARAM_PREFIX "PK_PARAM_"

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

static int module_loaded;

/*
 * Both end in a declaration, so that they take a semicolon as in the kernel,
 * and one that checks the signature the kernel's macros expect.
 */
#define module_init(fn)                                                                            \
	static void __attribute__((constructor)) pk_module_ctor(void)                              \
	{                                                                                          \
		int err_ = fn();                                                                   \
                                                                                                   \
		if (err_)                                                                          \
			fprintf(stderr, KBUILD_MODNAME ": init failed: %s\n", strerror(-err_));    \
		module_loaded = !err_;                                                             \
	}                                                                                          \
	_Static_assert(__builtin_types_compatible_p(__typeof__(fn), int(void)),                    \
		       #fn " must be int " #fn "(void)")

#define module_exit(fn)                                                                            \
	static void __attribute__((destructor)) pk_module_dtor(void)                               \
	{                                                                                          \
		if (module_loaded)                                                                 \
			fn();                                                                      \
		module_loaded = 0;                                                                 \
	}                                                                                          \
	_Static_assert(__builtin_types_compatible_p(__typeof__(fn), void(void)),                   \
		       #fn " must be void " #fn "(void)")

static inline const char *module_param_lookup(const char *name)
{
	char key[128];

	if (snprintf(key, sizeof(key), MODULE_PARAM_PREFIX "%s", name) >= (int)sizeof(key))
		return NULL;
	return getenv(key);
}

/* The parameter's value, or @def when it is unset or empty. */
static inline const char *module_param_string(const char *name, const char *def)
{
	const char *v = module_param_lookup(name);

	return v && *v ? v : def;
}

/*
 * An integer parameter in [@min, @max]. A malformed value is an error
 * (-EINVAL), as insmod refuses one, rather than a silent fallback.
 */
static inline int module_param_int(const char *name, int def, int min, int max, int *out)
{
	const char *v = module_param_lookup(name);
	char *end;
	long n;

	if (!v || !*v) {
		*out = def;
		return 0;
	}
	errno = 0;
	n = strtol(v, &end, 0);
	if (errno || *end || n < min || n > max) {
		fprintf(stderr, KBUILD_MODNAME ": bad value for parameter %s: '%s' (want %d..%d)\n",
			name, v, min, max);
		return -EINVAL;
	}
	*out = (int)n;
	return 0;
}

#endif /* PK_EXAMPLE_MODULE_H */
