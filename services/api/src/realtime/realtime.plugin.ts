import type { ClientToServerEvents, ServerToClientEvents } from '@vigil/contract';
import type { Bus, Logger } from '@vigil/core';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Server } from 'socket.io';
import type { AlertService } from '../alerts/alert.service.js';
import type { AccessChange, AlertFeed } from './alert-feed.js';
import { LiveViewService } from './live-view.service.js';
import {
  type AlertNamespace,
  LIVE_ALERT_MAX_AGE_MS,
  RealtimeService,
  type SocketData,
} from './realtime.service.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Alerts, adjudications and dispatches (routes/alerts.routes.ts). */
    alerts: AlertService;
    /** Tells every API process that someone's access may have shrunk; their open sockets are re-checked. */
    accessChanged(change: AccessChange): void;
    /** Erases a deleted subject's alerts from the durable alert stream (the rows stay in the database). */
    eraseStreamedAlertsOf(subjectId: string): Promise<number>;
  }
}

export interface RealtimePluginOptions {
  /** The alert service the routes and sockets share (built by the composition root over `feed`). */
  alerts: AlertService;
  /** The bus's alert stream and live fan-out. */
  feed: AlertFeed;
  /** The bus cameras' live views travel on (`watch` notices out, `liveview` frames in). */
  bus: Bus;
  logger: Logger;
  /** Durable consumer of the alert stream; API processes sharing the name share the work (VIGIL_ALERT_CONSUMER). */
  consumerName: string;
}

/** How often a connected socket's token is checked again, so a logout, a disabled user or an expiry ends it. */
const TOKEN_RECHECK_MS = 60_000;

/**
 * socket.io on the API's HTTP server: path `/socket.io`, namespace `/alerts`, the bearer token in
 * the handshake's `auth.token`. Starts consuming the alert stream when the server listens.
 */
export const realtimePlugin = fp<RealtimePluginOptions>(
  async (app: FastifyInstance, options) => {
    const logger = options.logger.child({ component: 'realtime' });
    const { feed, alerts } = options;
    app.decorate('alerts', alerts);

    const io = new Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>(
      app.server,
      {
        path: '/socket.io',
        serveClient: false,
        // Same origin only: no CORS headers. The token travels in the handshake body, not a cookie.
        cors: undefined,
        maxHttpBufferSize: 16 * 1024,
      },
    );
    // Nothing is served on the main namespace.
    io.use((_socket, next) => next(refusal('unauthorized', 'use the /alerts namespace')));
    const namespace: AlertNamespace = io.of('/alerts');
    const realtime = new RealtimeService(namespace, alerts, logger, (token) => app.auth.verifyToken(token));
    const liveViews = new LiveViewService(options.bus, alerts, logger, (token) =>
      app.auth.verifyToken(token),
    );
    liveViews.start();
    app.decorate('eraseStreamedAlertsOf', (subjectId: string) =>
      feed.eraseAlerts((alert) => alert.subjectId === subjectId),
    );
    app.decorate('accessChanged', (change: AccessChange) =>
      feed.publishEvent(change.deploymentId, { type: 'access', payload: change }),
    );

    namespace.use((socket, next) => {
      const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
      if (typeof token !== 'string' || token.length === 0) {
        next(refusal('unauthorized', 'a token is required in the handshake auth'));
        return;
      }
      app.auth.verifyToken(token).then(
        (verified) => {
          socket.data.user = verified.user;
          socket.data.token = token;
          next();
        },
        (error: { code?: string; message?: string }) =>
          next(refusal(error.code ?? 'invalid_token', error.message ?? 'authentication required')),
      );
    });
    namespace.on('connection', (socket) => {
      realtime.connected(socket);
      liveViews.connected(socket);
      const recheck = setInterval(() => {
        app.auth.verifyToken(socket.data.token).catch(() => socket.disconnect(true));
      }, TOKEN_RECHECK_MS);
      recheck.unref();
      socket.on('disconnect', () => clearInterval(recheck));
    });

    const live = feed.subscribe({
      alert: (alert) => realtime.deliverAlert(alert),
      event: async (event) => {
        await realtime.deliverEvent(event);
        if (event?.type === 'access') await liveViews.accessChanged(event.payload ?? {});
      },
      crop: (crop) => realtime.deliverCrop(crop),
    });

    let consumer: { stop(): Promise<void> } | undefined;
    app.addHook('onListen', async () => {
      consumer = await feed.consumeStream(options.consumerName, async (alert, encoded) => {
        if (Date.now() - alert.createdAtMs > LIVE_ALERT_MAX_AGE_MS) return;
        feed.publishAlert(alert, encoded);
        // Acknowledged only once the fan-out reached the server: a lost publish is delivered again.
        await feed.flush();
      });
    });
    app.addHook('preClose', async () => {
      await consumer?.stop().catch(() => {});
      for (const subscription of live) subscription.unsubscribe();
      liveViews.stop();
      namespace.disconnectSockets(true);
      io.engine.close();
    });
  },
  { name: 'vigil-realtime', dependencies: ['vigil-auth'] },
);

function refusal(code: string, message: string): Error & { data: { code: string; message: string } } {
  return Object.assign(new Error(message), { data: { code, message } });
}
