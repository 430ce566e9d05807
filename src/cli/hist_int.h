/* SPDX-License-Identifier: MIT */
/*
 * Inside the hist triggers: the parsed trigger (hist_parse.c), its map and
 * the hit path (hist.c), and the `hist` file (hist_print.c). Names and
 * limits are the kernel's (trace_events_hist.c, tracing_map.h).
 */
#ifndef PK_CLI_HIST_INT_H
#define PK_CLI_HIST_INT_H

#include "cli/filter.h"
#include "cli/hist.h"

#define HIST_KEYS_MAX	 3				/* TRACING_MAP_KEYS_MAX */
#define HIST_KEY_MAX	 (HIST_KEYS_MAX * HIST_STR_MAX) /* bytes of a key, at most */
#define HIST_VALS_MAX	 3   /* TRACING_MAP_VALS_MAX, hitcount included */
#define HIST_VARS_MAX	 16  /* TRACING_MAP_VARS_MAX */
#define HIST_SORT_MAX	 2   /* TRACING_MAP_SORT_KEYS_MAX */
#define HIST_ACTIONS_MAX 8   /* HIST_ACTIONS_MAX */
#define HIST_PARAMS_MAX	 16  /* SYNTH_FIELDS_MAX */
#define HIST_STR_MAX	 256 /* MAX_FILTER_STR_VAL: a string key */
#define HIST_BITS_MIN	 7
#define HIST_BITS_MAX	 17
#define HIST_BITS_DEF	 11
#define HIST_DEPTH_MAX	 4  /* synthetic events firing synthetic events */
#define HIST_STACK_DEPTH 16 /* HIST_STACKTRACE_DEPTH: frames of a stack key */

/* hfield.flags: the kernel's HIST_FIELD_FL_* */
enum {
	HF_HITCOUNT = 1 << 0,
	HF_KEY = 1 << 1,
	HF_STRING = 1 << 2,
	HF_HEX = 1 << 3,
	HF_SYM = 1 << 4,
	HF_SYM_OFFSET = 1 << 5,
	HF_EXECNAME = 1 << 6,
	HF_STACKTRACE = 1 << 8,
	HF_LOG2 = 1 << 9,
	HF_TIMESTAMP = 1 << 10,
	HF_USECS = 1 << 11,
	HF_VAR = 1 << 12,
	HF_EXPR = 1 << 13,
	HF_REF = 1 << 14,
	HF_CPU = 1 << 15,
	HF_ALIAS = 1 << 16,
	HF_BUCKET = 1 << 17,
	HF_CONST = 1 << 18,
	HF_PERCENT = 1 << 19,
	HF_GRAPH = 1 << 20,
};

enum { OP_NONE, OP_PLUS, OP_MINUS, OP_UMINUS, OP_DIV, OP_MULT };

/* Event fields besides the arguments. */
#define ARG_NONE (-1)
#define ARG_PID	 (-2) /* common_pid */
#define ARG_COMM (-3) /* comm: probekit's, the kernel has no such hist field */

struct htrig;

struct hfield {
	unsigned long flags;
	int arg; /* the event's argument, or ARG_* */
	unsigned long buckets;
	int op;
	struct hfield *operands[2];
	const char *fname;    /* an event argument's name */
	char *src;	      /* a variable's expression, as written */
	char *name;	      /* an expression's text; a reference's variable */
	char *var_name;	      /* this field is a variable of that name */
	char *system, *event; /* a qualified reference */
	const char *type;
	unsigned int size; /* a key's bytes in the key */
	int is_signed;
	unsigned int offset; /* a key's place in the key */
	uint64_t constant;
	struct htrig *var_trig; /* a reference: whose variable */
	int var_idx;		/* a variable's slot, or the referenced one's */
	int ref_idx;		/* a reference: its slot among its trigger's */
	int read_once;
};

enum { H_ONMATCH = 1, H_ONMAX, H_ONCHANGE };
enum { A_SAVE = 1, A_TRACE };

struct hact {
	int handler, action;
	char *match_system, *match_event;
	char *action_name, *synth_name;
	int use_trace_keyword;
	char *params[HIST_PARAMS_MAX];
	int nparams;
	struct hfield *pf[HIST_PARAMS_MAX]; /* trace(): each parameter's value */
	char *var_str;			    /* onmax(VAR) */
	struct hfield *track_ref;
	int synth; /* trace(): the synthetic event's id */
	int slot;  /* onmax/onchange: its tracked value in the element */
};

struct hevent;

