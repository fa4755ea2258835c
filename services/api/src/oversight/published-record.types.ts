/** The published record's shapes, as the contract defines them. */
export {
  type ExpectedFalseAlerts,
  type PublishedPeriod,
  type PublishedRecord,
  SUBJECT_PRIORITIES as PRIORITIES,
} from '@vigil/contract';
