/* The Redis key layout of SPEC §2, in one place. Every function returns a
 * newly allocated key name that the caller frees. */
#ifndef VETD_KEYS_H
#define VETD_KEYS_H

char *keys_submissions(const char *prefix);
char *keys_processing(const char *prefix, const char *instance);
char *keys_deliveries(const char *prefix);
char *keys_instance(const char *prefix, const char *instance);
char *keys_instances(const char *prefix);
char *keys_app(const char *prefix, const char *id);
char *keys_state(const char *prefix, const char *role, const char *state);
char *keys_history(const char *prefix, const char *id);
char *keys_by_email(const char *prefix, const char *email_sha1);
char *keys_notifications(const char *prefix);
char *keys_notif_processing(const char *prefix, const char *consumer);
char *keys_dead(const char *prefix);
char *keys_dead_item(const char *prefix, long long seq);
char *keys_dead_seq(const char *prefix);
/* The set of role ids that have applications (so `vetctl list` never scans). */
char *keys_roles(const char *prefix);
/* vetd's staging hash of one accepted item (an addition to §2, see
 * doc/daemon.md): the whole application, written with plain commands just
 * before the settle Function renames it into P app:<id>; a TTL bounds
 * leftovers. */
char *keys_stage(const char *prefix, const char *instance, const char *digest);

/* s with the glob characters of SCAN MATCH escaped, so a prefix or name can
 * be part of a pattern (keys_stage(keys_glob_escape(p), inst, "*")). */
char *keys_glob_escape(const char *s);

#endif
