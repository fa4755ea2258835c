import { describe, expect, it } from 'vitest';
import { AnalysisLedger } from './analysis-ledger.js';

describe('AnalysisLedger', () => {
  it('counts frames no detector reported once they had time to be, each once', () => {
    const ledger = new AnalysisLedger(5000);
    ledger.published(10);
    expect(ledger.settle(0)).toBe(0);
    ledger.reported(6, 1);
    expect(ledger.settle(2000)).toBe(0); // not settled yet: reports may still come
    ledger.published(10);
    expect(ledger.settle(5000)).toBe(3); // the first 10: 6 analysed, 1 dropped, 3 reached no detector
    expect(ledger.settle(7000)).toBe(0); // counted once
    expect(ledger.settle(10_000)).toBe(10); // the next 10: no report at all (no detector running)
  });

  it('counts nothing while the detectors account for every frame, even with reports late', () => {
    const ledger = new AnalysisLedger(5000);
    for (let second = 0; second < 30; second++) {
      ledger.published(10);
      if (second > 0) ledger.reported(10, 0); // each second's report covers the second before
      expect(ledger.settle(second * 1000)).toBe(0);
    }
  });
});
