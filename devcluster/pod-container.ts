import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CoreV1Api, V1Container } from '@kubernetes/client-node';
import type { PodState } from './pod-state.ts';

/**
 * What a Pod's container asks for, made real on this machine for a local process: ConfigMap and Secret volumes
 * written as files and emptyDir volumes as directories under the Pod's directory, the paths they are mounted at rewritten to those files in env values and
 * arguments, fieldRef and configMapKeyRef env resolved, and the readiness probe's URL on the Pod's loopback IP.
 */

/** mountPath -> host path, longest mountPath first. */
export type PathMappings = Array<[string, string]>;

/**
 * Makes the pod's volumes real in the pod directory and returns mountPath -> host path (longest first): ConfigMap
 * and Secret volumes written as files (their items, or every key; a Secret's files get its defaultMode), and
 * emptyDir volumes as directories that outlive a container restart (this runs again before each restart, and
 * leaves an emptyDir's contents as they are), as a kubelet keeps them.
 */
export async function materialiseVolumes(core: CoreV1Api, state: PodState, dir: string): Promise<PathMappings> {
  const mappings: PathMappings = [];
  const volumes = state.pod.spec?.volumes ?? [];
  let index = 0;
  for (const mount of state.container.volumeMounts ?? []) {
    const volume = volumes.find((candidate) => candidate.name === mount.name);
    if (volume === undefined) continue;
    const volumeDir = join(dir, 'volumes', `${index++}-${mount.name}`);
    if (volume.emptyDir !== undefined) {
      mkdirSync(volumeDir, { recursive: true });
    } else if (volume.configMap !== undefined) {
      const configMap = await core.readNamespacedConfigMap({ name: volume.configMap.name ?? '', namespace: state.namespace });
      const entries = new Map<string, string | Buffer>(Object.entries(configMap.data ?? {}));
      for (const [key, value] of Object.entries(configMap.binaryData ?? {})) entries.set(key, Buffer.from(value, 'base64'));
      writeVolumeFiles(volumeDir, entries, volume.configMap.items, volume.configMap.defaultMode);
    } else if (volume.secret !== undefined) {
      const secret = await core.readNamespacedSecret({ name: volume.secret.secretName ?? '', namespace: state.namespace });
      const entries = new Map<string, string | Buffer>(Object.entries(secret.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')]));
      writeVolumeFiles(volumeDir, entries, volume.secret.items, volume.secret.defaultMode);
    } else {
      continue;
    }
    const hostPath = mount.subPath !== undefined && mount.subPath !== '' ? join(volumeDir, mount.subPath) : volumeDir;
    mappings.push([mount.mountPath.replace(/\/+$/, ''), hostPath]);
  }
  return mappings.sort((a, b) => b[0].length - a[0].length);
}

/** Writes a ConfigMap's or Secret's entries (only `items` when given, at their paths) with `mode` (default 0644). */
function writeVolumeFiles(volumeDir: string, entries: ReadonlyMap<string, string | Buffer>, items: ReadonlyArray<{ key: string; path: string }> | undefined, mode: number | undefined): void {
  mkdirSync(volumeDir, { recursive: true });
  const files: Array<[string, string | Buffer]> = items !== undefined && items.length > 0
    ? items.flatMap((item) => {
      const content = entries.get(item.key);
      return content === undefined ? [] : [[item.path, content] as [string, string | Buffer]];
    })
    : [...entries];
  for (const [path, content] of files) {
    const target = join(volumeDir, path);
    mkdirSync(dirname(target), { recursive: true });
    // A file written before (the previous container's) may be read-only: replace it.
    rmSync(target, { force: true });
    writeFileSync(target, content, { mode: mode ?? 0o644 });
  }
}

/** `value` with a leading mount path (alone or after `=`, as in `--config=/etc/x`) replaced by its host path. */
export function rewritePaths(value: string, mappings: PathMappings): string {
  for (const [mountPath, hostPath] of mappings) {
    const escaped = mountPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const pattern = new RegExp(`(^|=)${escaped}(?=/|$)`);
    if (pattern.test(value)) return value.replace(pattern, (_match, prefix: string) => `${prefix}${hostPath}`);
  }
  return value;
}

function fieldValue(state: PodState, nodeName: string, path: string): string | undefined {
  switch (path) {
    case 'status.podIP': return state.ip;
    case 'status.hostIP': return '127.0.0.1';
    case 'metadata.name': return state.name;
    case 'metadata.namespace': return state.namespace;
    case 'metadata.uid': return state.uid;
    case 'spec.nodeName': return nodeName;
    case 'spec.serviceAccountName': return state.pod.spec?.serviceAccountName ?? 'default';
    default: return undefined;
  }
}

/**
 * The process environment: a few of this process's variables (PATH, HOME, TMPDIR, LANG), HOSTNAME, the
 * container's env (paths rewritten, references resolved; a fieldRef the agent cannot answer is logged and left
 * out) and NEXUS_BIND_HOST, the Pod's loopback IP, last.
 */
export async function containerEnv(
  core: CoreV1Api, state: PodState, mappings: PathMappings, nodeName: string, log: (line: string) => void,
): Promise<NodeJS.ProcessEnv> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR ?? tmpdir(), LANG: process.env.LANG,
    HOSTNAME: state.name,
  };
  for (const entry of state.container.env ?? []) {
    if (entry.value !== undefined) env[entry.name] = rewritePaths(entry.value, mappings);
    else if (entry.valueFrom?.fieldRef !== undefined) {
      const value = fieldValue(state, nodeName, entry.valueFrom.fieldRef.fieldPath);
      if (value !== undefined) env[entry.name] = value;
      else log(`Node agent pod=${state.key} unsupported fieldRef=${entry.valueFrom.fieldRef.fieldPath} env=${entry.name}`);
    } else if (entry.valueFrom?.configMapKeyRef !== undefined) {
      const ref = entry.valueFrom.configMapKeyRef;
      const configMap = await core.readNamespacedConfigMap({ name: ref.name ?? '', namespace: state.namespace });
      const value = configMap.data?.[ref.key];
      if (value !== undefined) env[entry.name] = value;
    } else {
      env[entry.name] = '';
    }
  }
  env.NEXUS_BIND_HOST = state.ip;
  return env;
}

function readinessPort(container: V1Container): number {
  const port = container.readinessProbe?.httpGet?.port;
  if (typeof port === 'number') return port;
  if (typeof port === 'string') {
    const named = container.ports?.find((candidate) => candidate.name === port);
    if (named !== undefined) return named.containerPort;
    if (/^\d+$/.test(port)) return Number(port);
  }
  return 9100;
}

/** The readiness probe's httpGet on the Pod IP; without a probe, the engine's own `:9100/readyz`. */
export function readinessUrl(state: PodState): string {
  const path = state.container.readinessProbe?.httpGet?.path ?? '/readyz';
  return `http://${state.ip}:${readinessPort(state.container)}${path}`;
}
