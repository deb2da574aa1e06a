/* Scoring a validated submission against a role: the score, the verdict
 * and the analysis JSON with evidence and the plan (SPEC §4). */
#ifndef VETD_SCORE_H
#define VETD_SCORE_H

#include <stdbool.h>

struct role;
struct submission;

struct score_result {
    int score;      /* 0-100 */
    int threshold;
    bool qualified; /* score >= threshold and every required criterion met */
    char *analysis; /* owned: the §4 analysis, compact JSON, deterministic */
};

/* scored_by is e.g. "vetd 0.1.0". Never fails. */
void score_submission(const struct role *r, const struct submission *s, const char *scored_by,
                      struct score_result *out);
void score_result_free(struct score_result *res);

#endif
