import { describe, expect, it } from 'vitest';
import {
  falseMatchRates,
  identificationRates,
  mayBeSamePerson,
  protocolFiles,
  sampledProtocol,
  thirdPhotos,
  twoViewTracks,
  watchlistProtocol,
} from './watchlist-protocol.js';

/** A unit vector in 4 dimensions at `degrees` in the first plane (cosine of two = cos of the angle). */
function at(degrees: number): Float32Array {
  const r = (degrees * Math.PI) / 180;
  return Float32Array.of(Math.cos(r), Math.sin(r), 0, 0);
}

const people = new Map<string, string[]>([
  ['Ann_Lee', ['Ann_Lee/1.jpg', 'Ann_Lee/2.jpg', 'Ann_Lee/3.jpg']],
  ['Bob_Roe', ['Bob_Roe/1.jpg', 'Bob_Roe/2.jpg']],
  ['Cy_Doe', ['Cy_Doe/1.jpg', 'Cy_Doe/2.jpg']],
  ['Lee_Ann', ['Lee_Ann/1.jpg']],
  ['Dan_Fox', ['Dan_Fox/1.jpg']],
  ['Eve_Kim', ['Eve_Kim/1.jpg']],
]);

describe('LFW watchlist protocol', () => {
  it('enrols the first photo of everyone with two, searches with the second, and leaves out aliases', () => {
    const protocol = watchlistProtocol({ people });
    expect(protocol.gallery.map((g) => g.file)).toEqual(['Ann_Lee/1.jpg', 'Bob_Roe/1.jpg', 'Cy_Doe/1.jpg']);
    expect(protocol.mated.map((g) => g.file)).toEqual(['Ann_Lee/2.jpg', 'Bob_Roe/2.jpg', 'Cy_Doe/2.jpg']);
    // Lee_Ann is Ann_Lee's name the other way round: neither mated nor a fair non-mated search.
    expect(protocol.aliases).toEqual(['Lee_Ann']);
    expect(protocol.nonMated.map((g) => g.identity)).toEqual(['Dan_Fox', 'Eve_Kim']);
    expect(protocolFiles(protocol)).toHaveLength(8);
  });

  it('samples a quick protocol evenly by name, each sampled person with their own mated search', () => {
    const sample = sampledProtocol(watchlistProtocol({ people }), 2, 1);
    expect(sample.gallery.map((g) => g.identity)).toEqual(['Ann_Lee', 'Cy_Doe']);
    expect(sample.mated.map((g) => g.identity)).toEqual(['Ann_Lee', 'Cy_Doe']);
    expect(sample.nonMated.map((g) => g.identity)).toEqual(['Eve_Kim']);
  });

  it('searches people with a third photo by one view and by the unit mean of two, against the same list', () => {
    const protocol = watchlistProtocol({ people });
    expect(thirdPhotos(protocol, { people })).toEqual(['Ann_Lee/3.jpg']);
    const embeddings = new Map([
      ['Ann_Lee/2.jpg', Float32Array.of(1, 0)],
      ['Ann_Lee/3.jpg', Float32Array.of(0, 1)],
    ]);
    const tracks = twoViewTracks(protocol, { people }, embeddings);
    expect(tracks.single.mated).toEqual([{ identity: 'Ann_Lee', file: 'Ann_Lee/2.jpg' }]);
    expect(tracks.fused.mated).toHaveLength(1);
    const fused = tracks.embeddings.get(tracks.fused.mated[0]?.file as string) as Float32Array;
    expect(fused[0]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(fused[1]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(tracks.fused.gallery).toBe(protocol.gallery);
    expect(tracks.fused.nonMated).toBe(protocol.nonMated);
  });

  it('counts false matches over every non-mated search against every listed person', () => {
    const protocol = watchlistProtocol({ people });
    const embeddings = new Map<string, Float32Array>([
      ['Ann_Lee/1.jpg', at(0)],
      ['Bob_Roe/1.jpg', at(90)],
      ['Cy_Doe/1.jpg', at(180)],
      ['Dan_Fox/1.jpg', at(60)], // cos 0.5 with Ann, 0.87 with Bob, -0.5 with Cy
    ]);
    // Eve_Kim has no embedding (no face found): no comparison.
    const rates = falseMatchRates(protocol, embeddings, [0.9, 0.4, 0.8]);
    expect(rates.comparisons).toBe(3);
    expect(rates.points.map((p) => p.threshold)).toEqual([0.4, 0.8, 0.9]);
    expect(rates.points.map((p) => p.fmr)).toEqual([2 / 3, 1 / 3, 0]);
  });

  it('takes names with the same parts, or one within the other, as maybe one person', () => {
    expect(mayBeSamePerson('Sung_Hong_Choi', 'Choi_Sung-hong')).toBe(true);
    expect(mayBeSamePerson('Wang_Nan', 'Nan_Wang')).toBe(true);
    expect(mayBeSamePerson('Jose_Canseco', 'Jose_Canseco_Sr')).toBe(true);
    expect(mayBeSamePerson('Wang_Nan', 'Wang_Yingfan')).toBe(false);
  });

  it('gives rank-1, and TPIR at the lowest threshold that keeps false alerts within each FPIR', () => {
    const protocol = watchlistProtocol({ people });
    // Gallery at 0, 90 and 180 degrees; mated searches 20 degrees off their own (cosine 0.94),
    // except Cy, searched with a photo nearer Bob's entry; non-mated at cosine 0.5 and 0.7.
    const embeddings = new Map<string, Float32Array | undefined>([
      ['Ann_Lee/1.jpg', at(0)],
      ['Bob_Roe/1.jpg', at(90)],
      ['Cy_Doe/1.jpg', at(180)],
      ['Ann_Lee/2.jpg', at(20)],
      ['Bob_Roe/2.jpg', at(110)],
      ['Cy_Doe/2.jpg', at(120)],
      ['Dan_Fox/1.jpg', at(60)],
      ['Eve_Kim/1.jpg', undefined],
    ]);
    const result = identificationRates(protocol, embeddings, [0.5, 0.01]);
    expect(result.watchlistSize).toBe(3);
    expect(result.matedSearches).toBe(3);
    expect(result.nonMatedSearches).toBe(2);
    expect(result.rank1).toBeCloseTo(2 / 3, 9);
    // FPIR 0.5 allows 1 of 2 false alerts: the threshold sits just above the second highest
    // non-mated score (none: Eve has no face), so anything from -1 up alerts.
    expect(result.points[0]).toMatchObject({ fpir: 0.5, falseAlerts: 1 });
    expect(result.points[0]?.tpir).toBeCloseTo(2 / 3, 9);
    // FPIR 1 in 100 allows none: just above Dan's best score (cos 30 degrees = 0.866).
    expect(result.points[1]?.threshold).toBeGreaterThan(Math.cos(Math.PI / 6));
    expect(result.points[1]?.threshold).toBeLessThan(Math.cos(Math.PI / 6) + 1e-6);
    expect(result.points[1]).toMatchObject({ falseAlerts: 0 });
    expect(result.points[1]?.tpir).toBeCloseTo(2 / 3, 9);
  });

  it("counts the mated searches of people left off a smaller list as that list's non-mated searches", () => {
    const protocol = watchlistProtocol({ people });
    const embeddings = new Map<string, Float32Array | undefined>(
      protocolFiles(protocol).map((file, i) => [file, at(i * 40)]),
    );
    const result = identificationRates(protocol, embeddings, [0.01], 1);
    expect(result.watchlistSize).toBe(1);
    expect(result.matedSearches).toBe(1);
    expect(result.nonMatedSearches).toBe(2 + 2);
  });
});
