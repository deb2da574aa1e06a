/* Unit tests of submission validation: every SPEC §3 rule passing and
 * failing (code and detail), the order of the codes, ids and hashes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "hash.h"
#include "role.h"
#include "submission.h"
#include "xmalloc.h"

#define MAX (256 * 1024)

/* The four required fields, valid. */
#define REQ "\"role\":\"backend-developer\",\"name\":\"Ada Lovelace\",\"email\":\"ada@example.com\""
#define REQC REQ ",\"consent\":true"
/* A submission with the required fields and one more member. */
#define WITH(member) "{" REQC "," member "}"

struct scase {
    const char *what;
    const char *tmpl; /* see expand() */
    enum sub_code want;
    const char *detail; /* exact, or NULL when want is SUB_OK */
};

/* Expand "<N*text>" into text repeated N times, so that length limits can
 * be tested at their edges without pages of literals. */
static char *expand(const char *t)
{
    struct buf b = BUF_INIT;

    while (*t != '\0') {
        if (*t != '<') {
            buf_addc(&b, *t++);
            continue;
        }
        char *star;
        unsigned long n = strtoul(t + 1, &star, 10);
        const char *close = strchr(star, '>');
        assert_non_null(close);
        for (unsigned long i = 0; i < n; i++)
            buf_add(&b, star + 1, (size_t)(close - star - 1));
        t = close + 1;
    }
    return buf_steal(&b);
}

