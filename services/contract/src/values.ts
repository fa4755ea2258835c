/**
 * The contract's enumerations as plain values. This file imports nothing, so the console can import
 * it at run time (`@vigil/contract/values`) without bringing TypeBox into the browser bundle.
 */

/**
 * The roles of the contract, `authoriser`: the authorising officer who grants or refuses a deployment
 * (issue 24), kept apart from admin so that the one who asks cannot also grant, and `officer`: an
 * officer on the ground who receives the alerts an operator passes to them (issue 23).
 */
export const USER_ROLES = [
  'admin',
  'watchlist_manager',
  'operator',
  'oversight',
  'authoriser',
  'officer',
] as const;
export type UserRole = (typeof USER_ROLES)[number];

/** The outcomes an operator or officer can record for an alert. */
export const OUTCOMES = ['confirmed', 'false_alert', 'not_stopped', 'engaged', 'arrested'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** A watchlist subject's priority, the colour of its alerts. */
export const PRIORITIES = ['red', 'amber', 'green'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** Why a deployment's alerts were deleted while it ran: its authorisation was refused or lapsed. */
export const PURGE_REASONS = ['authorisation_refused', 'authorisation_lapsed'] as const;
export type PurgeReason = (typeof PURGE_REASONS)[number];
