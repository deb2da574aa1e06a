/* Human rendering of a stored analysis for vetctl (see render.h). */
#include "render.h"

#include <stdlib.h>
#include <string.h>

#include "out.h"
#include "xmalloc.h"

json_object *render_get(json_object *o, const char *key, json_type type)
{
    json_object *v;

    if (o == NULL || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, type))
        return NULL;
    return v;
}

const char *render_str(json_object *o, const char *key)
{
    json_object *v = render_get(o, key, json_type_string);

    return v != NULL ? json_object_get_string(v) : NULL;
}

int render_int(json_object *o, const char *key)
{
    json_object *v = render_get(o, key, json_type_int);

    return v != NULL ? json_object_get_int(v) : 0;
}

void render_text(struct buf *b, const char *s)
{
    if (s != NULL)
        out_escape(b, s, strlen(s), OUT_FOLD_WS);
}

void render_heading(struct buf *b, bool color, const char *title, size_t n)
{
    buf_printf(b, "\n%s%s", out_on(color, OUT_BOLD), title);
    if (n != (size_t)-1)
        buf_printf(b, " (%zu)", n);
    buf_printf(b, "%s\n", out_off(color));
}

/* One criterion: + or -, its label, then group and weight dimmed. */
static void criterion_line(struct buf *b, bool color, json_object *c, bool met)
{
    const char *label = render_str(c, "label");

    buf_printf(b, "  %s%s%s ", out_on(color, met ? OUT_GREEN : OUT_RED), met ? "+" : "-",
               out_off(color));
    render_text(b, label != NULL ? label : render_str(c, "id"));
    buf_adds(b, out_on(color, OUT_DIM));
    buf_adds(b, "  [");
    render_text(b, render_str(c, "group"));
    buf_printf(b, ", weight %d]%s\n", render_int(c, "weight"), out_off(color));
}

/* The evidence quotes of one met criterion, one per line. */
static void evidence_lines(struct buf *b, json_object *c)
{
    json_object *ev = render_get(c, "evidence", json_type_array);

    for (size_t k = 0; ev != NULL && k < json_object_array_length(ev); k++) {
        json_object *e = json_object_array_get_idx(ev, k);

        buf_adds(b, "      ");
        render_text(b, render_str(e, "field"));
        buf_adds(b, ": \"");
        render_text(b, render_str(e, "text"));
        buf_adds(b, "\"\n");
    }
}

static void criteria(struct buf *b, bool color, json_object *an)
{
    json_object *met = render_get(an, "met", json_type_array);
    json_object *missing = render_get(an, "missing", json_type_array);

    render_heading(b, color, "Met criteria", met ? json_object_array_length(met) : 0);
    for (size_t i = 0; met != NULL && i < json_object_array_length(met); i++) {
        json_object *c = json_object_array_get_idx(met, i);

        criterion_line(b, color, c, true);
        evidence_lines(b, c);
    }
    render_heading(b, color, "Missing", missing ? json_object_array_length(missing) : 0);
    for (size_t i = 0; missing != NULL && i < json_object_array_length(missing); i++)
        criterion_line(b, color, json_object_array_get_idx(missing, i), false);
}

/* The plan, numbered, each step "[group] advice" word-wrapped under its number. */
static void plan(struct buf *b, bool color, json_object *an)
{
    json_object *steps = render_get(an, "plan", json_type_array);
    size_t width = out_term_width();

    render_heading(b, color, "Optimization plan", steps ? json_object_array_length(steps) : 0);
    for (size_t i = 0; steps != NULL && i < json_object_array_length(steps); i++) {
        json_object *p = json_object_array_get_idx(steps, i);
        const char *group = render_str(p, "group"), *advice = render_str(p, "advice");
        char *num = xasprintf("  %2zu. ", i + 1);
        struct buf line = BUF_INIT;

        buf_adds(b, num);
        if (group != NULL)
            buf_printf(&line, "[%s] ", group);
        buf_adds(&line, advice != NULL ? advice : "");
        out_wrap(b, line.data, 0, strlen(num), width);
        buf_free(&line);
        free(num);
    }
}

void render_analysis(struct buf *b, bool color, json_object *an)
{
    criteria(b, color, an);
    plan(b, color, an);
}
