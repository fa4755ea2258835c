import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

// Issue 24: an urgent deployment may run at most 24 hours before the authorising officer's decision.
describe('VIGIL_URGENT_DECISION_HOURS', () => {
  it('defaults to 24 hours and refuses more, or none', () => {
    expect(loadConfig({}).VIGIL_URGENT_DECISION_HOURS).toBe(24);
    expect(loadConfig({ VIGIL_URGENT_DECISION_HOURS: '2.5' }).VIGIL_URGENT_DECISION_HOURS).toBe(2.5);
    for (const bad of ['25', '0', '-1', 'soon'])
      expect(() => loadConfig({ VIGIL_URGENT_DECISION_HOURS: bad }), bad).toThrow(
        /VIGIL_URGENT_DECISION_HOURS/,
      );
  });
});