static const struct scase cases[] = {
    {"valid minimal", "{" REQC "}", SUB_OK, NULL},
    {"unknown fields ignored", WITH("\"extra\":{\"deep\":[1,2,{\"x\":null}]},\"more\":1"), SUB_OK,
     NULL},

    /* Top level. */
    {"array", "[1]", SUB_NOT_OBJECT, "payload: top-level value must be an object"},
    {"string", "\"x\"", SUB_NOT_OBJECT, "payload: top-level value must be an object"},
    {"number", "42", SUB_NOT_OBJECT, "payload: top-level value must be an object"},
    {"null", "null", SUB_NOT_OBJECT, "payload: top-level value must be an object"},

    /* Required fields, in table order. */
    {"empty object", "{}", SUB_MISSING_FIELD, "role: is required"},
    {"no name", "{\"role\":\"x\",\"email\":\"a@b.c\",\"consent\":true}", SUB_MISSING_FIELD,
     "name: is required"},
    {"no email", "{\"role\":\"x\",\"name\":\"A\",\"consent\":true}", SUB_MISSING_FIELD,
     "email: is required"},
    {"no consent", "{" REQ "}", SUB_MISSING_FIELD, "consent: is required"},
    {"null role is not absent",
     "{\"role\":null,\"name\":\"A\",\"email\":\"a@b.c\",\"consent\":true}", SUB_BAD_FIELD,
     "role: must be a string"},
    {"null name", "{\"role\":\"r\",\"name\":null,\"email\":\"a@b.c\",\"consent\":true}",
     SUB_BAD_FIELD, "name: must be a string"},
    {"null email", "{\"role\":\"r\",\"name\":\"A\",\"email\":null,\"consent\":true}", SUB_BAD_FIELD,
     "email: must be a string"},
    {"null consent", "{" REQ ",\"consent\":null}", SUB_NO_CONSENT, "consent: must be true"},
    {"missing before bad", "{\"role\":5,\"name\":\"A\",\"email\":\"a@b.c\"}", SUB_MISSING_FIELD,
     "consent: is required"},
    {"missing before no consent", "{\"consent\":false}", SUB_MISSING_FIELD, "role: is required"},

    /* role */
    {"role 64 chars", "{\"role\":\"<64*a>\",\"name\":\"A\",\"email\":\"a@b.c\",\"consent\":true}",
     SUB_OK, NULL},
    {"role not a string", "{\"role\":5,\"name\":\"A\",\"email\":\"a@b.c\",\"consent\":true}",
     SUB_BAD_FIELD, "role: must be a string"},
    {"role upper case",
     "{\"role\":\"Backend\",\"name\":\"A\",\"email\":\"a@b.c\",\"consent\":true}", SUB_BAD_FIELD,
     "role: must match [a-z0-9][a-z0-9-]{0,63}"},
    {"role leading dash", "{\"role\":\"-x\",\"name\":\"A\",\"email\":\"a@b.c\",\"consent\":true}",
     SUB_BAD_FIELD, "role: must match [a-z0-9][a-z0-9-]{0,63}"},
    {"role empty", "{\"role\":\"\",\"name\":\"A\",\"email\":\"a@b.c\",\"consent\":true}",
     SUB_BAD_FIELD, "role: must match [a-z0-9][a-z0-9-]{0,63}"},
    {"role 65 chars", "{\"role\":\"<65*a>\",\"name\":\"A\",\"email\":\"a@b.c\",\"consent\":true}",
     SUB_BAD_FIELD, "role: must match [a-z0-9][a-z0-9-]{0,63}"},

/* name */
#define NAME(v) "{\"role\":\"r\",\"name\":" v ",\"email\":\"a@b.c\",\"consent\":true}"
    {"name 200 code points", NAME("\"<200*\xc3\xa9>\""), SUB_OK, NULL},
    {"name inner spaces", NAME("\" A  B \""), SUB_OK, NULL},
    {"name empty", NAME("\"\""), SUB_BAD_FIELD, "name: must be 1-200 characters"},
    {"name 201 code points", NAME("\"<201*\xc3\xa9>\""), SUB_BAD_FIELD,
     "name: must be 1-200 characters"},
    {"name only spaces", NAME("\"   \""), SUB_BAD_FIELD, "name: must not be only white space"},
    {"name tab", NAME("\"A\\tB\""), SUB_BAD_FIELD, "name: must not contain control characters"},
    {"name DEL", NAME("\"A\x7f\""), SUB_BAD_FIELD, "name: must not contain control characters"},
    {"name NUL", NAME("\"A\\u0000\""), SUB_BAD_FIELD, "name: must not contain control characters"},
    {"name number", NAME("5"), SUB_BAD_FIELD, "name: must be a string"},

/* email */
#define EMAIL(v) "{\"role\":\"r\",\"name\":\"A\",\"email\":" v ",\"consent\":true}"
    {"email two labels", EMAIL("\"a@x.y\""), SUB_OK, NULL},
    {"email 254 chars", EMAIL("\"<250*a>@x.y\""), SUB_OK, NULL},
    {"email 255 chars", EMAIL("\"<251*a>@x.y\""), SUB_BAD_FIELD,
     "email: must be at most 254 characters"},
    {"email not a string", EMAIL("[]"), SUB_BAD_FIELD, "email: must be a string"},
    {"email space", EMAIL("\"a b@x.y\""), SUB_BAD_FIELD, "email: must not contain white space"},
    {"email tab", EMAIL("\"a\\t@x.y\""), SUB_BAD_FIELD, "email: must not contain white space"},
    {"email control", EMAIL("\"a\\u0001@x.y\""), SUB_BAD_FIELD,
     "email: must not contain control characters"},
    {"email no @", EMAIL("\"ax.y\""), SUB_BAD_FIELD, "email: must contain exactly one @"},
    {"email two @", EMAIL("\"a@b@x.y\""), SUB_BAD_FIELD, "email: must contain exactly one @"},
    {"email empty local", EMAIL("\"@x.y\""), SUB_BAD_FIELD, "email: local part must not be empty"},
    {"email one label", EMAIL("\"a@localhost\""), SUB_BAD_FIELD,
     "email: domain must have at least 2 non-empty dot-separated labels"},
    {"email empty domain", EMAIL("\"a@\""), SUB_BAD_FIELD,
     "email: domain must have at least 2 non-empty dot-separated labels"},
    {"email leading dot", EMAIL("\"a@.x.y\""), SUB_BAD_FIELD,
     "email: domain must have at least 2 non-empty dot-separated labels"},
    {"email double dot", EMAIL("\"a@x..y\""), SUB_BAD_FIELD,
     "email: domain must have at least 2 non-empty dot-separated labels"},
    {"email trailing dot", EMAIL("\"a@x.y.\""), SUB_BAD_FIELD,
     "email: domain must have at least 2 non-empty dot-separated labels"},

    /* consent */
    {"consent false", "{" REQ ",\"consent\":false}", SUB_NO_CONSENT, "consent: must be true"},
    {"consent string", "{" REQ ",\"consent\":\"true\"}", SUB_NO_CONSENT, "consent: must be true"},
    {"consent 1", "{" REQ ",\"consent\":1}", SUB_NO_CONSENT, "consent: must be true"},

    /* id */
    {"id all classes", WITH("\"id\":\"aZ09._-\""), SUB_OK, NULL},
    {"id 64", WITH("\"id\":\"<64*x>\""), SUB_OK, NULL},
    {"id 65", WITH("\"id\":\"<65*x>\""), SUB_BAD_FIELD, "id: must match [A-Za-z0-9._-]{1,64}"},
    {"id empty", WITH("\"id\":\"\""), SUB_BAD_FIELD, "id: must match [A-Za-z0-9._-]{1,64}"},
    {"id space", WITH("\"id\":\"a b\""), SUB_BAD_FIELD, "id: must match [A-Za-z0-9._-]{1,64}"},
    {"id slash", WITH("\"id\":\"a/b\""), SUB_BAD_FIELD, "id: must match [A-Za-z0-9._-]{1,64}"},
    {"id non-ASCII", WITH("\"id\":\"\xc3\xa9\""), SUB_BAD_FIELD,
     "id: must match [A-Za-z0-9._-]{1,64}"},
    {"id number", WITH("\"id\":5"), SUB_BAD_FIELD, "id: must match [A-Za-z0-9._-]{1,64}"},
    {"id null is absent", WITH("\"id\":null"), SUB_OK, NULL},

    /* submitted_at */
    {"submitted_at Z", WITH("\"submitted_at\":\"2026-11-28T14:16:16Z\""), SUB_OK, NULL},
    {"submitted_at offset", WITH("\"submitted_at\":\"2026-11-28T14:16:16.5+01:00\""), SUB_OK, NULL},
    {"submitted_at space", WITH("\"submitted_at\":\"2026-11-28 14:16:16Z\""), SUB_BAD_FIELD,
     "submitted_at: must be an RFC 3339 date-time"},
    {"submitted_at lower t", WITH("\"submitted_at\":\"2026-11-28t14:16:16Z\""), SUB_BAD_FIELD,
     "submitted_at: must be an RFC 3339 date-time"},
    {"submitted_at no zone", WITH("\"submitted_at\":\"2026-11-28T14:16:16\""), SUB_BAD_FIELD,
     "submitted_at: must be an RFC 3339 date-time"},
    {"submitted_at number", WITH("\"submitted_at\":1700000000"), SUB_BAD_FIELD,
     "submitted_at: must be an RFC 3339 date-time"},

    /* headline */
    {"headline 300", WITH("\"headline\":\"<300*h>\""), SUB_OK, NULL},
    {"headline empty", WITH("\"headline\":\"\""), SUB_OK, NULL},
    {"headline null", WITH("\"headline\":null"), SUB_OK, NULL},
    {"headline 301", WITH("\"headline\":\"<301*h>\""), SUB_BAD_FIELD,
     "headline: must be at most 300 characters"},
    {"headline LF", WITH("\"headline\":\"a\\nb\""), SUB_BAD_FIELD,
     "headline: must not contain control characters"},
    {"headline array", WITH("\"headline\":[]"), SUB_BAD_FIELD, "headline: must be a string"},

    /* summary */
    {"summary tab LF CR", WITH("\"summary\":\"a\\tb\\nc\\r\\n\""), SUB_OK, NULL},
    {"summary 5000", WITH("\"summary\":\"<5000*s>\""), SUB_OK, NULL},
    {"summary 5001", WITH("\"summary\":\"<5001*s>\""), SUB_BAD_FIELD,
     "summary: must be at most 5000 characters"},
    {"summary ESC", WITH("\"summary\":\"a\\u001b[31m\""), SUB_BAD_FIELD,
     "summary: must not contain control characters other than tab, line feed and carriage "
     "return"},
    {"summary form feed", WITH("\"summary\":\"a\\fb\""), SUB_BAD_FIELD,
     "summary: must not contain control characters other than tab, line feed and carriage "
     "return"},

    /* years_experience */
    {"years 0", WITH("\"years_experience\":0"), SUB_OK, NULL},
    {"years 60", WITH("\"years_experience\":60"), SUB_OK, NULL},
    {"years 2.5", WITH("\"years_experience\":2.5"), SUB_OK, NULL},
    {"years -0", WITH("\"years_experience\":-0"), SUB_OK, NULL},
    {"years 6e1", WITH("\"years_experience\":6e1"), SUB_OK, NULL},
    {"years -1", WITH("\"years_experience\":-1"), SUB_BAD_FIELD,
     "years_experience: must be a number 0-60"},
    {"years 60.5", WITH("\"years_experience\":60.5"), SUB_BAD_FIELD,
     "years_experience: must be a number 0-60"},
    {"years huge int", WITH("\"years_experience\":99999999999999999999999"), SUB_BAD_FIELD,
     "years_experience: must be a number 0-60"},
    {"years string", WITH("\"years_experience\":\"5\""), SUB_BAD_FIELD,
     "years_experience: must be a number 0-60"},
    {"years bool", WITH("\"years_experience\":true"), SUB_BAD_FIELD,
     "years_experience: must be a number 0-60"},

    /* skills */
    {"skills ok", WITH("\"skills\":[\"Go\",\"C++\"]"), SUB_OK, NULL},
    {"skills 100 of 100", WITH("\"skills\":[<99*\"a\",>\"<100*k>\"]"), SUB_OK, NULL},
    {"skills empty array", WITH("\"skills\":[]"), SUB_OK, NULL},
    {"skills not array", WITH("\"skills\":\"Go\""), SUB_BAD_FIELD, "skills: must be an array"},
    {"skills 101", WITH("\"skills\":[<100*\"a\",>\"a\"]"), SUB_BAD_FIELD,
     "skills: must have at most 100 entries"},
    {"skills empty entry", WITH("\"skills\":[\"a\",\"b\",\"c\",\"\"]"), SUB_BAD_FIELD,
     "skills[3]: must be 1-100 characters"},
    {"skills long entry", WITH("\"skills\":[\"<101*k>\"]"), SUB_BAD_FIELD,
     "skills[0]: must be 1-100 characters"},
    {"skills number entry", WITH("\"skills\":[\"a\",1]"), SUB_BAD_FIELD,
     "skills[1]: must be a string"},
    {"skills null entry", WITH("\"skills\":[null]"), SUB_BAD_FIELD, "skills[0]: must be a string"},
    {"skills control", WITH("\"skills\":[\"a\\tb\"]"), SUB_BAD_FIELD,
     "skills[0]: must not contain control characters"},

    /* certifications */
    {"certs ok", WITH("\"certifications\":[\"<200*c>\"]"), SUB_OK, NULL},
    {"certs 51", WITH("\"certifications\":[<50*\"a\",>\"a\"]"), SUB_BAD_FIELD,
     "certifications: must have at most 50 entries"},
    {"certs long", WITH("\"certifications\":[\"a\",\"<201*c>\"]"), SUB_BAD_FIELD,
     "certifications[1]: must be 1-200 characters"},
    {"certs object", WITH("\"certifications\":{}"), SUB_BAD_FIELD,
     "certifications: must be an array"},

    /* experience */
    {"experience full",
     WITH("\"experience\":[{\"title\":\"T\",\"company\":\"C\",\"description\":"
          "\"a\\nb\",\"years\":2.5,\"other\":[1]}]"),
     SUB_OK, NULL},
    {"experience empty entry", WITH("\"experience\":[{}]"), SUB_OK, NULL},
    {"experience nulls", WITH("\"experience\":[{\"title\":null,\"years\":null}]"), SUB_OK, NULL},
    {"experience 50", WITH("\"experience\":[<49*{},>{}]"), SUB_OK, NULL},
    {"experience 51", WITH("\"experience\":[<50*{},>{}]"), SUB_BAD_FIELD,
     "experience: must have at most 50 entries"},
    {"experience object", WITH("\"experience\":{}"), SUB_BAD_FIELD, "experience: must be an array"},
    {"experience entry number", WITH("\"experience\":[{},1]"), SUB_BAD_FIELD,
     "experience[1]: must be an object"},
    {"experience years 61", WITH("\"experience\":[{},{},{\"years\":61}]"), SUB_BAD_FIELD,
     "experience[2].years: must be a number 0-60"},
    {"experience years string", WITH("\"experience\":[{\"years\":\"3\"}]"), SUB_BAD_FIELD,
     "experience[0].years: must be a number 0-60"},
    {"experience title 201", WITH("\"experience\":[{\"title\":\"<201*t>\"}]"), SUB_BAD_FIELD,
     "experience[0].title: must be at most 200 characters"},
    {"experience title LF", WITH("\"experience\":[{\"title\":\"a\\nb\"}]"), SUB_BAD_FIELD,
     "experience[0].title: must not contain control characters"},
    {"experience company 201", WITH("\"experience\":[{\"company\":\"<201*t>\"}]"), SUB_BAD_FIELD,
     "experience[0].company: must be at most 200 characters"},
    {"experience company number", WITH("\"experience\":[{\"company\":1}]"), SUB_BAD_FIELD,
     "experience[0].company: must be a string"},
    {"experience description 5001", WITH("\"experience\":[{\"description\":\"<5001*d>\"}]"),
     SUB_BAD_FIELD, "experience[0].description: must be at most 5000 characters"},
    {"experience description BEL", WITH("\"experience\":[{\"description\":\"\\u0007\"}]"),
     SUB_BAD_FIELD,
     "experience[0].description: must not contain control characters other than tab, line "
     "feed and carriage return"},

    /* cv_text */
    {"cv 100000", WITH("\"cv_text\":\"<100000*v>\""), SUB_OK, NULL},
    {"cv 100001", WITH("\"cv_text\":\"<100001*v>\""), SUB_BAD_FIELD,
     "cv_text: must be at most 100000 characters"},
    {"cv NUL", WITH("\"cv_text\":\"a\\u0000\""), SUB_BAD_FIELD,
     "cv_text: must not contain control characters other than tab, line feed and carriage "
     "return"},

/* links */
#define LINK(v) WITH("\"links\":{\"blog\":" v "}")
    {"links empty", WITH("\"links\":{}"), SUB_OK, NULL},
    {"links https path", LINK("\"https://github.com/ada\""), SUB_OK, NULL},
    {"links http port query", LINK("\"http://x.example:8080/p?q=1#f\""), SUB_OK, NULL},
    {"links bare host", LINK("\"https://localhost\""), SUB_OK, NULL},
    {"links unicode path", LINK("\"https://x.y/\xc3\xa9\""), SUB_OK, NULL},
    {"links 2048", LINK("\"https://x.y/<2036*p>\""), SUB_OK, NULL},
    {"links 20",
     WITH("\"links\":{\"a0\":\"http://x.y\",\"a1\":\"http://x.y\",\"a2\":\"http://"
          "x.y\",\"a3\":\"http://x.y\",\"a4\":\"http://x.y\",\"a5\":\"http://x.y\",\"a6\":\"http://"
          "x.y\",\"a7\":\"http://x.y\",\"a8\":\"http://x.y\",\"a9\":\"http://x.y\",\"b0\":\"http://"
          "x.y\",\"b1\":\"http://x.y\",\"b2\":\"http://x.y\",\"b3\":\"http://x.y\",\"b4\":\"http://"
          "x.y\",\"b5\":\"http://x.y\",\"b6\":\"http://x.y\",\"b7\":\"http://x.y\",\"b8\":\"http://"
          "x.y\",\"b9\":\"http://x.y\"}"),
     SUB_OK, NULL},
    {"links name 32", WITH("\"links\":{\"a<31*b>\":\"http://x.y\"}"), SUB_OK, NULL},
    {"links array", WITH("\"links\":[]"), SUB_BAD_FIELD, "links: must be an object"},
    {"links 21",
     WITH("\"links\":{\"a0\":\"http://x.y\",\"a1\":\"http://x.y\",\"a2\":\"http://x.y\""
          ",\"a3\":\"http://x.y\",\"a4\":\"http://x.y\",\"a5\":\"http://x.y\",\"a6\":"
          "\"http://x.y\",\"a7\":\"http://x.y\",\"a8\":\"http://x.y\",\"a9\":\"http://"
          "x.y\",\"b0\":\"http://x.y\",\"b1\":\"http://x.y\",\"b2\":\"http://x.y\","
          "\"b3\":\"http://x.y\",\"b4\":\"http://x.y\",\"b5\":\"http://x.y\",\"b6\":"
          "\"http://x.y\",\"b7\":\"http://x.y\",\"b8\":\"http://x.y\",\"b9\":\"http://"
          "x.y\",\"c0\":\"http://x.y\"}"),
     SUB_BAD_FIELD, "links: must have at most 20 entries"},
    {"links name upper", WITH("\"links\":{\"GitHub\":\"http://x.y\"}"), SUB_BAD_FIELD,
     "links: names must match [a-z][a-z0-9_-]{0,31}"},
    {"links name digit first", WITH("\"links\":{\"1a\":\"http://x.y\"}"), SUB_BAD_FIELD,
     "links: names must match [a-z][a-z0-9_-]{0,31}"},
    {"links name 33", WITH("\"links\":{\"a<32*b>\":\"http://x.y\"}"), SUB_BAD_FIELD,
     "links: names must match [a-z][a-z0-9_-]{0,31}"},
    {"links name empty", WITH("\"links\":{\"\":\"http://x.y\"}"), SUB_BAD_FIELD,
     "links: names must match [a-z][a-z0-9_-]{0,31}"},
    {"links number", LINK("5"), SUB_BAD_FIELD, "links.blog: must be a string"},
    {"links null", LINK("null"), SUB_BAD_FIELD, "links.blog: must be a string"},
    {"links 2049", LINK("\"https://x.y/<2037*p>\""), SUB_BAD_FIELD,
     "links.blog: must be at most 2048 characters"},
    {"links space", LINK("\"https://x.y/a b\""), SUB_BAD_FIELD,
     "links.blog: must not contain white space"},
    {"links control", LINK("\"https://x.y/\\u0001\""), SUB_BAD_FIELD,
     "links.blog: must not contain control characters"},
    {"links ftp", LINK("\"ftp://x.y\""), SUB_BAD_FIELD,
     "links.blog: must be an http:// or https:// URL"},
    {"links javascript", LINK("\"javascript:alert(1)\""), SUB_BAD_FIELD,
     "links.blog: must be an http:// or https:// URL"},
    {"links upper scheme", LINK("\"HTTPS://x.y\""), SUB_BAD_FIELD,
     "links.blog: must be an http:// or https:// URL"},
    {"links no host", LINK("\"https://\""), SUB_BAD_FIELD,
     "links.blog: must be an http:// or https:// URL"},
    {"links no host path", LINK("\"https:///p\""), SUB_BAD_FIELD,
     "links.blog: must be an http:// or https:// URL"},
    {"links underscore host", LINK("\"https://x_y.z\""), SUB_BAD_FIELD,
     "links.blog: must be an http:// or https:// URL"},
    {"links userinfo", LINK("\"https://u@x.y\""), SUB_BAD_FIELD,
     "links.blog: must be an http:// or https:// URL"},
    {"links empty port", LINK("\"https://x.y:/\""), SUB_BAD_FIELD,
     "links.blog: must be an http:// or https:// URL"},
    {"links long port", LINK("\"https://x.y:123456\""), SUB_BAD_FIELD,
     "links.blog: must be an http:// or https:// URL"},
    {"links query without path", LINK("\"https://x.y?q\""), SUB_BAD_FIELD,
     "links.blog: must be an http:// or https:// URL"},

    /* Several problems: the first in table order decides. */
    {"name and email bad", "{\"role\":\"r\",\"name\":\"\",\"email\":\"x\",\"consent\":true}",
     SUB_BAD_FIELD, "name: must be 1-200 characters"},
    {"email bad and no consent",
     "{\"role\":\"r\",\"name\":\"A\",\"email\":\"x\",\"consent\":false}", SUB_BAD_FIELD,
     "email: must contain exactly one @"},
    {"no consent and bad id", "{" REQ ",\"consent\":false,\"id\":\"\"}", SUB_NO_CONSENT,
     "consent: must be true"},
    {"table order, not text order", "{\"links\":5," REQC ",\"headline\":5}", SUB_BAD_FIELD,
     "headline: must be a string"},
    {"skills before experience", WITH("\"experience\":5,\"skills\":5"), SUB_BAD_FIELD,
     "skills: must be an array"},

    /* Duplicate keys: the last one wins, as in JSON.parse. */
    {"duplicate: last valid wins", "{\"name\":5," REQC "}", SUB_OK, NULL},
    {"duplicate: last invalid wins", "{" REQC ",\"name\":5}", SUB_BAD_FIELD,
     "name: must be a string"},
    {"duplicate consent", "{" REQC ",\"consent\":false}", SUB_NO_CONSENT, "consent: must be true"},

    /* The strict pass, through submission_parse. */
    {"bad UTF-8", WITH("\"headline\":\"\xc0\xaf\""), SUB_BAD_UTF8,
     "payload: invalid UTF-8 at byte 103: overlong encoding"},
    {"not JSON", WITH("\"years_experience\":NaN"), SUB_NOT_JSON,
     "payload: invalid JSON at byte 110: NaN is not JSON"},
    {"bad UTF-8 outranks not JSON", "{'a':1,\"b\":\"\xff\"}", SUB_BAD_UTF8,
     "payload: invalid UTF-8 at byte 12: invalid byte"},
    {"lone surrogate escape", WITH("\"name\":\"\\udead\""), SUB_BAD_UTF8,
     "payload: invalid UTF-8 at byte 99: escaped lone surrogate"},
    {"depth 64 in an unknown field", WITH("\"x\":<63*[><63*]>"), SUB_OK, NULL},
    {"depth 65", WITH("\"x\":<64*[><64*]>"), SUB_TOO_DEEP,
     "payload: nested deeper than 64 levels at byte 158"},
    {"not JSON outranks too deep", WITH("\"x\":<63*[><63*]>,"), SUB_NOT_JSON,
     "payload: invalid JSON at byte 222: trailing comma"},
    {"not object outranks missing", "[{\"role\":1}]", SUB_NOT_OBJECT,
     "payload: top-level value must be an object"},
};

