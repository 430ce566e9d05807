// SPDX-License-Identifier: MIT
/*
 * A program built only from the installed header and library (pkg-config):
 * it probes a function of its own and one of zlib by "object:func".
 */
#include <probekit.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

static int own_hits, lib_hits, ret_hits;
static unsigned long lib_len;

__attribute__((noipa)) int own_function(int a)
{
	return a * 2 + 1;
}

static int own_pre(struct pk_probe *p, struct pk_regs *regs)
{
	(void)p;
	own_hits += pk_regs_get_argument(regs, 0) == 20;
	return 0;
}

static int lib_pre(struct pk_probe *p, struct pk_regs *regs)
{
	(void)p;
	lib_hits++;
	lib_len = pk_regs_get_argument(regs, 2);
	return 0;
}

static int own_ret(struct pk_retprobe_instance *ri, struct pk_regs *regs)
{
	(void)ri;
	ret_hits += pk_regs_return_value(regs) == 41;
	return 0;
}

int main(void)
{
	struct pk_probe own = {.symbol_name = "own_function", .pre_handler = own_pre};
	struct pk_probe lib = {.symbol_name = "libz.so.1:crc32", .pre_handler = lib_pre};
	struct pk_retprobe rp = {.kp.symbol_name = "own_function", .handler = own_ret};
	char where[128];
	unsigned long crc;
	int err;

	if ((err = pk_register_probe(&own)) || (err = pk_register_probe(&lib)) ||
	    (err = pk_register_retprobe(&rp))) {
		printf("register failed: %d\n", err);
		return 1;
	}
	crc = crc32(0, (const unsigned char *)"probekit", 8);
	pk_sprint_symbol(where, sizeof(where), lib.addr);
	printf("own_function(20) = %d\n", own_function(20));
	printf("crc32 = %lx\n", crc);
	printf("hits own=%d lib=%d ret=%d len=%lu at %s\n", own_hits, lib_hits, ret_hits, lib_len,
	       where);
	pk_unregister_retprobe(&rp);
	pk_unregister_probe(&own);
	pk_unregister_probe(&lib);
	return own_hits == 1 && lib_hits == 1 && ret_hits == 1 && lib_len == 8 ? 0 : 1;
}
