// Which regions a new room may go to, best first, and why none would do.
import type { Cluster, RegionState } from './cluster.js';
import type { GeoPoint, RoomSnapshot, Unschedulable } from './types.js';

/** Great-circle distance in kilometres. */
export function distanceKm(a: GeoPoint, b: GeoPoint): number {
  const rad = Math.PI / 180;
  const dLat = (b.latitude - a.latitude) * rad;
  const dLon = (b.longitude - a.longitude) * rad;
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(a.latitude * rad) * Math.cos(b.latitude * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(h)));
}

export function allowsAnyRegion(room: RoomSnapshot): boolean {
  return room.anyRegion ?? room.regions.length === 0;
}

/** The room's preferred regions that have a MediaRegion, in the room's order. */
export function preferredRegions(room: RoomSnapshot, cluster: Cluster): RegionState[] {
  const out: RegionState[] = [];
  for (const name of room.regions) {
    const region = cluster.regions.get(name);
    if (region !== undefined && region.known && !out.includes(region)) out.push(region);
  }
  return out;
}

/**
 * The regions a room may fall back to when its preferred ones are full (none unless it allows any
 * region): nearest to its first located preferred region first, else — and between equals — most
 * free capacity first (spreads rooms that have no preference), then by name.
 */
export function fallbackRegions(
  room: RoomSnapshot,
  cluster: Cluster,
  preferred: readonly RegionState[],
): RegionState[] {
  if (!allowsAnyRegion(room)) return [];
  const anchor = preferred.find((r) => r.location !== undefined)?.location;
  const rest = cluster.knownRegions.filter((r) => !preferred.includes(r));
  const dist = (r: RegionState): number =>
    anchor && r.location ? distanceKm(anchor, r.location) : Number.POSITIVE_INFINITY;
  const keyed = rest.map((r) => ({ r, d: dist(r) }));
  keyed.sort(
    (a, b) =>
      a.d - b.d ||
      b.r.freeUnits - a.r.freeUnits ||
      (a.r.name < b.r.name ? -1 : a.r.name > b.r.name ? 1 : 0),
  );
  return keyed.map((k) => k.r);
}

/** Every region a new room may go to, best first: preferred, then fallback. */
export function candidateRegions(room: RoomSnapshot, cluster: Cluster): RegionState[] {
  const preferred = preferredRegions(room, cluster);
  return preferred.concat(fallbackRegions(room, cluster, preferred));
}

/** Why no candidate region could take a shard: the most specific reason that holds. */
export function noRegionReason(
  room: RoomSnapshot,
  candidates: readonly RegionState[],
): Unschedulable {
  if (candidates.length === 0) {
    const wanted = room.regions.length > 0 ? room.regions.join(', ') : 'any';
    return {
      reason: 'NoCandidateRegion',
      message: `no MediaRegion matches the room's regions (${wanted})`,
    };
  }
  const names = candidates.map((r) => r.name).join(', ');
  const live = candidates.reduce((n, r) => n + r.liveNodes, 0);
  const draining = candidates.reduce((n, r) => n + r.drainingNodes, 0);
  if (live === 0) return { reason: 'NoLiveNodes', message: `no live media pods in ${names}` };
  if (draining === live) {
    return {
      reason: 'AllNodesDraining',
      message: `all ${live} media pods in ${names} are draining`,
    };
  }
  return {
    reason: 'NoRegionWithCapacity',
    message: `no worker in ${names} has headroom for the room's origin`,
  };
}
