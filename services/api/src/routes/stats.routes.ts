import { WindowQuery } from '@vigil/contract';
import { ValidationError } from '@vigil/core';
import { NOT_ANALYSED_REASONS } from '@vigil/ingest';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TimeWindow } from '../oversight/stats.repository.js';
import { CATEGORIES, OUTCOMES, type StatsService, statsCsv } from '../oversight/stats.service.js';
import { AUTH_ERRORS, errorResponses, uuidParams } from './schemas.js';

const count = { type: 'integer', minimum: 0 } as const;
const rate = { type: ['number', 'null'], minimum: 0 } as const;
const isoOrNull = { type: ['string', 'null'], format: 'date-time' } as const;

const figuresProperties = {
  framesRead: { ...count, description: 'Frames ingest read from the cameras' },
  framesNotAnalysed: {
    type: 'object',
    description:
      'Frames read that no detector analysed: queue_full (ingest fell behind), publish_failed (bus down), detector_busy (a detector dropped it: a newer frame came first, or too old), detector_unavailable (no detector took it)',
    properties: {
      total: count,
      byReason: {
        type: 'object',
        properties: Object.fromEntries(NOT_ANALYSED_REASONS.map((r) => [r, count])),
        required: [...NOT_ANALYSED_REASONS],
      },
    },
    required: ['total', 'byReason'],
  },
  watchedShare: {
    type: ['number', 'null'],
    minimum: 0,
    maximum: 1,
    description:
      'framesProcessed / framesRead: how much of what the cameras saw was analysed; null when no frame read was counted',
  },
  framesProcessed: { ...count, description: 'Frames a detector analysed' },
  facesProcessed: { ...count, description: 'Faces compared with the watchlist: a count, nothing more' },
  alerts: count,
  outcomes: {
    type: 'object',
    description: "Alerts by their latest adjudication; 'unresolved' when none",
    properties: Object.fromEntries(OUTCOMES.map((o) => [o, count])),
    required: [...OUTCOMES],
  },
  trueAlerts: { ...count, description: 'confirmed + engaged + arrested' },
  falseAlerts: { ...count, description: 'false_alert' },
  falseAlertRate: {
    type: 'object',
    properties: {
      perFacesProcessed: {
        ...rate,
        description: 'falseAlerts / facesProcessed; null when no face was processed',
      },
      perAlerts: { ...rate, description: 'falseAlerts / alerts; null without alerts' },
    },
    required: ['perFacesProcessed', 'perAlerts'],
  },
} as const;
const figuresRequired = Object.keys(figuresProperties);

const hourSchema = {
  type: 'object',
  properties: {
    hour: { type: 'string', format: 'date-time', description: 'Start of the hour (UTC)' },
    framesProcessed: count,
    facesProcessed: count,
    alerts: count,
    trueAlerts: count,
    falseAlerts: count,
  },
  required: ['hour', 'framesProcessed', 'facesProcessed', 'alerts', 'trueAlerts', 'falseAlerts'],
} as const;

const summaryProperties = {
  deploymentId: { type: 'string', format: 'uuid' },
  name: { type: 'string' },
  location: { type: 'string' },
  status: { type: 'string', enum: ['planned', 'running', 'stopped'] },
  model: { type: 'string' },
  threshold: { type: 'number' },
  startedAt: isoOrNull,
  stoppedAt: isoOrNull,
  durationSeconds: { type: ['integer', 'null'], minimum: 0 },
  cameras: count,
  watchlist: {
    type: 'object',
    properties: {
      size: count,
      byCategory: {
        type: 'object',
        properties: Object.fromEntries(CATEGORIES.map((c) => [c, count])),
        required: [...CATEGORIES],
      },
      source: {
        type: 'string',
        enum: ['snapshot', 'current'],
        description: 'snapshot: the list frozen at start; current: not started, the list as it is now',
      },
    },
    required: ['size', 'byCategory', 'source'],
  },
  ...figuresProperties,
} as const;

const summarySchema = {
  type: 'object',
  properties: summaryProperties,
  required: Object.keys(summaryProperties),
} as const;

const deploymentStatsSchema = {
  type: 'object',
  description: 'Statistics of one deployment: counts only, no images, embeddings or subject labels',
  properties: {
    ...summaryProperties,
    from: isoOrNull,
    to: isoOrNull,
    series: { type: 'array', items: hourSchema },
  },
  required: [...Object.keys(summaryProperties), 'from', 'to', 'series'],
} as const;

const oversightStatsSchema = {
  type: 'object',
  description: 'Statistics across the deployments that ran in the window',
  properties: {
    from: isoOrNull,
    to: isoOrNull,
    totals: {
      type: 'object',
      properties: {
        deployments: count,
        cameras: count,
        durationSeconds: count,
        ...figuresProperties,
      },
      required: ['deployments', 'cameras', 'durationSeconds', ...figuresRequired],
    },
    deployments: { type: 'array', items: summarySchema },
    series: { type: 'array', items: hourSchema },
  },
  required: ['from', 'to', 'totals', 'deployments', 'series'],
} as const;