static void run_case(const struct scase *c, const struct roleset *roles, int *failures)
{
    struct submission s;
    char detail[512];
    char *json = expand(c->tmpl);
    enum sub_code got = submission_parse(&s, json, strlen(json), MAX, roles, detail, sizeof detail);

    if (got != c->want || (c->detail != NULL && strcmp(detail, c->detail) != 0)) {
        print_error("case '%s': got %s '%s', want %s '%s'\n", c->what, sub_code_name(got), detail,
                    sub_code_name(c->want), c->detail ? c->detail : "");
        (*failures)++;
    }
    if (got == SUB_OK) {
        assert_non_null(s.root);
        assert_non_null(s.role);
        assert_non_null(s.name);
        assert_non_null(s.email);
        assert_non_null(s.id);
        assert_string_equal(detail, "");
        submission_free(&s);
    } else {
        assert_null(s.root);
        assert_null(s.name);
        assert_int_equal(strlen(s.digest), HASH_HEX_LEN);
    }
    free(json);
}

static void test_rules(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(&cases[i], NULL, &failures);
    assert_int_equal(failures, 0);
}

static void test_code_names(void **state)
{
    (void)state;
    static const char *const want[] = {"ok",         "too_large",   "bad_utf8",      "not_json",
                                       "too_deep",   "not_object",  "missing_field", "bad_field",
                                       "no_consent", "unknown_role"};
    for (int c = SUB_OK; c <= SUB_UNKNOWN_ROLE; c++)
        assert_string_equal(sub_code_name((enum sub_code)c), want[c]);
}

