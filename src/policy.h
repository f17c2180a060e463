/*
 * policy.h
 *    Assessment and the intervention policy.
 */
#ifndef PD_POLICY_H
#define PD_POLICY_H

/* pre_delinquency.intervention_cooldown, in seconds */
extern int pd_intervention_cooldown;

#endif
