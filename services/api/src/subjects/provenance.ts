import { ValidationError } from '@vigil/core';

/**
 * Days from enrolment to an entry's review date when none is given: a quarter, so that an entry no
 * one looks at again drops out of snapshots within months rather than staying for years. A force
 * sets its own per subject (`review_by`).
 */
export const DEFAULT_REVIEW_DAYS = 90;

const DAY_MS = 86_400_000;

/** The UTC day `days` after `now`, as YYYY-MM-DD. */
export function defaultReviewBy(now: Date, days = DEFAULT_REVIEW_DAYS): string {
  return new Date(now.getTime() + days * DAY_MS).toISOString().slice(0, 10);
}

/**
 * A calendar day (YYYY-MM-DD) from a form or JSON field; empty is null. `after`: the day must be
 * later than that instant's day; `notAfter`: not later than it (an image cannot be taken tomorrow).
 */
export function parseDay(
  value: string | null | undefined,
  key: string,
  bounds: { after?: Date; notAfter?: Date } = {},
): string | null {
  const day = (value ?? '').trim();
  if (day === '') return null;
  const parsed = /^\d{4}-\d{2}-\d{2}$/.test(day) ? new Date(`${day}T00:00:00Z`) : null;
  if (!parsed || Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== day)
    throw new ValidationError(`${key} must be a date (YYYY-MM-DD)`, `invalid_${key}`);
  if (bounds.after && day <= bounds.after.toISOString().slice(0, 10))
    throw new ValidationError(`${key} must be in the future`, `invalid_${key}`);
  if (bounds.notAfter && day > bounds.notAfter.toISOString().slice(0, 10))
    throw new ValidationError(`${key} cannot be in the future`, `invalid_${key}`);
  return day;
}
