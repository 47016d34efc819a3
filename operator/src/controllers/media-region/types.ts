// The MediaRegion object as the controller sees it, and the names it gives the owned objects.
import type {
  MediaRegionSpec,
  MediaRegionStatus,
} from '../../../../common/src/crd/media-region.js';
import { API_VERSION, MEDIA_REGION } from '../../../../common/src/crd/definitions.js';
import type { KubeObject } from '../../runtime/keys.js';

export interface MediaRegion extends KubeObject {
  metadata: NonNullable<KubeObject['metadata']> & {
    name: string;
    namespace: string;
    uid: string;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
  };
  spec: MediaRegionSpec;
  status?: MediaRegionStatus;
}

export const MEDIA_REGION_API_VERSION = API_VERSION;
export const MEDIA_REGION_KIND = MEDIA_REGION.kind;
export const MEDIA_REGION_PLURAL = MEDIA_REGION.plural;

/** The one field manager every write of the operator uses. */
export const FIELD_MANAGER = 'amphi-operator';

export const APP_NAME = 'amphi-media-pod';
export const LABEL_APP_NAME = 'app.kubernetes.io/name';
export const LABEL_INSTANCE = 'app.kubernetes.io/instance';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_REGION = 'amphi.dev/region';
/** Names the MediaRegion (in the pod's namespace) that owns a media pod. */
export const LABEL_MEDIA_REGION = 'amphi.dev/media-region';
export const NODE_REGION_LABEL = 'topology.kubernetes.io/region';
export const NODE_ZONE_LABEL = 'topology.kubernetes.io/zone';
export const NODE_HOSTNAME_LABEL = 'kubernetes.io/hostname';

export const ANNOTATION_DRAINING = 'amphi.dev/draining';
export const ANNOTATION_DRAIN_DEADLINE = 'amphi.dev/drain-deadline';
export const ANNOTATION_CONFIG_HASH = 'amphi.dev/config-hash';
/**
 * On a MediaRegion, "disabled" stops the operator from touching it or its objects (maintenance, or
 * the chart's pre-delete placeholder), like CloudNativePG's cnpg.io/reconciliationLoop.
 */
export const ANNOTATION_RECONCILIATION = 'amphi.dev/reconciliation';

export const reconciliationDisabled = (region: MediaRegion): boolean =>
  region.metadata.annotations?.[ANNOTATION_RECONCILIATION] === 'disabled';

/** The media pod's HTTP port: /healthz, /readyz, /metrics, /drain, WebSocket signalling. */
export const HTTP_PORT = 8080;
/** The media pod's pod-to-pod pipe negotiation port (MEDIA_PIPE_PORT). */
export const PIPE_PORT = 8081;
/** Extra grace on top of the drain deadline before the kubelet kills a draining pod. */
export const TERMINATION_MARGIN_SECONDS = 30;
export const CONFIG_FILE = 'config.json';
export const CONFIG_MOUNT = '/etc/amphi';

export const stsName = (region: MediaRegion): string => `${region.metadata.name}-media`;
export const serviceName = stsName;
export const pdbName = stsName;
export const configMapName = (region: MediaRegion): string => `${stsName(region)}-config`;
export const podName = (region: MediaRegion, ordinal: number): string =>
  `${stsName(region)}-${ordinal}`;

/** The ordinal of one of this region's pods, or undefined for any other name. */
export function podOrdinal(region: MediaRegion, name: string): number | undefined {
  const prefix = `${stsName(region)}-`;
  if (!name.startsWith(prefix)) return undefined;
  const rest = name.slice(prefix.length);
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : undefined;
}

export function selectorLabels(region: MediaRegion): Record<string, string> {
  return { [LABEL_APP_NAME]: APP_NAME, [LABEL_MEDIA_REGION]: region.metadata.name };
}

export function selectorString(region: MediaRegion): string {
  return Object.entries(selectorLabels(region))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

export function commonLabels(region: MediaRegion): Record<string, string> {
  return {
    ...selectorLabels(region),
    [LABEL_INSTANCE]: region.metadata.name,
    [LABEL_MANAGED_BY]: FIELD_MANAGER,
    [LABEL_REGION]: region.spec.region,
  };
}

export function ownerReference(region: MediaRegion) {
  return {
    apiVersion: MEDIA_REGION_API_VERSION,
    kind: MEDIA_REGION_KIND,
    name: region.metadata.name,
    uid: region.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}
