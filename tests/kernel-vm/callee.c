// SPDX-License-Identifier: MIT
/*
 * The seed's uprobe test program (seed 001), built by test_kernel_vm.sh
 * both -no-pie -fno-pic and PIE, and probed at callee's file offset.
 */
#include <stdio.h>

int callee(int a, int b)
{
	printf("hello world %d.\n", a + b);

	return a + b;
}

int main(void)
{
	callee(8, 9);

	return 0;
}
