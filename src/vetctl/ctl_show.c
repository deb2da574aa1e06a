/* vetctl show and history: one application laid out for a decision on
 * one screen (candidate, score against the threshold, evidence, gaps, the
 * plan, the links, the audit trail), everything a candidate wrote escaped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>

#include "app.h"
#include "ctl.h"
#include "out.h"
#include "xmalloc.h"

static const char *jstr(json_object *o, const char *key)
{
    json_object *v;
    if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static json_object *jget(json_object *o, const char *key, json_type type)
{
    json_object *v;
    if (o == NULL || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, type))
        return NULL;
    return v;
}

/* Append untrusted text escaped, folded to one line. */
static void esc(struct buf *b, const char *s)
{
    if (s != NULL)
        out_escape(b, s, strlen(s), OUT_FOLD_WS);
}

static void heading(struct ctl *ctl, struct buf *b, const char *title, size_t n)
{
    buf_printf(b, "\n%s%s", out_on(ctl->color, OUT_BOLD), title);
    if (n != (size_t)-1)
        buf_printf(b, " (%zu)", n);
    buf_printf(b, "%s\n", out_off(ctl->color));
}

static void show_head(struct ctl *ctl, struct buf *b, const struct app *a, json_object *an)
{
    const char *name = app_get(a, "name", NULL), *email = app_get(a, "email", NULL);
    const char *q = app_get(a, "qualified", NULL);
    json_object *th = jget(an, "threshold", json_type_int);

    buf_adds(b, out_on(ctl->color, OUT_BOLD));
    if (name != NULL)
        esc(b, name);
    else
        buf_adds(b, "(name erased)");
    buf_adds(b, out_off(ctl->color));
    if (email != NULL) {
        buf_adds(b, "  <");
        esc(b, email);
        buf_addc(b, '>');
    }
    buf_adds(b, "\n  id       ");
    esc(b, a->id);
    buf_adds(b, "\n  role     ");
    esc(b, app_get(a, "role", NULL));
    if (jstr(an, "role_title") != NULL) {
        buf_adds(b, " (");
        esc(b, jstr(an, "role_title"));
        buf_adds(b, ", version ");
        esc(b, jstr(an, "role_version"));
        buf_addc(b, ')');
    }
    buf_adds(b, "\n  state    ");
    esc(b, app_get(a, "state", NULL));
    buf_printf(b, "   version %lld\n", app_num(a, "version", 0));
    buf_printf(b, "  score    %s%lld%s",
               out_on(ctl->color, q && *q == '1' ? OUT_GREEN : OUT_YELLOW), app_num(a, "score", 0),
               out_off(ctl->color));
    if (th != NULL)
        buf_printf(b, " / threshold %d", json_object_get_int(th));
    buf_printf(b, "   recommendation: %s (automatic; the decision is yours)\n",
               q == NULL   ? "-"
               : *q == '1' ? "qualified"
                           : "not qualified");
    buf_adds(b, "  submitted ");
    esc(b, app_get(a, "submitted_at", NULL));
    buf_adds(b, "   updated ");
    esc(b, app_get(a, "updated_at", NULL));
    buf_addc(b, '\n');
}

static void criterion_line(struct ctl *ctl, struct buf *b, json_object *c, bool met)
{
    json_object *w = jget(c, "weight", json_type_int);
    buf_printf(b, "  %s%s%s ", out_on(ctl->color, met ? OUT_GREEN : OUT_RED), met ? "+" : "-",
               out_off(ctl->color));
    esc(b, jstr(c, "label") ? jstr(c, "label") : jstr(c, "id"));
    buf_adds(b, out_on(ctl->color, OUT_DIM));
    buf_adds(b, "  [");
    esc(b, jstr(c, "group"));
    buf_printf(b, ", weight %d]%s\n", w ? json_object_get_int(w) : 0, out_off(ctl->color));
}

static void show_criteria(struct ctl *ctl, struct buf *b, json_object *an)
{
    json_object *met = jget(an, "met", json_type_array);
    json_object *missing = jget(an, "missing", json_type_array);

    heading(ctl, b, "Met criteria", met ? json_object_array_length(met) : 0);
    for (size_t i = 0; met && i < json_object_array_length(met); i++) {
        json_object *c = json_object_array_get_idx(met, i);
        json_object *ev = jget(c, "evidence", json_type_array);
        criterion_line(ctl, b, c, true);
        for (size_t k = 0; ev && k < json_object_array_length(ev); k++) {
            json_object *e = json_object_array_get_idx(ev, k);
            buf_adds(b, "      ");
            esc(b, jstr(e, "field"));
            buf_adds(b, ": \"");
            esc(b, jstr(e, "text"));
            buf_adds(b, "\"\n");
        }
    }
    heading(ctl, b, "Missing", missing ? json_object_array_length(missing) : 0);
    for (size_t i = 0; missing && i < json_object_array_length(missing); i++)
        criterion_line(ctl, b, json_object_array_get_idx(missing, i), false);
}

