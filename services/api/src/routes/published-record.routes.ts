import type { FastifyInstance, FastifyReply } from 'fastify';
import type { CalibrationPoint } from '../oversight/calibration.repository.js';
import type { CalibrationService } from '../oversight/calibration.service.js';
import type { EvidencePackService } from '../oversight/evidence-pack.service.js';
import { type PublishedRecordService, publishedRecordCsv } from '../oversight/published-record.service.js';
import { type UseLogService, useLogCsv } from '../oversight/use-log.service.js';
import { AUTH_ERRORS, errorResponses, uuidParams } from './schemas.js';
import { parseWindow, sendCsv, windowQuery } from './stats.routes.js';

export interface PublishedRecordRoutesOptions {
  calibrations: CalibrationService;
  records: PublishedRecordService;
  useLog: UseLogService;
  evidencePacks: EvidencePackService;
}

interface WindowQuery {
  from?: string;
  to?: string;
}

const count = { type: 'integer', minimum: 0 } as const;
const isoOrNull = { type: ['string', 'null'], format: 'date-time' } as const;
const countsOf = (keys: readonly string[]) => ({
  type: 'object',
  properties: Object.fromEntries(keys.map((k) => [k, count])),
  required: [...keys],
});

const recordSchema = {
  type: 'object',
  properties: {
    deploymentId: { type: 'string', format: 'uuid' },
    deployment: { type: 'string', description: "The deployment's (operation's) name" },
    location: { type: 'string' },
    date: { type: ['string', 'null'], description: 'YYYY-MM-DD it started (UTC)' },
    startedAt: isoOrNull,
    stoppedAt: isoOrNull,
    durationSeconds: { type: ['integer', 'null'] },
    status: { type: 'string' },
    watchlist: {
      type: 'object',
      properties: {
        size: count,
        byCategory: countsOf(['wanted', 'suspect', 'missing', 'vulnerable', 'other']),
        byPriority: countsOf(['red', 'amber', 'green']),
      },
      required: ['size', 'byCategory', 'byPriority'],
    },
    facesSeen: count,
    alerts: count,
    trueAlerts: { ...count, description: 'confirmed, engaged or arrested' },
    falseAlerts: count,
    unresolvedAlerts: { ...count, description: 'no outcome recorded, or not stopped' },
    engagements: { ...count, description: 'engaged or arrested' },
    arrests: count,
    threshold: { type: 'number' },
    thresholdChanges: count,
    model: { type: 'string' },
    twoPersonVerification: { type: 'boolean' },
    expectedFalseAlerts: {
      anyOf: [
        { type: 'null' },
        {
          type: 'object',
          properties: {
            calibrationId: { type: 'string' },
            dataset: { type: 'string' },
            calibratedAt: { type: 'string', format: 'date-time' },
            calibratedThreshold: { type: 'number' },
            falseMatchRate: { type: 'number' },
            upperBound: { type: 'boolean' },
            perFace: { type: 'number' },
            per1000Faces: { type: 'number' },
            forFacesSeen: { type: 'number' },
          },
          required: [
            'calibrationId',
            'dataset',
            'calibratedAt',
            'calibratedThreshold',
            'falseMatchRate',
            'upperBound',
            'perFace',
            'per1000Faces',
            'forFacesSeen',
          ],
        },
      ],
      description:
        "From the newest calibration of the model (POST /oversight/calibrations), else the model profile's own false match rates; null without either",
    },
  },
  required: [
    'deploymentId',
    'deployment',
    'location',
    'date',
    'startedAt',
    'stoppedAt',
    'durationSeconds',
    'status',
    'watchlist',
    'facesSeen',
    'alerts',
    'trueAlerts',
    'falseAlerts',
    'unresolvedAlerts',
    'engagements',
    'arrests',
    'threshold',
    'thresholdChanges',
    'model',
    'twoPersonVerification',
    'expectedFalseAlerts',
  ],
} as const;

const periodSchema = {
  type: 'object',
  properties: {
    from: isoOrNull,
    to: isoOrNull,
    generatedAt: { type: 'string', format: 'date-time' },
    deployments: { type: 'array', items: recordSchema },
    totals: countsOf([
      'deployments',
      'facesSeen',
      'alerts',
      'trueAlerts',
      'falseAlerts',
      'engagements',
      'arrests',
    ]),
  },
  required: ['from', 'to', 'generatedAt', 'deployments', 'totals'],
} as const;