static void test_too_large(void **state)
{
    (void)state;
    struct submission s;
    char detail[256];
    const char *j = "{" REQC "}";
    size_t n = strlen(j);
    char digest[HASH_HEX_LEN + 1];

    hash_sha1_hex(j, n, digest);
    assert_int_equal(submission_parse(&s, j, n, n, NULL, detail, sizeof detail), SUB_OK);
    submission_free(&s);
    assert_int_equal(submission_parse(&s, j, n, n - 1, NULL, detail, sizeof detail), SUB_TOO_LARGE);
    assert_string_equal(detail, "payload: larger than 90 bytes");
    assert_string_equal(s.digest, digest);
    assert_false(s.has_email_sha1);

    /* Size is checked before anything else. */
    const char *bad = "\xff\xff\xff";
    assert_int_equal(submission_parse(&s, bad, 3, 2, NULL, detail, sizeof detail), SUB_TOO_LARGE);
}

/* The digest names the raw bytes; the id defaults to its first 20 digits,
 * so a redelivered submission gets the same id. */
static void test_ids_and_fields(void **state)
{
    (void)state;
    struct submission s;
    char detail[256], digest[HASH_HEX_LEN + 1];
    const char *j = "{" REQC ",\"years_experience\":7.5,\"skills\":[\"Go\"],\"links\":{},"
                    "\"submitted_at\":\"2026-11-28T14:16:16Z\",\"headline\":null}";

    hash_sha1_hex(j, strlen(j), digest);
    assert_int_equal(submission_parse(&s, j, strlen(j), MAX, NULL, detail, sizeof detail), SUB_OK);
    assert_string_equal(s.digest, digest);
    assert_true(s.id == s.id_buf);
    assert_int_equal(strlen(s.id), 20);
    assert_memory_equal(s.id, digest, 20);
    assert_string_equal(s.role, "backend-developer");
    assert_string_equal(s.name, "Ada Lovelace");
    assert_string_equal(s.email, "ada@example.com");
    assert_string_equal(s.submitted_at, "2026-11-28T14:16:16Z");
    assert_null(s.headline);
    assert_null(s.summary);
    assert_null(s.cv_text);
    assert_null(s.certifications);
    assert_null(s.experience);
    assert_true(s.has_years);
    assert_true(s.years_experience == 7.5);
    assert_int_equal(json_object_array_length(s.skills), 1);
    assert_non_null(s.links);
    submission_free(&s);

    const char *k = "{" REQC ",\"id\":\"form-42\"}";
    assert_int_equal(submission_parse(&s, k, strlen(k), MAX, NULL, detail, sizeof detail), SUB_OK);
    assert_string_equal(s.id, "form-42");
    assert_false(s.has_years);
    submission_free(&s);
}

