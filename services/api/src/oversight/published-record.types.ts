/**
 * The published record's shapes, shared by the server and the console. This file imports nothing, so
 * the browser build can use the same types.
 */

export const PRIORITIES = ['red', 'amber', 'green'] as const;

/** What the published false alert figure rests on, or null without a calibration of the model. */
export interface ExpectedFalseAlerts {
  calibrationId: string;
  dataset: string;
  calibratedAt: string;
  /** The calibrated threshold used: the highest at or below the deployment's (the cautious side). */
  calibratedThreshold: number;
  /** Per-comparison false match rate at that threshold. */
  falseMatchRate: number;
  /** True when no false match was measured and the rate is the rule-of-three bound (3 / comparisons). */
  upperBound: boolean;
  /** Chance that a face of someone not on the list alerts: 1 - (1 - FMR)^watchlist size. */
  perFace: number;
  per1000Faces: number;
  /** perFace x faces seen: the false alerts to expect from this deployment's crowd. */
  forFacesSeen: number;
}

/** One deployment's figures as a force publishes them: no names, no images, no subject ids. */
export interface PublishedRecord {
  deploymentId: string;
  deployment: string;
  location: string;
  /** The day it started (UTC), the published "date". */
  date: string | null;
  startedAt: string | null;
  stoppedAt: string | null;
  durationSeconds: number | null;
  status: 'planned' | 'running' | 'stopped';
  watchlist: {
    size: number;
    /** wanted, suspect, missing, vulnerable, other */
    byCategory: Record<string, number>;
    byPriority: Record<(typeof PRIORITIES)[number], number>;
  };
  facesSeen: number;
  alerts: number;
  trueAlerts: number;
  falseAlerts: number;
  /** Alerts nobody recorded an outcome for, or whose outcome says neither way (not stopped). */
  unresolvedAlerts: number;
  engagements: number;
  arrests: number;
  threshold: number;
  thresholdChanges: number;
  model: string;
  twoPersonVerification: boolean;
  expectedFalseAlerts: ExpectedFalseAlerts | null;
}

export interface PublishedPeriod {
  from: string | null;
  to: string | null;
  generatedAt: string;
  deployments: PublishedRecord[];
  totals: {
    deployments: number;
    facesSeen: number;
    alerts: number;
    trueAlerts: number;
    falseAlerts: number;
    engagements: number;
    arrests: number;
  };
}