static void show_plan(struct ctl *ctl, struct buf *b, json_object *an)
{
    json_object *plan = jget(an, "plan", json_type_array);
    size_t width = out_term_width();

    heading(ctl, b, "Optimization plan", plan ? json_object_array_length(plan) : 0);
    for (size_t i = 0; plan && i < json_object_array_length(plan); i++) {
        json_object *p = json_object_array_get_idx(plan, i);
        char *num = xasprintf("  %2zu. ", i + 1);
        struct buf line = BUF_INIT;
        buf_adds(b, num);
        const char *group = jstr(p, "group");
        if (group != NULL)
            buf_printf(&line, "[%s] ", group);
        buf_adds(&line, jstr(p, "advice") ? jstr(p, "advice") : "");
        out_wrap(b, line.data, 0, strlen(num), width);
        buf_free(&line);
        free(num);
    }
}

static void show_links(struct ctl *ctl, struct buf *b, const struct app *a)
{
    size_t len;
    const char *profile = app_get(a, "profile", &len);
    json_object *root = profile ? json_tokener_parse(profile) : NULL;
    json_object *links = jget(root, "links", json_type_object);

    heading(ctl, b, "Links", links ? (size_t)json_object_object_length(links) : 0);
    if (links != NULL) {
        json_object_object_foreach(links, key, val)
        {
            buf_adds(b, "  ");
            out_cell(b, key, 12, true);
            buf_adds(b, " ");
            esc(b, json_object_is_type(val, json_type_string) ? json_object_get_string(val) : "");
            buf_addc(b, '\n');
        }
    }
    json_object_put(root);
}

/* One history event as a line: time, actor, from -> to, "note". */
static void history_line(struct buf *b, const char *text)
{
    json_object *e = json_tokener_parse(text);
    const char *from = jstr(e, "from"), *to = jstr(e, "to"), *note = jstr(e, "note");

    buf_adds(b, "  ");
    out_cell(b, jstr(e, "at") ? jstr(e, "at") : "?", 24, false);
    buf_adds(b, "  ");
    out_cell(b, jstr(e, "actor") ? jstr(e, "actor") : "?", 18, false);
    buf_adds(b, "  ");
    if (from != NULL && to != NULL && strcmp(from, to) == 0) {
        buf_adds(b, "note (");
        esc(b, from);
        buf_addc(b, ')');
    } else {
        esc(b, from ? from : "new");
        buf_adds(b, " -> ");
        esc(b, to ? to : "?");
    }
    if (note != NULL) {
        buf_adds(b, "  \"");
        esc(b, note);
        buf_addc(b, '"');
    }
    buf_addc(b, '\n');
    json_object_put(e);
}

static void show_history(struct ctl *ctl, struct buf *b, const struct app *a)
{
    heading(ctl, b, "History", a->hist->elements);
    for (size_t i = 0; i < a->hist->elements; i++)
        history_line(b, a->hist->element[i]->str);
}

/* Read the application and its history; 0 or an exit code. */
static int load(struct ctl *ctl, int argc, char **argv, struct app *a)
{
    char *pos[1];
    int npos, rc;

    if ((rc = ctl_parse(ctl, argc, argv, NULL, pos, &npos, 1, 1)) != 0)
        return rc;
    if ((rc = ctl_connect(ctl)) != 0)
        return rc;
    if ((rc = app_load(ctl, pos[0], a)) != 0)
        return rc;
    return app_load_history(ctl, a);
}

int ctl_show(struct ctl *ctl, int argc, char **argv)
{
    struct app a = {0};
    struct buf b = BUF_INIT;
    int rc = load(ctl, argc, argv, &a);

    if (rc == 0 && ctl->json) {
        app_to_json(&b, &a);
        buf_addc(&b, '\n');
    } else if (rc == 0) {
        const char *an_text = app_get(&a, "analysis", NULL);
        json_object *an = an_text ? json_tokener_parse(an_text) : NULL;
        show_head(ctl, &b, &a, an);
        if (an != NULL) {
            show_criteria(ctl, &b, an);
            show_plan(ctl, &b, an);
        }
        show_links(ctl, &b, &a);
        show_history(ctl, &b, &a);
        json_object_put(an);
    }
    if (b.data)
        fputs(b.data, stdout);
    buf_free(&b);
    app_free(&a);
    return rc < 0 ? 0 : rc;
}

int ctl_history(struct ctl *ctl, int argc, char **argv)
{
    struct app a = {0};
    struct buf b = BUF_INIT;
    int rc = load(ctl, argc, argv, &a);

    if (rc == 0 && ctl->json) {
        buf_addc(&b, '[');
        for (size_t i = 0; i < a.hist->elements; i++) {
            if (i > 0)
                buf_addc(&b, ',');
            app_splice_json(&b, a.hist->element[i]->str, a.hist->element[i]->len);
        }
        buf_adds(&b, "]\n");
    } else if (rc == 0) {
        for (size_t i = 0; i < a.hist->elements; i++)
            history_line(&b, a.hist->element[i]->str);
    }
    if (b.data)
        fputs(b.data, stdout);
    buf_free(&b);
    app_free(&a);
    return rc < 0 ? 0 : rc;
}