/** `?from&to`, as the contract defines them. */
const windowQuery = WindowQuery.properties;

const csvQuery = {
  format: { type: 'string', enum: ['json', 'csv'], default: 'json' },
  rows: {
    type: 'string',
    enum: ['deployment', 'hour'],
    default: 'deployment',
    description: 'CSV only: one row per deployment (with a total row), or one per hour',
  },
} as const;

interface StatsQuery {
  from?: string;
  to?: string;
  format?: 'json' | 'csv';
  rows?: 'deployment' | 'hour';
}

const csvResponse = {
  description: 'Statistics as CSV (`?format=csv`, or the `.csv` route)',
  type: 'string',
} as const;

function parseDate(value: string | undefined, name: string): Date | undefined {
  if (value === undefined || value === '') return undefined;
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime()))
    throw new ValidationError(`\`${name}\` is not an ISO date`, 'invalid_time_window');
  return date;
}

export function parseWindow(query: StatsQuery): TimeWindow {
  return { from: parseDate(query.from, 'from'), to: parseDate(query.to, 'to') };
}

export function sendCsv(reply: FastifyReply, filename: string, body: string): FastifyReply {
  return reply
    .type('text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${filename}"`)
    .header('cache-control', 'no-store')
    .send(body);
}

export interface StatsRoutesOptions {
  stats: StatsService;
}

/**
 * `GET /deployments/:id/stats` and `GET /oversight/stats` (oversight, admin), as JSON or CSV.
 * A CSV export is recorded on the audit trail.
 */
export async function statsRoutes(app: FastifyInstance, options: StatsRoutesOptions): Promise<void> {
  const { stats } = options;
  const oversight = app.requireRoles('oversight', 'admin');

  const deploymentHandler = (forceCsv: boolean) =>
    async function handler(
      request: FastifyRequest<{ Params: { id: string }; Querystring: StatsQuery }>,
      reply: FastifyReply,
    ) {
      const window = parseWindow(request.query);
      const result = await stats.deployment(request.params.id, window);
      if (!forceCsv && request.query.format !== 'csv') return result;
      const hourly = request.query.rows === 'hour';
      await stats.recordExport(request.user!, {
        scope: 'deployment',
        deploymentId: result.deploymentId,
        series: hourly,
        window,
      });
      return sendCsv(
        reply,
        `deployment-${result.deploymentId}-${hourly ? 'hourly' : 'stats'}.csv`,
        statsCsv(result, hourly),
      );
    };

  const overallHandler = (forceCsv: boolean) =>
    async function handler(request: FastifyRequest<{ Querystring: StatsQuery }>, reply: FastifyReply) {
      const window = parseWindow(request.query);
      const result = await stats.overall(window);
      if (!forceCsv && request.query.format !== 'csv') return result;
      const hourly = request.query.rows === 'hour';
      await stats.recordExport(request.user!, { scope: 'oversight', series: hourly, window });
      return sendCsv(reply, `oversight-${hourly ? 'hourly' : 'stats'}.csv`, statsCsv(result, hourly));
    };

  for (const [url, csvOnly] of [
    ['/deployments/:id/stats', false],
    ['/deployments/:id/stats.csv', true],
  ] as const) {
    app.get<{ Params: { id: string }; Querystring: StatsQuery }>(
      url,
      {
        onRequest: oversight,
        schema: {
          tags: ['oversight'],
          summary: csvOnly
            ? "A deployment's statistics as CSV (audited export)"
            : "A deployment's statistics",
          params: uuidParams,
          querystring: {
            type: 'object',
            properties: csvOnly ? { ...windowQuery, rows: csvQuery.rows } : { ...windowQuery, ...csvQuery },
            additionalProperties: false,
          },
          response: {
            200: csvOnly
              ? { content: { 'text/csv': { schema: csvResponse } } }
              : {
                  content: {
                    'application/json': { schema: deploymentStatsSchema },
                    'text/csv': { schema: csvResponse },
                  },
                },
            ...errorResponses(400, ...AUTH_ERRORS, 404),
          },
        },
      },
      deploymentHandler(csvOnly),
    );
  }

  for (const [url, csvOnly] of [
    ['/oversight/stats', false],
    ['/oversight/stats.csv', true],
  ] as const) {
    app.get<{ Querystring: StatsQuery }>(
      url,
      {
        onRequest: oversight,
        schema: {
          tags: ['oversight'],
          summary: csvOnly
            ? 'Statistics across deployments as CSV (audited export)'
            : 'Statistics across the deployments that ran between `from` and `to`',
          querystring: {
            type: 'object',
            properties: csvOnly ? { ...windowQuery, rows: csvQuery.rows } : { ...windowQuery, ...csvQuery },
            additionalProperties: false,
          },
          response: {
            200: csvOnly
              ? { content: { 'text/csv': { schema: csvResponse } } }
              : {
                  content: {
                    'application/json': { schema: oversightStatsSchema },
                    'text/csv': { schema: csvResponse },
                  },
                },
            ...errorResponses(400, ...AUTH_ERRORS),
          },
        },
      },
      overallHandler(csvOnly),
    );
  }
}