const useLogSchema = {
  type: 'object',
  properties: {
    deploymentId: { type: 'string', format: 'uuid' },
    retentionDays: { type: 'number' },
    from: isoOrNull,
    to: isoOrNull,
    entries: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          at: { type: 'string', format: 'date-time' },
          event: {
            type: 'string',
            enum: [
              'started',
              'stopped',
              'threshold_changed',
              'verification_required',
              'snapshot_destroyed',
              'alert',
              'verification',
              'outcome',
            ],
          },
          alertId: { type: ['string', 'null'] },
          details: { type: 'object', additionalProperties: true },
        },
        required: ['id', 'at', 'event', 'alertId', 'details'],
      },
    },
  },
  required: ['deploymentId', 'retentionDays', 'from', 'to', 'entries'],
} as const;

const calibrationBody = {
  type: 'object',
  description: 'The output of `vigil calibrate --json` (other fields are kept out)',
  properties: {
    model: { type: 'string', minLength: 1, maxLength: 200 },
    dataset: { type: 'string', maxLength: 200 },
    nonMatedComparisons: { type: 'integer', minimum: 1 },
    rows: {
      type: 'array',
      minItems: 1,
      maxItems: 200,
      items: {
        type: 'object',
        properties: {
          threshold: { type: 'number', minimum: -1, maximum: 1 },
          fmr: { type: 'number', minimum: 0, maximum: 1 },
          tpir: { type: 'number', minimum: 0, maximum: 1 },
        },
        required: ['threshold', 'fmr'],
      },
    },
  },
  required: ['model', 'nonMatedComparisons', 'rows'],
} as const;

const calibrationSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    model: { type: 'string' },
    dataset: { type: 'string' },
    nonMatedComparisons: { type: 'integer' },
    rows: calibrationBody.properties.rows,
    createdBy: { type: ['string', 'null'] },
    createdAt: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'model', 'dataset', 'nonMatedComparisons', 'rows', 'createdBy', 'createdAt'],
} as const;

const csvResponse = { content: { 'text/csv': { schema: { type: 'string' } } } } as const;

function attachJson(reply: FastifyReply, filename: string, body: unknown): FastifyReply {
  return reply
    .type('application/json; charset=utf-8')
    .header('content-disposition', `attachment; filename="${filename}"`)
    .header('cache-control', 'no-store')
    .send(JSON.stringify(body, null, 2));
}

/**
 * The published record (per deployment and per period; JSON and CSV), the log of each use, the
 * evidence pack for an oversight body, and the calibrations the expected false alerts rest on.
 */
