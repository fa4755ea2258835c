import type { CalibrationInput } from '@vigil/contract';
import type { AuditRepository, Database } from '@vigil/core';
import type { AuthUser } from '../auth/roles.js';
import type { Repositories } from '../repositories.js';
import type { CalibrationRepository, StoredCalibration } from './calibration.repository.js';

/** Stored calibrations (`vigil calibrate --json`) behind the published false alert figures; storing one is audited. */
export class CalibrationService {
  readonly #db: Database;
  readonly #calibrations: CalibrationRepository;
  readonly #audit: AuditRepository;

  constructor(repositories: Pick<Repositories, 'db' | 'calibrations' | 'audit'>) {
    this.#db = repositories.db;
    this.#calibrations = repositories.calibrations;
    this.#audit = repositories.audit;
  }

  /** The newest calibration of each model. */
  latest(): Promise<StoredCalibration[]> {
    return this.#calibrations.latest();
  }

  latestFor(model: string): Promise<StoredCalibration | undefined> {
    return this.#calibrations.latestFor(model);
  }

  /** Stores a model's calibration, its points in threshold order. */
  store(actor: AuthUser, input: CalibrationInput): Promise<StoredCalibration> {
    const { model, dataset = '', nonMatedComparisons } = input;
    const rows = input.rows
      .map(({ threshold, fmr, tpir }) => (tpir === undefined ? { threshold, fmr } : { threshold, fmr, tpir }))
      .sort((a, b) => a.threshold - b.threshold);
    return this.#db.transaction(async (tx) => {
      const inserted = await this.#calibrations.insert(
        { model, dataset, nonMatedComparisons, rows, createdBy: actor.id },
        tx,
      );
      await this.#audit.append(
        {
          actorId: actor.id,
          actorName: actor.username,
          action: 'calibration.store',
          targetType: 'model',
          targetId: model,
          details: { calibrationId: inserted.id, dataset, nonMatedComparisons, thresholds: rows.length },
        },
        tx,
      );
      return inserted;
    });
  }
}
