import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  AUTH_ERRORS,
  Calibration,
  CalibrationInput,
  CalibrationList,
  errorResponses,
  PublishedPeriod,
  PublishedRecord,
  UseLog,
  UuidParams,
  WindowQuery,
} from '@vigil/contract';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { CalibrationService } from '../oversight/calibration.service.js';
import type { EvidencePackService } from '../oversight/evidence-pack.service.js';
import { type PublishedRecordService, publishedRecordCsv } from '../oversight/published-record.service.js';
import { type UseLogService, useLogCsv } from '../oversight/use-log.service.js';
import { parseWindow, sendCsv } from './stats.routes.js';

export interface PublishedRecordRoutesOptions {
  calibrations: CalibrationService;
  records: PublishedRecordService;
  useLog: UseLogService;
  evidencePacks: EvidencePackService;
}

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
  fastify: FastifyInstance,
  options: PublishedRecordRoutesOptions,
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { records, useLog, evidencePacks } = options;
  const oversight = app.requireRoles('oversight', 'admin');

  app.get(
    '/oversight/published-record',
    {
      onRequest: oversight,
      schema: {
        tags: ['oversight'],
        summary: 'The published record of every deployment that ran in the period: safe to publish',
        description:
          'Date, place, times, watchlist size and composition, faces seen, alerts, true and false alerts, engagements, arrests, threshold, model and the false alerts to expect. No names, no images.',
        querystring: WindowQuery,
        response: { 200: PublishedPeriod, ...errorResponses(400, ...AUTH_ERRORS) },
      },
    },
    async (request) => records.period(parseWindow(request.query)),
  );

  app.get(
    '/oversight/published-record.csv',
    {
      onRequest: oversight,
      schema: {
        tags: ['oversight'],
        summary: 'The published record of the period as CSV, one row per deployment (audited export)',
        querystring: WindowQuery,
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

  app.get(
    '/deployments/:id/published-record',
    {
      onRequest: oversight,
      schema: {
        tags: ['oversight'],
        summary: "One deployment's published record",
        params: UuidParams,
        response: { 200: PublishedRecord, ...errorResponses(400, ...AUTH_ERRORS, 404) },
      },
    },
    async (request) => records.deployment(request.params.id),
  );

  app.get(
    '/deployments/:id/published-record.csv',
    {
      onRequest: oversight,
      schema: {
        tags: ['oversight'],
        summary: "One deployment's published record as CSV (audited export)",
        params: UuidParams,
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
    app.get(
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
          params: UuidParams,
          querystring: WindowQuery,
          response: { 200: csv ? csvResponse : UseLog, ...errorResponses(400, ...AUTH_ERRORS, 404) },
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

  app.get(
    '/deployments/:id/evidence-pack',
    {
      onRequest: oversight,
      schema: {
        tags: ['oversight'],
        summary: 'Evidence pack for an oversight body, one JSON download (audited)',
        description:
          "The deployment's authorisation as recorded, the watchlist's composition and the decisions on it, the threshold's rationale with the calibration figures, the published record, the use log, and the deployment's audit rows with the chain's checkpoint and a verification of the whole chain.",
        params: UuidParams,
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
        response: { 200: CalibrationList, ...errorResponses(...AUTH_ERRORS) },
      },
    },
    async () => calibrations.latest(),
  );

  app.post(
    '/oversight/calibrations',
    {
      onRequest: app.requireRoles('admin'),
      schema: {
        tags: ['oversight'],
        summary:
          "Store a model's calibration (`vigil calibrate --json`) for the published false alert figures",
        body: CalibrationInput,
        response: { 201: Calibration, ...errorResponses(400, ...AUTH_ERRORS) },
      },
    },
    async (request, reply) => {
      const stored = await calibrations.store(request.user!, request.body);
      return reply.status(201).send(stored);
    },
  );
}
