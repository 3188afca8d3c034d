import type { V1Container, V1PodSpec, V1PodTemplateSpec, V1Toleration } from '@kubernetes/client-node';
import type { ComputeResources, EnvVar, TradingEngine } from '../api/types.ts';
import { controlKeyFiles } from '../../engine/control/control-keys.ts';
import { controlSecretName, hasControlSocket } from './control-secret.ts';
import { historyMountPath } from './engine-config.ts';
import { commonLabels, imageVersion, labelKeys, revisionLabels } from './labels.ts';

/** Where the engine ConfigMap is mounted and the file the engine reads (NEXUS_ENGINE_CONFIG). */
export const configMountPath = '/etc/nexus';
export const configFileName = 'engine.yaml';
/** Environment variables the operator sets on the engine container; a spec may not set them (validate.ts). */
export const reservedEnvNames: readonly string[] = [
  'NEXUS_ENGINE_CONFIG', 'NEXUS_INDICATOR_BACKEND', 'NEXUS_CALIBRATION_FILE', 'NEXUS_CONTROL_KEYS', 'NEXUS_STATE_DIR', 'NEXUS_HISTORY_DIR',
  'POD_NAME', 'POD_NAMESPACE',
];

/**
 * Where the engine caches the backend calibration that `auto` decides by (engine/batch/calibration.ts): the pod's
 * /tmp emptyDir (the root filesystem is read-only), so a restarted container reuses the pod's measurement.
 */
export const calibrationFilePath = '/tmp/nexus/indicator-calibration.json';

/** Where the control keys are mounted (NEXUS_CONTROL_KEYS): every key of the control Secret but the client's secret one. */
export const controlKeysMountPath = '/etc/nexus-control';
/** The engine's state directory (NEXUS_STATE_DIR): a disk emptyDir, so the latched cut survives a container restart. */
export const stateMountPath = '/var/lib/nexus';
/** The non-root user of the engine image (distroless `nonroot`). */
export const engineUid = 65532;

/**
 * The engine pod spec of a TradingEngine, referencing the revision's ConfigMap by name. Pure: the same inputs
 * always give the same spec (no clock, no randomness), so applying it twice changes nothing.
 *
 * What it guarantees:
 * - Guaranteed QoS: every container's requests equal its limits (cpu, memory, and the GPU resource).
 * - Restricted pod security: non-root uid 65532, no privilege escalation, read-only root filesystem, every
 *   capability dropped, seccomp RuntimeDefault, no service-account token (the engine never calls the API).
 * - GPU: `limits[resourceName] = count`, a toleration for the resource's conventional taint
 *   (`<resourceName>:NoSchedule`, as the NVIDIA GPU operator and cloud GPU node pools set it), and the runtime class.
 * - Termination grace covers the engine's drain timeout plus 5 s, so SIGTERM drains every accepted order.
 * - With a history volume (`spec.engine.history.volume`): the ConfigMap or PersistentVolumeClaim mounted read-only
 *   at `historyMountPath`, named to the engine by NEXUS_HISTORY_DIR (the config names the file relative to it).
 * - With a control socket: the control Secret's server key pair and the one authorised client public key mounted
 *   read-only (owner and group only; never the client's secret key), and a small emptyDir state directory that a
 *   container restart keeps, where the engine latches the operator's cut.
 */
