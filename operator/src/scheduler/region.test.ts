import { describe, expect, it } from '@jest/globals';
import { Cluster } from './cluster.js';
import { node, region, room } from './fixtures.js';
import { candidateRegions, distanceKm, noRegionReason } from './region.js';

const frankfurt = { latitude: 50.1, longitude: 8.7 };
const paris = { latitude: 48.9, longitude: 2.35 };
const virginia = { latitude: 38.9, longitude: -77.0 };
const tokyo = { latitude: 35.7, longitude: 139.7 };

describe('candidateRegions', () => {
  const regions = [
    region('us', { location: virginia }),
    region('eu-west', { location: paris }),
    region('ap', { location: tokyo }),
    region('eu-central', { location: frankfurt }),
  ];
  const c = new Cluster(regions, []);
  const names = (r: Parameters<typeof candidateRegions>[0]): string[] =>
    candidateRegions(r, c).map((x) => x.name);

  it('keeps the preferred order and only those when the room lists regions', () => {
    expect(names(room('r', { regions: ['ap', 'us', 'nowhere'] }))).toEqual(['ap', 'us']);
  });

  it('adds the other regions nearest first when the room allows any region', () => {
    expect(names(room('r', { regions: ['eu-central'], anyRegion: true }))).toEqual([
      'eu-central',
      'eu-west',
      'us',
      'ap',
    ]);
  });

  it('orders regions by free capacity for a room with no preference', () => {
    const busy = new Cluster(regions, [
      node('p1', { region: 'ap', workers: 4 }),
      node('p2', { region: 'us', workers: 2 }),
    ]);
    expect(candidateRegions(room('r'), busy).map((x) => x.name)).toEqual([
      'ap',
      'us',
      'eu-central',
      'eu-west',
    ]);
  });

  it('measures great-circle distances', () => {
    expect(Math.round(distanceKm(paris, frankfurt))).toBeGreaterThan(450);
    expect(Math.round(distanceKm(paris, frankfurt))).toBeLessThan(500);
  });
});

describe('noRegionReason', () => {
  it('names the most specific cause', () => {
    const r = room('r', { regions: ['eu'] });
    expect(noRegionReason(r, []).reason).toBe('NoCandidateRegion');
    const none = new Cluster([region('eu')], []);
    expect(noRegionReason(r, [none.regions.get('eu')!]).reason).toBe('NoLiveNodes');
    const draining = new Cluster([region('eu')], [node('p1', { draining: true })]);
    expect(noRegionReason(r, [draining.regions.get('eu')!]).reason).toBe('AllNodesDraining');
    const full = new Cluster([region('eu')], [node('p1', { load: { 0: 350, 1: 350 } })]);
    expect(noRegionReason(r, [full.regions.get('eu')!]).reason).toBe('NoRegionWithCapacity');
  });
});