/* The e-mail hash is known as soon as the top level is an object with a
 * string email, also when the submission is then rejected. */
static void test_email_sha1(void **state)
{
    (void)state;
    struct submission s;
    char detail[256], want[HASH_HEX_LEN + 1];
    hash_email_hex("ada@example.com", 15, want);

    const char *missing = "{\"email\":\"Ada@Example.COM\"}";
    assert_int_equal(
        submission_parse(&s, missing, strlen(missing), MAX, NULL, detail, sizeof detail),
        SUB_MISSING_FIELD);
    assert_true(s.has_email_sha1);
    assert_string_equal(s.email_sha1, want);

    const char *noconsent = "{" REQ ",\"consent\":false}";
    assert_int_equal(
        submission_parse(&s, noconsent, strlen(noconsent), MAX, NULL, detail, sizeof detail),
        SUB_NO_CONSENT);
    assert_true(s.has_email_sha1);
    assert_string_equal(s.email_sha1, want);

    const char *badmail = "{\"role\":\"r\",\"name\":\"A\",\"email\":\"no-at\",\"consent\":true}";
    assert_int_equal(
        submission_parse(&s, badmail, strlen(badmail), MAX, NULL, detail, sizeof detail),
        SUB_BAD_FIELD);
    assert_true(s.has_email_sha1);

    const char *nostr = "{\"role\":\"r\",\"name\":\"A\",\"email\":5,\"consent\":true}";
    assert_int_equal(submission_parse(&s, nostr, strlen(nostr), MAX, NULL, detail, sizeof detail),
                     SUB_BAD_FIELD);
    assert_false(s.has_email_sha1);

    const char *notjson = "{\"email\":\"ada@example.com\",}";
    assert_int_equal(
        submission_parse(&s, notjson, strlen(notjson), MAX, NULL, detail, sizeof detail),
        SUB_NOT_JSON);
    assert_false(s.has_email_sha1);
}

