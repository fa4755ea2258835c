import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  AUTH_ERRORS,
  DeploymentStats,
  errorResponses,
  OversightStats,
  StatsCsv,
  StatsCsvQuery,
  StatsQuery,
  UuidParams,
  type WindowQuery,
} from '@vigil/contract';
import { ValidationError } from '@vigil/core';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AuthUser } from '../auth/roles.js';
import type { TimeWindow } from '../oversight/stats.repository.js';
import { type StatsService, statsCsv } from '../oversight/stats.service.js';

/** A statistics route's 200: JSON or CSV, or CSV only for the `.csv` route. */
function statsResponse<T>(json: T, csvOnly: boolean) {
  return csvOnly
    ? { content: { 'text/csv': { schema: StatsCsv } } }
    : { content: { 'application/json': { schema: json }, 'text/csv': { schema: StatsCsv } } };
}

function parseDate(value: string | undefined, name: string): Date | undefined {
  if (value === undefined || value === '') return undefined;
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime()))
    throw new ValidationError(`\`${name}\` is not an ISO date`, 'invalid_time_window');
  return date;
}

export function parseWindow(query: WindowQuery): TimeWindow {
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
export async function statsRoutes(fastify: FastifyInstance, options: StatsRoutesOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { stats } = options;
  const oversight = app.requireRoles('oversight', 'admin');

  /** `GET /deployments/:id/stats[.csv]`: JSON, or CSV (audited) when asked for or forced. */
  async function deploymentStats(
    user: AuthUser,
    id: string,
    query: StatsQuery,
    forceCsv: boolean,
    reply: FastifyReply,
  ) {
    const window = parseWindow(query);
    const result = await stats.deployment(id, window);
    if (!forceCsv && query.format !== 'csv') return result;
    const hourly = query.rows === 'hour';
    await stats.recordExport(user, {
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
  }

  /** `GET /oversight/stats[.csv]`: JSON, or CSV (audited) when asked for or forced. */
  async function overallStats(user: AuthUser, query: StatsQuery, forceCsv: boolean, reply: FastifyReply) {
    const window = parseWindow(query);
    const result = await stats.overall(window);
    if (!forceCsv && query.format !== 'csv') return result;
    const hourly = query.rows === 'hour';
    await stats.recordExport(user, { scope: 'oversight', series: hourly, window });
    return sendCsv(reply, `oversight-${hourly ? 'hourly' : 'stats'}.csv`, statsCsv(result, hourly));
  }

  for (const [url, csvOnly] of [
    ['/deployments/:id/stats', false],
    ['/deployments/:id/stats.csv', true],
  ] as const) {
    app.get(
      url,
      {
        onRequest: oversight,
        schema: {
          tags: ['oversight'],
          summary: csvOnly
            ? "A deployment's statistics as CSV (audited export)"
            : "A deployment's statistics",
          params: UuidParams,
          querystring: csvOnly ? StatsCsvQuery : StatsQuery,
          response: {
            200: statsResponse(DeploymentStats, csvOnly),
            ...errorResponses(400, ...AUTH_ERRORS, 404),
          },
        },
      },
      (request, reply) => deploymentStats(request.user!, request.params.id, request.query, csvOnly, reply),
    );
  }

  for (const [url, csvOnly] of [
    ['/oversight/stats', false],
    ['/oversight/stats.csv', true],
  ] as const) {
    app.get(
      url,
      {
        onRequest: oversight,
        schema: {
          tags: ['oversight'],
          summary: csvOnly
            ? 'Statistics across deployments as CSV (audited export)'
            : 'Statistics across the deployments that ran between `from` and `to`',
          querystring: csvOnly ? StatsCsvQuery : StatsQuery,
          response: {
            200: statsResponse(OversightStats, csvOnly),
            ...errorResponses(400, ...AUTH_ERRORS),
          },
        },
      },
      (request, reply) => overallStats(request.user!, request.query, csvOnly, reply),
    );
  }
}
