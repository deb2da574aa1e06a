/* The inside of a loaded role, for the scorer: criteria with their compiled
 * tests, the next steps, and the role's one term automaton. */
#ifndef VETD_ROLE_INTERNAL_H
#define VETD_ROLE_INTERNAL_H

#include <locale.h>
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include "hash.h"
#include "role.h"

struct match_set;

/* The searchable fields of a submission, in canonical order. */
enum role_field {
    ROLE_FIELD_SKILLS,
    ROLE_FIELD_CERTIFICATIONS,
    ROLE_FIELD_HEADLINE,
    ROLE_FIELD_SUMMARY,
    ROLE_FIELD_EXPERIENCE,
    ROLE_FIELD_CV_TEXT,
    ROLE_FIELD_COUNT
};

enum role_test {
    ROLE_TEST_TERMS,     /* any term occurs */
    ROLE_TEST_COUNT,     /* at least min distinct entries occur */
    ROLE_TEST_PATTERN,   /* the regex matches some field */
    ROLE_TEST_MIN_YEARS, /* years of experience >= min_years */
    ROLE_TEST_LINK       /* one of links is present */
};

struct role_criterion {
    char *id;
    char *group;
    char *label;
    char *advice;
    int weight; /* 1..ROLE_WEIGHT_MAX */
    bool required;
    enum role_test test;
    /* Where terms, count and pattern look, in the order the role gives
     * (evidence follows it); rank[f] is the position of field f in that
     * list, or -1 when the criterion does not look there. */
    enum role_field fields[ROLE_FIELD_COUNT];
    size_t nfields;
    int rank[ROLE_FIELD_COUNT];
    bool ordered;    /* the ranks rise in canonical order: evidence comes sorted */
    size_t nentries; /* terms: 1; count: the number of entries */
    int min;         /* count: entries needed; terms: 1 */
    regex_t re;      /* pattern: compiled in the C locale */
    bool has_re;     /* re is compiled (and must be freed) */
    bool re_lower;   /* re is the pattern lower-cased, without REG_ICASE: it
                      * runs on the text lower-cased (ASCII), see role.c */
    bool has_need;   /* every match holds a byte of need: skip texts without */
    bool need[256];
    bool lead[256];       /* what a match may hold before its first byte of need */
    char need_bytes[256]; /* the bytes of need but NUL, as a string for strcspn */
    double min_years;
    char **links; /* link: the link names */
    size_t nlinks;
    /* Pre-rendered JSON, so an analysis copies the role's constant text:
     * head is {"id":..,"label":..,"group":..,"weight":N (no closing brace),
     * advice is ,"advice":".." and step is the plan item {"group","advice"}. */
    char *json_head;
    char *json_advice;
    char *json_step;
    size_t json_head_len, json_advice_len, json_step_len;
};

struct role_step {
    char *group;
    char *advice;
    char *json; /* the plan item {"group":..,"advice":..}, pre-rendered */
    size_t json_len;
};

/* Which criterion and which count entry a term of the automaton belongs to. */
struct role_term {
    size_t criterion;
    size_t entry;
};

#define ROLE_WEIGHT_MAX 1000
#define ROLE_CRITERIA_MAX 1000

struct role {
    char *id;
    char *version;
    char *title;
    char *description;
    char *path; /* the file it came from */
    int threshold;
    char sha1[HASH_HEX_LEN + 1]; /* of the file's bytes */
    char *json_head; /* "role" to "role_sha1", pre-rendered: {"role":..,.."role_sha1":".." */
    size_t json_head_len;
    struct role_criterion *criteria;
    size_t ncriteria;
    size_t *patterns; /* the indexes of the pattern criteria, in order */
    size_t npatterns;
    size_t *plan_order; /* the criteria's indexes, heaviest first, ties in file order */
    struct role_step *steps;
    size_t nsteps;
    struct match_set *terms;  /* every term of every terms/count criterion */
    struct role_term *owners; /* term index -> owner */
    locale_t c_locale;        /* newlocale("C"): patterns and numbers use it */
};

#endif
