import type { FalseMatchRates } from '@vigil/contract';

/** False match rates as `GET /model` gives them (a stored calibration, else the profile's own). */
export type { FalseMatchRates };

/**
 * The false alerts to expect per 1,000 faces at `threshold` with `entries` on the list: the rate at
 * the highest measured threshold at or below it (never more favourable than measured), per face
 * 1 - (1 - FMR)^N. Undefined below the lowest measured threshold.
 */
export function falseAlertsPer1000(
  rates: FalseMatchRates,
  threshold: number,
  entries: number,
): { per1000: number; fmr: number; measuredAt: number } | undefined {
  let point: FalseMatchRates['points'][number] | undefined;
  for (const p of rates.points)
    if (p.threshold <= threshold + 1e-9 && (!point || p.threshold > point.threshold)) point = p;
  if (!point) return undefined;
  return {
    per1000: 1000 * (1 - (1 - point.fmr) ** Math.max(0, entries)),
    fmr: point.fmr,
    measuredAt: point.threshold,
  };
}

/** One sentence an admin setting a threshold can act on. */
export function expectedFalseAlertsText(
  rates: FalseMatchRates | null,
  threshold: number,
  entries: number,
): string {
  if (!rates) return 'No false match rates for this model: run `npx vigil calibrate` and store the result.';
  if (!Number.isFinite(threshold)) return '';
  const where =
    rates.source === 'calibration'
      ? `measured here on ${rates.dataset} (${rates.measuredOn})`
      : `the model profile's own figures, ${rates.dataset} (${rates.measuredOn})`;
  const expected = falseAlertsPer1000(rates, threshold, entries);
  if (!expected) {
    const lowest = rates.points[0]?.threshold;
    return `Below the lowest threshold measured (${lowest ?? '-'}): false alerts cannot be estimated (${where}).`;
  }
  const list = `${entries.toLocaleString('en-GB')} ${entries === 1 ? 'entry' : 'entries'}`;
  const per1000 =
    expected.per1000 >= 10 ? Math.round(expected.per1000) : Number(expected.per1000.toPrecision(2));
  return `Expected false alerts at ${threshold} with ${list}: about ${per1000} per 1,000 faces seen, ${Number((per1000 * 10).toPrecision(2))} per 10,000 (${where}).`;
}
