// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <string.h>

#include "arch_clock.h"

/* See arch_clock.h. */
int pk_arch_cycles_usable(void)
{
	FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "re");
	char name[32] = "";
	int ok;

	if (!f)
		return 0;
	ok = fgets(name, sizeof(name), f) && !strcmp(name, "tsc\n");
	fclose(f);
	return ok;
}