/* json-c keeps the last of repeated keys; the validated fields must too. */
static void test_duplicate_keys(void **state)
{
    (void)state;
    struct submission s;
    char detail[256];
    const char *j = "{\"name\":\"First\"," REQC ",\"headline\":\"one\",\"headline\":\"two\"}";

    assert_int_equal(submission_parse(&s, j, strlen(j), MAX, NULL, detail, sizeof detail), SUB_OK);
    assert_string_equal(s.name, "Ada Lovelace");
    assert_string_equal(s.headline, "two");
    assert_int_equal(json_object_object_length(s.root), 5);
    submission_free(&s);
}

/* Details never quote a candidate's value. */
static void test_detail_has_no_value(void **state)
{
    (void)state;
    struct submission s;
    char detail[256];
    const char *j = "{\"role\":\"r\",\"name\":\"SECRETNAME\\u0001\",\"email\":\"SECRET@MAIL\","
                    "\"consent\":true}";
    assert_int_equal(submission_parse(&s, j, strlen(j), MAX, NULL, detail, sizeof detail),
                     SUB_BAD_FIELD);
    assert_null(strstr(detail, "SECRET"));
    const char *k = "{\"role\":\"r\",\"name\":\"A\",\"email\":\"SECRET@MAIL\",\"consent\":true}";
    assert_int_equal(submission_parse(&s, k, strlen(k), MAX, NULL, detail, sizeof detail),
                     SUB_BAD_FIELD);
    assert_null(strstr(detail, "SECRET"));
    assert_string_equal(detail,
                        "email: domain must have at least 2 non-empty dot-separated labels");
}

