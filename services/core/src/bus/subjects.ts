/**
 * The versioned subject scheme: `vigil.v1.<deployment>.<kind>.<camera>`. Deployment and camera ids
 * are UUIDs, so they never contain the `.`, `*` or `>` that NATS gives meaning to.
 */
export const SUBJECT_VERSION = 'v1';

/**
 * `crops`: an alert's face crop was replaced by a better view of its track; `scenes`: the matcher's
 * request for a stored alert's scene, answered by the detector holding its frame; `watch`: the API's
 * notice that someone watches a camera's live view; `liveview`: that camera's live frames, every
 * face blurred but those of tracks that alerted. Core NATS, never retained.
 */
export type SubjectKind =
  | 'frames'
  | 'faces'
  | 'embeddings'
  | 'alerts'
  | 'status'
  | 'counters'
  | 'control'
  | 'crops'
  | 'scenes'
  | 'watch'
  | 'liveview';

const TOKEN = /^[A-Za-z0-9_-]+$/;

function token(value: string, what: string): string {
  if (!TOKEN.test(value)) throw new Error(`${what} is not a valid subject token: ${JSON.stringify(value)}`);
  return value;
}

export function subject(kind: SubjectKind, deploymentId: string, cameraId: string): string {
  return `vigil.${SUBJECT_VERSION}.${token(deploymentId, 'deployment id')}.${kind}.${token(cameraId, 'camera id')}`;
}

/** Every camera of every deployment, for one kind: what a worker pool subscribes to. */
export function allSubjects(kind: SubjectKind): string {
  return `vigil.${SUBJECT_VERSION}.*.${kind}.*`;
}

/** Every camera of one deployment, for one kind. */
export function deploymentSubjects(kind: SubjectKind, deploymentId: string): string {
  return `vigil.${SUBJECT_VERSION}.${token(deploymentId, 'deployment id')}.${kind}.*`;
}

/** Parses a subject of the scheme; undefined for anything else. */
export function parseSubject(
  value: string,
): { deploymentId: string; kind: SubjectKind; cameraId: string } | undefined {
  const parts = value.split('.');
  if (parts.length !== 5 || parts[0] !== 'vigil' || parts[1] !== SUBJECT_VERSION) return undefined;
  return { deploymentId: parts[2] as string, kind: parts[3] as SubjectKind, cameraId: parts[4] as string };
}

/** The only subjects JetStream captures: alerts. Frames, faces and embeddings are never retained. */
export const ALERT_STREAM_SUBJECTS = [`vigil.${SUBJECT_VERSION}.*.alerts.*`] as const;
