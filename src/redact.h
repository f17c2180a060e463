/*
 * redact.h
 *    The emit_log_hook that keeps broker credentials out of the server log.
 */
#ifndef PD_REDACT_H
#define PD_REDACT_H

/* From _PG_init: chain the hook (idempotent per process load). */
extern void pd_install_redaction(void);

#endif