static void test_unknown_role(void **state)
{
    (void)state;
    char *cause = NULL;
    struct roleset *rs = roleset_load(SOURCE_DIR "/conf/roles", &cause);
    if (rs == NULL)
        fail_msg("roleset_load: %s", cause);
    int failures = 0;
    static const struct scase rc[] = {
        {"loaded role", "{" REQC "}", SUB_OK, NULL},
        {"unknown role", "{\"role\":\"chef\",\"name\":\"A\",\"email\":\"a@b.c\",\"consent\":true}",
         SUB_UNKNOWN_ROLE, "role: unknown role 'chef'"},
        {"bad field before unknown role",
         "{\"role\":\"chef\",\"name\":\"A\",\"email\":\"a@b.c\",\"consent\":true,\"skills\":1}",
         SUB_BAD_FIELD, "skills: must be an array"},
        {"no consent before unknown role",
         "{\"role\":\"chef\",\"name\":\"A\",\"email\":\"a@b.c\",\"consent\":false}", SUB_NO_CONSENT,
         "consent: must be true"},
        {"role pattern before lookup",
         "{\"role\":\"Chef\",\"name\":\"A\",\"email\":\"a@b.c\",\"consent\":true}", SUB_BAD_FIELD,
         "role: must match [a-z0-9][a-z0-9-]{0,63}"},
    };
    for (size_t i = 0; i < sizeof rc / sizeof rc[0]; i++)
        run_case(&rc[i], rs, &failures);
    assert_int_equal(failures, 0);
    roleset_free(rs);
}

