/* SPDX-License-Identifier: MIT */
/*
 * "OBJ:SYM" where SYM may be a qualified C++ or Rust name: the ':' between
 * OBJ and SYM is a single one, never half of a "::". Shared by the engine's
 * symbol lookup and the definition parser.
 */
#ifndef PK_OBJSPEC_H
#define PK_OBJSPEC_H

#include <string.h>

/* The first ':' of @spec that is not part of "::", or NULL. */
static inline const char *pk_obj_colon(const char *spec)
{
	const char *c;

	for (c = spec ? strchr(spec, ':') : NULL; c; c = strchr(c, ':')) {
		if (c[1] != ':')
			return c;
		c += 2;
	}
	return NULL;
}

#endif /* PK_OBJSPEC_H */
