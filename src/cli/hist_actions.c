// SPDX-License-Identifier: MIT
/*
 * The handlers and actions of a hist trigger, as trace_events_hist.c reads
 * them: onmatch(SYSTEM.EVENT), onmax($var) and onchange($var), with trace()
 * (a synthetic event, its parameters $variables or fields of the event)
 * or save() (fields kept with the tracked value).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/hist_int.h"

/* "onmatch(SYS.EVENT).ACTION(PARAMS)", "onmax($v).save(...)": the text only. */
int hist_parse_action(struct pctx *p, char *s)
{
	struct hact *a = &p->t->acts[p->t->nacts];
	char *close, *name, *params;

	if (p->t->nacts == HIST_ACTIONS_MAX)
		return -EINVAL;
	if (!strncmp(s, "onmatch(", 8)) {
		char *dot;

		a->handler = H_ONMATCH;
		s += 8;
		if (!(close = strchr(s, ')'))) {
			herr(p, "No closing paren found", s);
			return -EINVAL;
		}
		*close = 0;
		if (!(dot = strchr(s, '.'))) {
			herr(p, "Missing subsystem", s);
			return -EINVAL;
		}
		*dot = 0;
		a->match_system = strdup(s);
		a->match_event = strdup(dot + 1);
		*dot = '/';
		if (!hist_find_event(p->h, s, strlen(s), '/')) {
			herr(p, "Invalid subsystem or event name", dot + 1);
			return -EINVAL;
		}
	} else {
		a->handler = !strncmp(s, "onmax(", 6) ? H_ONMAX : H_ONCHANGE;
		s += a->handler == H_ONMAX ? 6 : 9;
		if (!(close = strchr(s, ')')))
			return -EINVAL;
		*close = 0;
		a->var_str = strdup(s);
	}
	s = close + 1;
	if (*s++ != '.' || !(params = strchr(s, '('))) {
		herr(p, "No action found", NULL);
		return -EINVAL;
	}
	*params++ = 0;
	name = s;
	if (!(close = strchr(params, ')'))) {
		herr(p, "No closing paren found", params);
		return -EINVAL;
	}
	*close = 0;
	a->action_name = strdup(name);
	if (!strncmp(name, "save", 4)) {
		if (a->handler == H_ONMATCH) {
			herr(p, "Handler doesn't support action", name);
			return -EINVAL;
		}
		a->action = A_SAVE;
	} else if (!strncmp(name, "snapshot", 8)) {
		herr(p, "Handler doesn't support action", name);
		return -EINVAL;
	} else {
		a->action = A_TRACE;
		a->use_trace_keyword = !strncmp(name, "trace", 5);
	}
	while (params && *params) {
		char *q = strsep(&params, ",");

		while (isspace((unsigned char)*q))
			q++;
		if (strlen(q) < 2) {
			herr(p, "Invalid action param", q);
			return -EINVAL;
		}
		if (a->use_trace_keyword && !a->synth_name) {
			a->synth_name = strdup(q);
			continue;
		}
		if (a->nparams == HIST_PARAMS_MAX) {
			herr(p, "Too many action params", NULL);
			return -EINVAL;
		}
		a->params[a->nparams++] = strdup(q);
	}
	if (a->action == A_SAVE && !a->nparams) {
		herr(p, "No params found for save()", NULL);
		return -EINVAL;
	}
	p->t->nacts++;
	return 0;
}

/* A trace() parameter: a $variable, or a field of this event made a variable. */
static struct hfield *action_param(struct pctx *p, struct hact *a, char *q)
{
	char *sys = NULL, *evn = NULL, *d1 = strchr(q, '.');
	struct hfield *v;
	int nsub = 0;

	if (d1 && strchr(d1 + 1, '.')) {
		sys = q;
		*d1 = 0;
		evn = d1 + 1;
		q = strchr(evn, '.');
		*q++ = 0;
	}
	if (*q == '$') {
		v = find_var(p, sys, evn, q + 1);
		if (!v && !sys && a->handler == H_ONMATCH)
			v = find_var(p, a->match_system, a->match_event, q + 1);
		if (!v)
			return herr(p, "Couldn't find param", q + 1);
		return make_ref(p, v, sys, evn);
	}
	if (sys)
		return herr(p, "Couldn't create field variable", q);
	v = parse_expr(p, q, 0, NULL, &nsub);
	if (!v)
		return herr(p, "Couldn't parse field variable", q);
	return v;
}

static int synth_matches(const struct hevent *se, int i, const struct hfield *f)
{
	const struct pk_event_arg *a = &se->def->args[i];

	if (!strcmp(se->types[i], f->type))
		return 1;
	return a->size == f->size && type_signed(a->type) == f->is_signed;
}

int hist_create_actions(struct pctx *p)
{
	struct htrig *t = p->t;
	int k, i;

	for (k = 0; k < t->nacts; k++) {
		struct hact *a = &t->acts[k];

		if (a->handler != H_ONMATCH) {
			struct hfield *v;

			if (a->var_str[0] != '$') {
				herr(p, "For onmax(x) or onchange(x), x must be a variable",
				     a->var_str);
				return -EINVAL;
			}
			if (!(v = find_var_in(t, a->var_str + 1))) {
				herr(p, "Couldn't find onmax or onchange variable", a->var_str + 1);
				return -EINVAL;
			}
			a->track_ref = make_ref(p, v, NULL, NULL);
			a->slot = k;
		}
		if (a->action == A_SAVE) {
			for (i = 0; i < a->nparams; i++) {
				char tmp[HIST_STR_MAX];
				int nsub = 0;

				if (t->nsave == HIST_PARAMS_MAX)
					return -EINVAL;
				snprintf(tmp, sizeof(tmp), "%s", a->params[i]);
				t->save[t->nsave] = parse_expr(p, tmp, 0, NULL, &nsub);
				if (!t->save[t->nsave]) {
					herr(p, "Couldn't create field variable", a->params[i]);
					return -EINVAL;
				}
				t->save[t->nsave++]->var_name = strdup(a->params[i]);
			}
			continue;
		}
		{
			const char *sname = a->use_trace_keyword ? a->synth_name : a->action_name;
			char full[PK_EV_NAME_SIZE + 16];
			struct hevent *se;

			snprintf(full, sizeof(full), "synthetic/%s", sname ? sname : "");
			se = hist_find_event(p->h, full, strlen(full), '/');
			if (!se || !se->own) {
				herr(p, "Couldn't find synthetic event", sname);
				return -EINVAL;
			}
			a->synth = (int)(se - p->h->ev);
			for (i = 0; i < a->nparams; i++) {
				char tmp[HIST_STR_MAX];

				snprintf(tmp, sizeof(tmp), "%s", a->params[i]);
				if (!(a->pf[i] = action_param(p, a, tmp)))
					return -EINVAL;
				if (i >= se->def->nargs || !synth_matches(se, i, a->pf[i])) {
					herr(p,
					     i >= se->def->nargs ? "Param count doesn't match "
								   "synthetic event field count"
								 : "Param type doesn't match "
								   "synthetic event field type",
					     a->params[i]);
					return -EINVAL;
				}
			}
			if (a->nparams != se->def->nargs) {
				herr(p, "Param count doesn't match synthetic event field count",
				     sname);
				return -EINVAL;
			}
		}
	}
	return 0;
}