/* Every sample's file name promises its code (conf/samples/<x>.<code>.json;
 * qualified and not_qualified samples are valid submissions). */
static void test_samples(void **state)
{
    (void)state;
    char *cause = NULL;
    struct roleset *rs = roleset_load(SOURCE_DIR "/conf/roles", &cause);
    if (rs == NULL)
        fail_msg("roleset_load: %s", cause);
    DIR *dir = opendir(SOURCE_DIR "/conf/samples");
    assert_non_null(dir);
    struct dirent *de;
    char line[512];
    int n = 0, failures = 0;
    while ((de = readdir(dir)) != NULL) {
        snprintf(line, sizeof line, "%s", de->d_name);
        size_t len = strlen(line);
        if (len < 6 || strcmp(line + len - 5, ".json") != 0)
            continue;
        line[len - 5] = '\0';
        const char *want = strrchr(line, '.');
        if (want == NULL)
            continue;
        want++;
        if (strcmp(want, "qualified") == 0 || strcmp(want, "not_qualified") == 0)
            want = "ok";
        if (strcmp(want, "id_conflict") == 0 || strcmp(want, "poison") == 0)
            continue; /* decided in Redis, not by validation */
        char *path = xasprintf("%s/conf/samples/%s.json", SOURCE_DIR, line);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        static char data[512 * 1024];
        size_t got = fread(data, 1, sizeof data, f);
        fclose(f);
        struct submission s;
        char detail[512];
        enum sub_code code = submission_parse(&s, data, got, 262144, rs, detail, sizeof detail);
        if (strcmp(sub_code_name(code), want) != 0) {
            print_error("sample %s: got %s (%s)\n", line, sub_code_name(code), detail);
            failures++;
        }
        if (code == SUB_OK)
            submission_free(&s);
        free(path);
        n++;
    }
    closedir(dir);
    roleset_free(rs);
    assert_true(n >= 1);
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_code_names),
        cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_ids_and_fields),
        cmocka_unit_test(test_email_sha1),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_detail_has_no_value),
        cmocka_unit_test(test_unknown_role),
        cmocka_unit_test(test_samples),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