export async function publishedRecordRoutes(
  app: FastifyInstance,
  options: PublishedRecordRoutesOptions,
): Promise<void> {
  const { records, useLog, evidencePacks } = options;
  const oversight = app.requireRoles('oversight', 'admin');
  const windowOnly = { type: 'object', properties: windowQuery, additionalProperties: false } as const;

  app.get<{ Querystring: WindowQuery }>(
    '/oversight/published-record',
    {
      onRequest: oversight,
      schema: {
        tags: ['oversight'],
        summary: 'The published record of every deployment that ran in the period: safe to publish',
        description:
          'Date, place, times, watchlist size and composition, faces seen, alerts, true and false alerts, engagements, arrests, threshold, model and the false alerts to expect. No names, no images.',
        querystring: windowOnly,
        response: { 200: periodSchema, ...errorResponses(400, ...AUTH_ERRORS) },
      },
    },
    async (request) => records.period(parseWindow(request.query)),
  );

  app.get<{ Querystring: WindowQuery }>(
    '/oversight/published-record.csv',
    {
      onRequest: oversight,
      schema: {
        tags: ['oversight'],
        summary: 'The published record of the period as CSV, one row per deployment (audited export)',
        querystring: windowOnly,
        response: { 200: csvResponse, ...errorResponses(400, ...AUTH_ERRORS) },
      },
    },
    async (request, reply) => {
      const window = parseWindow(request.query);
      const period = await records.period(window);
      await records.recordExport(request.user!, { format: 'csv', window });
      return sendCsv(reply, 'published-record.csv', publishedRecordCsv(period.deployments));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/deployments/:id/published-record',
    {
      onRequest: oversight,
      schema: {
        tags: ['oversight'],
        summary: "One deployment's published record",
        params: uuidParams,
        response: { 200: recordSchema, ...errorResponses(400, ...AUTH_ERRORS, 404) },
      },
    },
    async (request) => records.deployment(request.params.id),
  );

  app.get<{ Params: { id: string } }>(
    '/deployments/:id/published-record.csv',
    {
      onRequest: oversight,
      schema: {
        tags: ['oversight'],
        summary: "One deployment's published record as CSV (audited export)",
        params: uuidParams,
        response: { 200: csvResponse, ...errorResponses(400, ...AUTH_ERRORS, 404) },
      },
    },
    async (request, reply) => {
      const record = await records.deployment(request.params.id);
      await records.recordExport(request.user!, {
        format: 'csv',
        deploymentId: record.deploymentId,
        window: {},
      });
      return sendCsv(reply, `published-record-${record.deploymentId}.csv`, publishedRecordCsv([record]));
    },
  );

  for (const [url, csv] of [
    ['/deployments/:id/use-log', false],
    ['/deployments/:id/use-log.csv', true],
  ] as const) {
    app.get<{ Params: { id: string }; Querystring: WindowQuery }>(
      url,
      {
        onRequest: oversight,
        schema: {
          tags: ['oversight'],
          summary: csv
            ? 'The log of each use of the deployment as CSV (audited export)'
            : 'The log of each use of the deployment (audited export)',
          description:
            'Start and end, the snapshot checked (size, SHA-256, model, threshold), threshold changes, each alert with the input that led to it (camera, time, score, entry matched, digest of the sealed crop) and each verification and outcome with who gave it. No image. Kept for VIGIL_USE_LOG_RETENTION_DAYS.',
          params: uuidParams,
          querystring: windowOnly,
          response: { 200: csv ? csvResponse : useLogSchema, ...errorResponses(400, ...AUTH_ERRORS, 404) },
        },
      },
      async (request, reply) => {
        const log = await useLog.export(
          request.user!,
          request.params.id,
          parseWindow(request.query),
          csv ? 'csv' : 'json',
        );
        return csv ? sendCsv(reply, `use-log-${log.deploymentId}.csv`, useLogCsv(log)) : log;
      },
    );
  }

  app.get<{ Params: { id: string } }>(
    '/deployments/:id/evidence-pack',
    {
      onRequest: oversight,
      schema: {
        tags: ['oversight'],
        summary: 'Evidence pack for an oversight body, one JSON download (audited)',
        description:
          "The deployment's authorisation as recorded, the watchlist's composition and the decisions on it, the threshold's rationale with the calibration figures, the published record, the use log, and the deployment's audit rows with the chain's checkpoint and a verification of the whole chain.",
        params: uuidParams,
        response: {
          200: { content: { 'application/json': { schema: { type: 'string', description: 'the pack' } } } },
          ...errorResponses(400, ...AUTH_ERRORS, 404),
        },
      },
    },
    async (request, reply) => {
      const pack = await evidencePacks.build(request.user!, request.params.id);
      return attachJson(reply, `evidence-pack-${request.params.id}.json`, pack);
    },
  );

  const { calibrations } = options;
  app.get(
    '/oversight/calibrations',
    {
      onRequest: oversight,
      schema: {
        tags: ['oversight'],
        summary: 'The newest stored calibration of each model',
        response: { 200: { type: 'array', items: calibrationSchema }, ...errorResponses(...AUTH_ERRORS) },
      },
    },
    async () => calibrations.latest(),
  );

  app.post<{
    Body: { model: string; dataset?: string; nonMatedComparisons: number; rows: CalibrationPoint[] };
  }>(
    '/oversight/calibrations',
    {
      onRequest: app.requireRoles('admin'),
      schema: {
        tags: ['oversight'],
        summary:
          "Store a model's calibration (`vigil calibrate --json`) for the published false alert figures",
        body: calibrationBody,
        response: { 201: calibrationSchema, ...errorResponses(400, ...AUTH_ERRORS) },
      },
    },
    async (request, reply) => {
      const stored = await calibrations.store(request.user!, request.body);
      return reply.status(201).send(stored);
    },
  );
}
