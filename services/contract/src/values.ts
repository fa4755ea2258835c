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

/** What a watchlist subject is on the list as. */
export const SUBJECT_CATEGORIES = ['wanted', 'suspect', 'missing', 'vulnerable', 'other'] as const;
export type SubjectCategory = (typeof SUBJECT_CATEGORIES)[number];

/** A watchlist subject's priority, the colour of its alerts. */
export const SUBJECT_PRIORITIES = ['red', 'amber', 'green'] as const;
export type SubjectPriority = (typeof SUBJECT_PRIORITIES)[number];

/** Where a request for a deployment's authorisation stands. */
export const AUTHORISATION_STATUSES = [
  'pending',
  'granted',
  'refused',
  'lapsed',
  'withdrawn',
  'migrated',
] as const;
export type AuthorisationStatus = (typeof AUTHORISATION_STATUSES)[number];

/** Why an entry of a deployment's watchlists is left out of its snapshot. */
export const EXCLUSION_REASONS = ['notApproved', 'reviewOverdue', 'notAuthorised'] as const;
export type ExclusionReason = (typeof EXCLUSION_REASONS)[number];

/**
 * Why a frame ingest read was never analysed: queue_full (ingest fell behind), publish_failed (bus
 * down), detector_busy (a detector dropped it), detector_unavailable (no detector took it).
 */
export const NOT_ANALYSED_REASONS = [
  'queue_full',
  'publish_failed',
  'detector_busy',
  'detector_unavailable',
] as const;
export type NotAnalysedReason = (typeof NOT_ANALYSED_REASONS)[number];

/** Why a deployment's alerts were deleted while it ran: its authorisation was refused or lapsed. */
export const PURGE_REASONS = ['authorisation_refused', 'authorisation_lapsed'] as const;
export type PurgeReason = (typeof PURGE_REASONS)[number];
