/*
 * log: one line per event on stderr, logfmt after a timestamp and a level:
 *   2026-11-22T14:44:32Z info dns msg="listening" addr=0.0.0.0:53
 * Callers format the key=value part; values with spaces must be quoted.
 * Never fails: a short write to stderr is dropped.
 */
#ifndef SEEDD_LOG_H
#define SEEDD_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Parse "debug", "info", "warn", "error"; -1 when unknown. */
int log_level_parse(const char *s);
void log_set_level(enum log_level level);
/* Would a line at this level be written? (to skip formatting its values) */
int log_on(enum log_level level);

void log_msg(enum log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(m, ...) log_msg(LOG_DEBUG, m, __VA_ARGS__)
#define log_info(m, ...) log_msg(LOG_INFO, m, __VA_ARGS__)
#define log_warn(m, ...) log_msg(LOG_WARN, m, __VA_ARGS__)
#define log_error(m, ...) log_msg(LOG_ERROR, m, __VA_ARGS__)

#endif