export function renderPodSpec(engine: TradingEngine, configMapName: string): V1PodSpec {
  const template = engine.spec.template;
  const engineSpec = engine.spec.engine;
  const gpu = template.gpu;
  const control = hasControlSocket(engine);
  const history = engineSpec.history?.volume;
  const ports = [
    { name: 'metrics', containerPort: engineSpec.metrics.port, protocol: 'TCP' },
    ...engineSpec.zeromq.endpoints
      .filter((endpoint) => endpoint.bindPort !== undefined)
      .map((endpoint) => ({ name: endpoint.name, containerPort: endpoint.bindPort ?? 0, protocol: 'TCP' })),
  ];
  const engineContainer: V1Container = {
    name: 'engine',
    image: template.image,
    imagePullPolicy: template.imagePullPolicy,
    env: [
      { name: 'NEXUS_ENGINE_CONFIG', value: `${configMountPath}/${configFileName}` },
      { name: 'NEXUS_INDICATOR_BACKEND', value: engineSpec.backend },
      { name: 'NEXUS_CALIBRATION_FILE', value: calibrationFilePath },
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      ...envVars(template.env),
      // Last, so they win over a duplicate (validation also refuses reserved names in spec.template.env).
      ...(control ? [{ name: 'NEXUS_CONTROL_KEYS', value: controlKeysMountPath }, { name: 'NEXUS_STATE_DIR', value: stateMountPath }] : []),
      ...(history === undefined ? [] : [{ name: 'NEXUS_HISTORY_DIR', value: historyMountPath }]),
    ],
    ports,
    resources: guaranteed(template.resources, gpu === undefined ? undefined : [gpu.resourceName, gpu.count]),
    readinessProbe: {
      httpGet: { path: '/readyz', port: 'metrics' },
      periodSeconds: 2,
      failureThreshold: 2,
      timeoutSeconds: 1,
    },
    livenessProbe: {
      httpGet: { path: '/healthz', port: 'metrics' },
      periodSeconds: 10,
      failureThreshold: 3,
      timeoutSeconds: 2,
    },
    // Until the engine is first ready (JIT warm-up, then the warm start from history, both on its main thread,
    // where /healthz cannot answer meanwhile), the liveness probe does not apply: 2 minutes, 10 with a history.
    startupProbe: {
      httpGet: { path: '/readyz', port: 'metrics' },
      periodSeconds: 2,
      failureThreshold: engineSpec.history === undefined ? 60 : 300,
      timeoutSeconds: 1,
    },
    volumeMounts: [
      { name: 'engine-config', mountPath: configMountPath, readOnly: true },
      { name: 'tmp', mountPath: '/tmp' },
      ...(control ? [{ name: 'control-keys', mountPath: controlKeysMountPath, readOnly: true }, { name: 'state', mountPath: stateMountPath }] : []),
      ...(history === undefined ? [] : [{ name: 'history', mountPath: historyMountPath, readOnly: true }]),
    ],
    securityContext: restrictedContainer(),
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
  const sidecars: V1Container[] = (template.sidecars ?? []).map((sidecar) => ({
    name: sidecar.name,
    image: sidecar.image,
    ...(sidecar.command === undefined ? {} : { command: [...sidecar.command] }),
    ...(sidecar.args === undefined ? {} : { args: [...sidecar.args] }),
    ...(sidecar.env === undefined ? {} : { env: envVars(sidecar.env) }),
    ...(sidecar.ports === undefined
      ? {}
      : { ports: sidecar.ports.map((port) => ({ ...port, protocol: 'TCP' })) }),
    resources: guaranteed(sidecar.resources, undefined),
    securityContext: restrictedContainer(),
  }));
  const tolerations: V1Toleration[] = (template.tolerations ?? []).map((toleration) => ({ ...toleration }));
  if (gpu !== undefined && !tolerations.some((t) => t.key === gpu.resourceName)) {
    tolerations.push({ key: gpu.resourceName, operator: 'Exists', effect: 'NoSchedule' });
  }
  return {
    containers: [engineContainer, ...sidecars],
    volumes: [
      { name: 'engine-config', configMap: { name: configMapName, defaultMode: 0o444 } },
      { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
      ...(control ? [
        {
          name: 'control-keys',
          secret: {
            secretName: controlSecretName(engine),
            items: [controlKeyFiles.serverSecret, controlKeyFiles.serverPublic, controlKeyFiles.clientPublic].map((key) => ({ key, path: key })),
            defaultMode: 0o440,
          },
        },
        // On disk, not in memory: a pod sandbox restart on the same node (same UID) keeps it too.
        { name: 'state', emptyDir: { sizeLimit: '1Mi' } },
      ] : []),
      ...(history?.configMap === undefined ? [] : [{ name: 'history', configMap: { name: history.configMap.name, defaultMode: 0o444 } }]),
      ...(history?.persistentVolumeClaim === undefined ? [] : [
        { name: 'history', persistentVolumeClaim: { claimName: history.persistentVolumeClaim.claimName, readOnly: true } },
      ]),
    ],
    securityContext: {
      runAsNonRoot: true,
      runAsUser: engineUid,
      runAsGroup: engineUid,
      fsGroup: engineUid,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    terminationGracePeriodSeconds: Math.ceil(engineSpec.drainTimeoutMs / 1000) + 5,
    ...(template.nodeSelector === undefined ? {} : { nodeSelector: { ...template.nodeSelector } }),
    ...(tolerations.length === 0 ? {} : { tolerations }),
    ...(template.affinity === undefined ? {} : { affinity: structuredClone(template.affinity) }),
    ...(template.priorityClassName === undefined ? {} : { priorityClassName: template.priorityClassName }),
    ...(gpu?.runtimeClassName === undefined ? {} : { runtimeClassName: gpu.runtimeClassName }),
  };
}

/** The pod template of one revision: the pod spec plus labels (selector, revision, user) and user annotations. */
export function renderPodTemplate(engine: TradingEngine, revision: string, configMapName: string): V1PodTemplateSpec {
  const version = imageVersion(engine.spec.template.image);
  return {
    metadata: {
      labels: {
        ...engine.spec.template.podLabels,
        ...commonLabels(engine),
        ...(version === undefined ? {} : { [labelKeys.version]: version }),
        ...revisionLabels(engine, revision),
      },
      ...(engine.spec.template.podAnnotations === undefined ? {} : { annotations: { ...engine.spec.template.podAnnotations } }),
    },
    spec: renderPodSpec(engine, configMapName),
  };
}

function envVars(list: readonly EnvVar[] | undefined): Array<{ name: string; value: string }> {
  return (list ?? []).map((entry) => ({ name: entry.name, value: entry.value }));
}

/** requests = limits for cpu and memory (plus an extended resource such as nvidia.com/gpu): Guaranteed QoS. */
function guaranteed(resources: ComputeResources, extended: [string, number] | undefined): { requests: Record<string, string>; limits: Record<string, string> } {
  const quantities: Record<string, string> = { cpu: String(resources.cpu), memory: String(resources.memory) };
  if (extended !== undefined) quantities[extended[0]] = String(extended[1]);
  return { requests: { ...quantities }, limits: { ...quantities } };
}

function restrictedContainer(): V1Container['securityContext'] {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}