struct helt {
	uint64_t sums[HIST_VALS_MAX];
	uint64_t vars[HIST_VARS_MAX];
	uint32_t varset;
	char comm[16];
	uint64_t track[HIST_ACTIONS_MAX];
	uint64_t *saved; /* save(): one per save field */
	uint8_t key[];
};

struct hsort {
	struct hfield *f; /* NULL: hitcount */
	int val;	  /* a value: its index in vals, else -1 (a key) */
	int descending;
};

struct htrig {
	struct hevent *ev;
	char *text;
	char *filter_str;
	struct pk_filter *filter;
	struct hfield *vals[HIST_VALS_MAX]; /* vals[0] is hitcount */
	int nvals;
	struct hfield *vars[HIST_VARS_MAX];
	int nvars;
	struct hfield *keys[HIST_KEYS_MAX];
	int nkeys;
	unsigned int key_size;
	struct hsort sort[HIST_SORT_MAX];
	int nsort;
	unsigned int map_bits;
	int ts_usecs, enable_ts, nohitcount;
	struct hfield *refs[HIST_VARS_MAX];
	int nrefs;
	struct hact acts[HIST_ACTIONS_MAX];
	int nacts;
	struct hfield *save[HIST_PARAMS_MAX];
	int nsave;
	/* the map: elements in insertion order, and an open-addressed index */
	struct helt **elts;
	unsigned int nelts, max_elts;
	uint32_t *slots; /* element index + 1; 0 is free */
	unsigned int nslots;
	uint64_t hits, drops;
};

struct hevent {
	const struct pk_event_def *def;
	struct pk_event_def *own; /* a synthetic event's definition */
	char **types;		  /* a synthetic event's declared field types */
	struct htrig **trigs;
	int ntrigs;
};

struct pk_hist {
	struct hevent *ev;
	unsigned int nev;
	pk_hist_emit_fn emit;
	void *ctx;
	int depth;
};

/* Parsing one trigger: its event, the trigger so far, the text for errors. */
struct pctx {
	struct pk_hist *h;
	struct hevent *ev;
	struct htrig *t;
	char cmd[PK_EV_MAX_LINE]; /* "hist:..." as the error_log shows it */
	int failed;
};

/* hist_parse.c and hist_vars.c, for the other hist files */
/* The error_log's entry: @msg, the command and a caret under @at. NULL. */
void *herr(struct pctx *p, const char *msg, const char *at);
struct hfield *hf_new(unsigned long flags);
void hf_free(struct hfield *f);
int type_signed(uint8_t type);
/* A variable of @t named @name, or NULL. */
struct hfield *find_var_in(struct htrig *t, const char *name);
/* A variable of any trigger of @e (NULL: none) named @name, or NULL. */
struct hfield *find_var_on(struct hevent *e, const char *name);
/* The variable a reference names, as find_event_var() finds it, or NULL. */
struct hfield *find_var(struct pctx *p, const char *sys, const char *evn, const char *name);
/* This trigger's reference to @var (one per variable), or NULL. */
struct hfield *make_ref(struct pctx *p, struct hfield *var, const char *sys, const char *evn);
/* @str (cut in place) as an expression, as parse_expr(); NULL on error. */
struct hfield *parse_expr(struct pctx *p, char *str, unsigned long flags, const char *var,
			  int *nsub);

/* hist_actions.c */
/* One "onmatch(...).ACTION(...)" or "onmax($v)..." attribute, its text only. */
int hist_parse_action(struct pctx *p, char *s);
/* Each parsed action's variables, fields and synthetic event. 0 or -EINVAL. */
int hist_create_actions(struct pctx *p);

/* hist_vars.c */
/* The modifier the kernel's get_hist_field_flags() prints, or NULL. */
const char *hist_flag_name(unsigned long fl);

/* hist_parse.c */
/*
 * Parse @cmd ("hist:..." with an optional " if FILTER") for @ev. Errors go
 * to stderr in the error_log's words. Return the trigger, or NULL.
 */
struct htrig *hist_parse(struct pk_hist *h, struct hevent *ev, const char *cmd);
void hist_trig_free(struct htrig *t);
/* The name the kernel's hist_field_name() gives @f. */
const char *hist_field_name(const struct hfield *f, unsigned int level);
/* The event of "[GROUP/]EVENT" or "GROUP.EVENT" (@sep), or NULL. */
struct hevent *hist_find_event(struct pk_hist *h, const char *name, size_t len, char sep);

/* hist.c */
struct helt *hist_lookup(struct htrig *t, const uint8_t *key);

/* hist_print.c */
void hist_print_trigger(FILE *f, const struct htrig *t);
void hist_show(FILE *f, struct htrig *t, pk_hist_symbolize_fn sym, void *ctx);

#endif
