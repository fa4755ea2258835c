import { backendName } from '@vigil/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import type { EnrolmentEngine } from '../src/subjects/enrolment.service.js';
import { createDeployment, createWatchlist, testCipher } from './oversight/fixtures.js';
import { bearer, createTestApp, type TestApp } from './test-app.js';

const RATES = {
  dataset: 'test faces: 100 not listed x 1,000 listed',
  comparisons: 100_000,
  measuredOn: '2026-12-06',
  points: [
    { threshold: 0.5, fmr: 1e-4 },
    { threshold: 0.55, fmr: 1e-5 },
  ],
};

/** A loaded engine as far as GET /model looks: its profile (an ArcFace-like cosine profile). */
function engineWithProfile(
  defaultThreshold: number,
  thresholdFloor: number,
  falseMatchRates?: typeof RATES,
  modelId = 'test-model-1',
): EnrolmentEngine {
  return {
    profile: {
      name: 'test-profile',
      modelId,
      defaultThreshold,
      thresholdFloor,
      falseMatchRates,
    },
    analyse: () => Promise.reject(new Error('not used')),
  } as unknown as EnrolmentEngine;
}

describe(`GET /api/v1/model (${backendName})`, () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it("answers the loaded profile's default threshold and floor, and a deployment at that default is accepted (issue #23)", async () => {
    t = await createTestApp({ faceEngine: engineWithProfile(0.55, 0.5) });
    const response = await t.app.inject({
      method: 'GET',
      url: '/api/v1/model',
      headers: bearer(t.tokens.admin),
    });
    expect(response.statusCode).toBe(200);
    const model = response.json();
    expect(model).toEqual({
      profile: 'test-profile',
      modelId: 'test-model-1',
      defaultThreshold: 0.55,
      thresholdFloor: 0.5,
      falseMatchRates: null,
    });
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/deployments',
      headers: bearer(t.tokens.admin),
      payload: { name: 'At the default', threshold: model.defaultThreshold, watchlistIds: [] },
    });
    expect(created.statusCode, created.body).toBe(201);
  });

  it('raises the default to VIGIL_THRESHOLD_FLOOR when the floor is above the profile default', async () => {
    t = await createTestApp({
      faceEngine: engineWithProfile(0.55, 0.5),
      env: { VIGIL_THRESHOLD_FLOOR: '0.6' },
    });
    const response = await t.app.inject({
      method: 'GET',
      url: '/api/v1/model',
      headers: bearer(t.tokens.operator),
    });
    expect(response.json()).toMatchObject({ defaultThreshold: 0.6, thresholdFloor: 0.6 });
  });

  it("answers the profile's false match rates, and a calibration stored for the model in their place (issue #21)", async () => {
    t = await createTestApp({ faceEngine: engineWithProfile(0.55, 0.5, RATES) });
    const model = async () =>
      (
        await t!.app.inject({ method: 'GET', url: '/api/v1/model', headers: bearer(t!.tokens.operator) })
      ).json();
    expect((await model()).falseMatchRates).toEqual({ source: 'profile', ...RATES });
    const stored = await t.app.inject({
      method: 'POST',
      url: '/api/v1/oversight/calibrations',
      headers: bearer(t.tokens.admin),
      payload: {
        model: 'test-model-1',
        dataset: 'our own custody images',
        nonMatedComparisons: 2_000_000,
        rows: [{ threshold: 0.55, fmr: 2e-6, tpir: 0.9 }],
      },
    });
    expect(stored.statusCode, stored.body).toBe(201);
    expect((await model()).falseMatchRates).toMatchObject({
      source: 'calibration',
      dataset: 'our own custody images',
      comparisons: 2_000_000,
      points: [{ threshold: 0.55, fmr: 2e-6 }],
    });
  });

  it("gives a published record the profile's expected false alerts when no calibration was stored (issue #21)", async () => {
    // The fixtures' deployments are of model `test-model`: the profile here is that model's.
    t = await createTestApp({
      faceEngine: engineWithProfile(0.55, 0.5, RATES, 'test-model'),
      cipher: testCipher(),
    });
    const list = await createWatchlist(t.deps.db, testCipher(), [{ label: 'A', category: 'wanted' }]);
    const deployment = await createDeployment(t.deps.db, {
      watchlistId: list.id,
      cameras: 1,
      threshold: 0.56,
      startedAt: new Date(Date.now() - 3_600_000),
      stoppedAt: new Date(),
    });
    const response = await t.app.inject({
      method: 'GET',
      url: `/api/v1/deployments/${deployment.id}/published-record`,
      headers: bearer(t.tokens.oversight),
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().expectedFalseAlerts).toMatchObject({
      calibrationId: 'profile:test-model',
      calibratedThreshold: 0.55,
      falseMatchRate: 1e-5,
      calibratedAt: '2026-12-06T00:00:00.000Z',
    });
  });
});
