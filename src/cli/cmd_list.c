// SPDX-License-Identifier: MIT
/*
 * probekit list: the functions that can be probed, as the kernel's
 * available_filter_functions lists them ("func [object]"), each one that
 * cannot be probed marked with why. The listing is made inside the program
 * by the agent, so it sees exactly what a trace would: the objects the
 * program loads and the engine's own checks.
 */
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/proto.h"
#include "cli/attach.h"
#include "cli/cli.h"
#include "sym/sym.h"

static void list_usage(FILE *f)
{
	fprintf(f, "usage: probekit list [-o] [-x FILE] [GLOB]\n"
		   "       probekit list [GLOB] -- COMMAND [ARG...]\n"
		   "       probekit list -p PID [GLOB]\n"
		   "       probekit list --kernel [GLOB]\n"
		   "\n"
		   "Lists the functions probekit trace can probe: those of COMMAND and the\n"
		   "libraries it loads at start, those of FILE (a program or a shared\n"
		   "library), or those of running process PID (the agent is loaded into it\n"
		   "and taken out again), one per line as 'func [object]'. A function that\n"
		   "cannot be probed is followed by '# why'. GLOB filters by function name\n"
		   "(fnmatch). The program's constructors run; main() does not.\n"
		   "With -o and -x FILE, each name is followed by its file offset in FILE,\n"
		   "as uprobe_events and uprobe_register() take it ('func 0x1139 [object]').\n"
		   "With --kernel: the kernel functions a kprobe can go on instead.\n");
}

/* An executable (PT_INTERP) runs itself; a library is loaded into /bin/true. */
static int is_program(const char *path)
{
	int interp = pk_elf_has_interp(path);
	/* libc.so.6 has an interpreter too, and runs: a .so name says library. */
	int so = strstr(strrchr(path, '/') ? strrchr(path, '/') : path, ".so") != NULL;

	if (interp < 0)
		return interp;
	if (!interp && !so)
		return -ENOEXEC; /* statically linked: no loader to preload the agent */
	return interp && !so;
}

/* -p: the agent lists the functions from inside the running process. */
static int list_process(pid_t pid, const char *glob)
{
	struct pk_attach a;
	char *text, *line, *save = NULL;
	size_t len;
	int shown = 0, err;

	if (pk_attach_open(&a, pid, "probekit list")) {
		pk_attach_close(&a);
		return 1;
	}
	text = pk_attach_list(&a, &len);
	err = pk_attach_close(&a);
	if (!text) {
		fprintf(stderr, "probekit list: the agent in process %d did not send the list\n",
			(int)pid);
		return 1;
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[4096];

		snprintf(name, sizeof(name), "%.*s", (int)strcspn(line, " \t"), line);
		if (glob && fnmatch(glob, name, 0))
			continue;
		puts(line);
		shown++;
	}
	free(text);
	return err ? 1 : shown ? 0 : 1;
}

/* -o: "func 0xOFFSET rest-of-line", the offset of func in @file. */
static void print_offset(const char *file, const char *name, const char *line)
{
	uint64_t off;

	if (pk_sym_file_offset(file, name, &off, NULL))
		fputs(line, stdout);
	else
		printf("%s 0x%llx%s", name, (unsigned long long)off, line + strlen(name));
}

static int count_one(const char *name, void *arg)
{
	(void)name;
	++*(long *)arg;
	return 0;
}

int cmd_list(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char agent[PATH_MAX], preload[2 * PATH_MAX + 2], fdbuf[16], line[4096];
	const char *file = NULL, *glob = NULL, *only = NULL;
	char *true_argv[] = {"/bin/true", NULL}, **cmd = NULL;
	int c, pfd[2], status, shown = 0, offsets = 0;
	long nsyms = 0;
	FILE *in;
	pid_t pid = 0;
	char *end;

	if (pk_wants_kernel(argc, argv))
		return cmd_list_kernel(argc, argv);
	while ((c = pk_cli_getopt(argc, argv, "x:p:oh", longopts, &cmd)) != -1) {
		switch (c) {
		case 1:
			if (glob) {
				fprintf(stderr,
					"probekit list: one GLOB only ('%s' and '%s'); a command "
					"goes after '--'\n",
					glob, optarg);
				return 2;
			}
			glob = optarg;
			break;
		case 'x': file = optarg; break;
		case 'o': offsets = 1; break;
		case 'p':
			pid = (pid_t)strtol(optarg, &end, 10);
			if (*end || pid <= 0) {
				fprintf(stderr, "probekit list: -p takes a process id\n");
				return 2;
			}
			break;
		case 'h': list_usage(stdout); return 0;
		default: list_usage(stderr); return 2;
		}
	}
	if (pid)
		return list_process(pid, glob);
	if ((!file && (!cmd || !cmd[0])) || (offsets && !file)) {
		list_usage(stderr);
		return 2;
	}
	pk_agent_path(agent, sizeof(agent));
	snprintf(preload, sizeof(preload), "%s", agent);
	if (file) {
		int prog = is_program(file);

		if (prog < 0) {
			fprintf(stderr, "probekit list: %s: %s\n", file,
				prog == -ENOEXEC ? "not a dynamically linked ELF program or library"
						 : strerror(-prog));
			return 1;
		}
		only = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
		if (prog) {
			true_argv[0] = (char *)file;
		} else {
			snprintf(preload, sizeof(preload), "%s:%s", agent, file);
		}
		cmd = true_argv;
	}
	if (pipe(pfd))
		return 1;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		snprintf(fdbuf, sizeof(fdbuf), "%d", pfd[1]);
		setenv(PK_ENV_LIST_FD, fdbuf, 1);
		setenv("LD_PRELOAD", preload, 1);
		execvp(cmd[0], cmd);
		fprintf(stderr, "probekit list: %s: %s\n", cmd[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	in = fdopen(pfd[0], "r");
	while (in && fgets(line, sizeof(line), in)) {
		char name[4096];
		const char *obj = strstr(line, " [");

		snprintf(name, sizeof(name), "%.*s", (int)strcspn(line, " \t\n"), line);
		if (glob && fnmatch(glob, name, 0))
			continue;
		if (only &&
		    (!obj || strncmp(obj + 2, only, strlen(only)) || obj[2 + strlen(only)] != ']'))
			if (!(obj == NULL && true_argv[0] == file))
				continue;
		if (offsets)
			print_offset(file, name, line);
		else
			fputs(line, stdout);
		shown++;
	}
	if (in)
		fclose(in);
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "probekit list: %s did not run with the agent (exit %d)\n", cmd[0],
			WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		return 1;
	}
	if (!shown && file && !pk_sym_file_foreach(file, count_one, &nsyms) && !nsyms)
		fprintf(stderr,
			"probekit list: %s has no symbol table (stripped): no function has a name "
			"to list; probe it by file offset, as in 'p %s:0x1139' (objdump -d shows "
			"them), or install its debug symbols\n",
			file, file);
	else if (!shown && glob)
		fprintf(stderr, "probekit list: no function matches '%s'\n", glob);
	return shown ? 0 : 1;
}
