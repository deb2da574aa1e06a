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
#include "render.h"

static void show_head(struct ctl *ctl, struct buf *b, const struct app *a, json_object *an)
{
    const char *name = app_get(a, "name", NULL), *email = app_get(a, "email", NULL);
    const char *q = app_get(a, "qualified", NULL);
    json_object *th = render_get(an, "threshold", json_type_int);

    buf_adds(b, out_on(ctl->color, OUT_BOLD));
    if (name != NULL)
        render_text(b, name);
    else
        buf_adds(b, "(name erased)");
    buf_adds(b, out_off(ctl->color));
    if (email != NULL) {
        buf_adds(b, "  <");
        render_text(b, email);
        buf_addc(b, '>');
    }
    buf_adds(b, "\n  id       ");
    render_text(b, a->id);
    buf_adds(b, "\n  role     ");
    render_text(b, app_get(a, "role", NULL));
    if (render_str(an, "role_title") != NULL) {
        buf_adds(b, " (");
        render_text(b, render_str(an, "role_title"));
        buf_adds(b, ", version ");
        render_text(b, render_str(an, "role_version"));
        buf_addc(b, ')');
    }
    buf_adds(b, "\n  state    ");
    render_text(b, app_get(a, "state", NULL));
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
    render_text(b, app_get(a, "submitted_at", NULL));
    buf_adds(b, "   updated ");
    render_text(b, app_get(a, "updated_at", NULL));
    buf_addc(b, '\n');
}

static void show_links(struct ctl *ctl, struct buf *b, const struct app *a)
{
    size_t len;
    const char *profile = app_get(a, "profile", &len);
    json_object *root = profile ? json_tokener_parse(profile) : NULL;
    json_object *links = render_get(root, "links", json_type_object);

    render_heading(b, ctl->color, "Links", links ? (size_t)json_object_object_length(links) : 0);
    if (links != NULL) {
        json_object_object_foreach(links, key, val)
        {
            buf_adds(b, "  ");
            out_cell(b, key, 12, true);
            buf_adds(b, " ");
            render_text(b, json_object_is_type(val, json_type_string) ? json_object_get_string(val)
                                                                      : "");
            buf_addc(b, '\n');
        }
    }
    json_object_put(root);
}

/* One history event as a line: time, actor, from -> to, "note". */
static void history_line(struct buf *b, const char *text)
{
    json_object *e = json_tokener_parse(text);
    const char *from = render_str(e, "from"), *to = render_str(e, "to"),
               *note = render_str(e, "note");

    buf_adds(b, "  ");
    out_cell(b, render_str(e, "at") ? render_str(e, "at") : "?", 24, false);
    buf_adds(b, "  ");
    out_cell(b, render_str(e, "actor") ? render_str(e, "actor") : "?", 18, false);
    buf_adds(b, "  ");
    if (from != NULL && to != NULL && strcmp(from, to) == 0) {
        buf_adds(b, "note (");
        render_text(b, from);
        buf_addc(b, ')');
    } else {
        render_text(b, from ? from : "new");
        buf_adds(b, " -> ");
        render_text(b, to ? to : "?");
    }
    if (note != NULL) {
        buf_adds(b, "  \"");
        render_text(b, note);
        buf_addc(b, '"');
    }
    buf_addc(b, '\n');
    json_object_put(e);
}

static void show_history(struct ctl *ctl, struct buf *b, const struct app *a)
{
    render_heading(b, ctl->color, "History", a->hist->elements);
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
            render_analysis(&b, ctl->color, an);
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
