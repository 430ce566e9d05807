// SPDX-License-Identifier: MIT
/* Loads libm at run time, twice, calling cos() through dlsym each time. */
#include <dlfcn.h>
#include <stdio.h>

static int round_trip(int calls)
{
	void *h = dlopen("libm.so.6", RTLD_NOW | RTLD_LOCAL);
	double (*c)(double), sum = 0;
	int i;

	if (!h)
		return -1;
	c = (double (*)(double))dlsym(h, "cos");
	for (i = 0; i < calls; i++)
		sum += c(i);
	printf("sum %.6f\n", sum);
	return dlclose(h);
}

int main(void)
{
	/* Before libm is loaded, and again after it was unloaded. */
	if (round_trip(3) || round_trip(2))
		return 1;
	return 0;
}
