import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  Watch,
  setHeaderOptions,
  type V1Container,
  type V1ContainerStatus,
  type V1Lease,
  type V1Node,
  type V1NodeCondition,
  type V1Pod,
  type V1PodCondition,
  type V1PodStatus,
} from '@kubernetes/client-node';
import { nexusBin } from '../cli/processes.ts';

/**
 * A small kubelet stand-in for tests and local development (the product never uses it): it registers one Node on
 * a real API server (devcluster/control-plane.ts), keeps it Ready with a Lease and Ready-condition heartbeats,
 * and runs the Pods the scheduler binds to it. A Pod whose first container uses the Nexus engine image runs as a
 * real local process (`node bin/nexus.mjs engine ...args`) on its own loopback IP (127.0.0.2..127.0.0.254, passed
 * as `NEXUS_BIND_HOST`), with ConfigMap volumes materialised as files in a per-pod temporary directory. Any other
 * image is reported Pending with reason `ImageNotRunnable`.
 *
 * Guarantees:
 * - A Pod that gets a deletionTimestamp is stopped (SIGTERM, SIGKILL after its grace period, capped) and then
 *   deleted with grace period 0: without a kubelet nothing else finishes a Pod deletion.
 * - `stop()` ends every process this agent started (by pid), its watch and its timers; a process 'exit' hook
 *   SIGKILLs any child still running, so no engine outlives the test process.
 * - A watch that ends or fails (410 Gone included) is followed by a fresh list and a new watch.
 */
export interface NodeAgent {
  readonly nodeName: string;
  /** The engine processes running now: `namespace/name` -> pid. */
  pids(): ReadonlyMap<string, number>;
  stop(): Promise<void>;
}

export interface NodeAgentOptions {
  /** Admin kubeconfig path (ControlPlane.kubeconfig). */
  readonly kubeconfig: string;
  /** Default `nexus-local-node`. */
  readonly nodeName?: string;
  /** `nvidia.com/gpu` capacity; default 0. */
  readonly gpus?: number;
  /** Default '8'. */
  readonly cpu?: string;
  /** Default '32Gi'. */
  readonly memory?: string;
  /** Default 110. */
  readonly maxPods?: number;
  /** Which images run as the engine; default: `nexus`, `nexus-engine` or `nexus/engine` (any registry path, any tag). */
  readonly isEngineImage?: (image: string) => boolean;
  /** Cap on a Pod's terminationGracePeriodSeconds; default 10. */
  readonly maxGracePeriodSeconds?: number;
  /** Lease renewal and Ready heartbeat period; default 10 000 ms. */
  readonly heartbeatMs?: number;
  /** Restarts allowed per Pod for restartPolicy Always/OnFailure; default 3. */
  readonly maxRestarts?: number;
  readonly log?: (line: string) => void;
}

/**
 * `nexus`, `nexus-engine` or `nexus/engine` under any registry path, any tag or digest (the pattern in the brief,
 * `(^|/)nexus(-engine)?(:|$)`, does not match `nexus/engine:dev`, the image the charts and tests use).
 */
const defaultEngineImage = (image: string): boolean => /(^|\/)nexus([-/]engine)?(:|@|$)/.test(image);
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const firstIp = 2;
const lastIp = 254;

/** A Go-style MicroTime (6 fractional digits), as Lease.spec.renewTime requires. */
function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function apiCode(error: unknown): number {
  return error instanceof ApiException ? error.code : 0;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface PodState {
  readonly key: string;
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly pod: V1Pod;
  readonly container: V1Container;
  readonly ip: string;
  readonly created: Date;
  dir: string | undefined;
  child: ChildProcess | undefined;
  startedAt: Date | undefined;
  ready: boolean;
  readyChanged: Date;
  restartCount: number;
  lastTerminated: { exitCode: number; reason: string; startedAt: Date; finishedAt: Date } | undefined;
  terminating: boolean;
  readinessTimer: NodeJS.Timeout | undefined;
  /** Serialises the operations on this Pod (start, status reports, termination). */
  queue: Promise<void>;
  logTail: string;
}

export async function startNodeAgent(options: NodeAgentOptions): Promise<NodeAgent> {
  const nodeName = options.nodeName ?? 'nexus-local-node';
  const log = options.log ?? (() => undefined);
  const isEngine = options.isEngineImage ?? defaultEngineImage;
  const maxGrace = options.maxGracePeriodSeconds ?? 10;
  const heartbeatMs = options.heartbeatMs ?? 10_000;
  const maxRestarts = options.maxRestarts ?? 3;

  const kc = new KubeConfig();
  kc.loadFromFile(options.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const coordination = kc.makeApiClient(CoordinationV1Api);

  const pods = new Map<string, PodState>();
  const usedIps = new Set<number>();
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;
  let watchAbort: AbortController | undefined;

  const killChildren = (): void => {
    for (const state of pods.values()) {
      const pid = state.child?.pid;
      if (pid !== undefined && state.child?.exitCode === null && state.child.signalCode === null) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  };
  process.once('exit', killChildren);

  // ---- Node registration and heartbeats -------------------------------------------------------------------
  const registered = new Date();
  const nodeConditions = (now: Date): V1NodeCondition[] => [
    { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'local node agent', lastHeartbeatTime: now, lastTransitionTime: registered },
    { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'local node agent', lastHeartbeatTime: now, lastTransitionTime: registered },
    { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'local node agent', lastHeartbeatTime: now, lastTransitionTime: registered },
    { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'local node agent is posting ready status', lastHeartbeatTime: now, lastTransitionTime: registered },
  ];
  const resources: Record<string, string> = {
    cpu: options.cpu ?? '8',
    memory: options.memory ?? '32Gi',
    pods: String(options.maxPods ?? 110),
    'ephemeral-storage': '100Gi',
    'nvidia.com/gpu': String(options.gpus ?? 0),
  };
  const node: V1Node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: nodeName,
      labels: { 'kubernetes.io/hostname': nodeName, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', 'nexus.dev/local-node-agent': 'true' },
    },
    spec: {},
  };
  const nodeStatus = (now: Date): { status: V1Node['status'] } => ({
    status: {
      capacity: resources,
      allocatable: resources,
      conditions: nodeConditions(now),
      addresses: [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: nodeName }],
      nodeInfo: {
        machineID: nodeName, systemUUID: nodeName, bootID: String(registered.getTime()), kernelVersion: '', osImage: 'nexus local node agent',
        containerRuntimeVersion: 'nexus-local://1', kubeletVersion: 'v1.34.4', kubeProxyVersion: '', operatingSystem: 'linux', architecture: 'amd64',
      },
    },
  });
  try {
    await core.createNode({ body: node });
  } catch (error) {
    if (apiCode(error) !== 409) throw error;
  }
  await core.patchNodeStatus({ name: nodeName, body: nodeStatus(new Date()) }, mergePatch);
  // The TaintNodesByCondition admission plugin taints every new Node not-ready; the node-lifecycle controller (which
  // the test control plane leaves out) would lift it once Ready. Lift it here, as that controller would.
  const registeredNode = await core.readNode({ name: nodeName });
  const taints = registeredNode.spec?.taints ?? [];
  const kept = taints.filter((taint) => taint.key !== 'node.kubernetes.io/not-ready' && taint.key !== 'node.kubernetes.io/unreachable');
  if (kept.length !== taints.length) {
    await core.patchNode({ name: nodeName, body: { spec: { taints: kept.length > 0 ? kept : null } } }, mergePatch);
  }

  const renewLease = async (): Promise<void> => {
    const renewTime = microTime(new Date());
    try {
      await coordination.patchNamespacedLease({ name: nodeName, namespace: 'kube-node-lease', body: { spec: { renewTime } } }, mergePatch);
    } catch (error) {
      if (apiCode(error) !== 404) throw error;
      const lease: V1Lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: nodeName, namespace: 'kube-node-lease' },
        spec: { holderIdentity: nodeName, leaseDurationSeconds: 40 },
      };
      await coordination.createNamespacedLease({ namespace: 'kube-node-lease', body: lease });
      await coordination.patchNamespacedLease({ name: nodeName, namespace: 'kube-node-lease', body: { spec: { renewTime } } }, mergePatch);
    }
  };
  await renewLease();
  const heartbeat = setInterval(() => {
    void (async () => {
      try {
        await renewLease();
        await core.patchNodeStatus({ name: nodeName, body: { status: { conditions: nodeConditions(new Date()) } } }, mergePatch);
      } catch (error) {
        if (!stopped) log(`Node agent heartbeat failed node=${nodeName} error=${String(error)}`);
      }
    })();
  }, heartbeatMs);
  timers.add(heartbeat);

  // ---- IPs -----------------------------------------------------------------------------------------------
  const allocateIp = (): string => {
    for (let octet = firstIp; octet <= lastIp; octet++) {
      if (!usedIps.has(octet)) {
        usedIps.add(octet);
        return `127.0.0.${octet}`;
      }
    }
    throw new Error('no free loopback IP in 127.0.0.2..127.0.0.254');
  };
  const freeIp = (ip: string): void => {
    usedIps.delete(Number(ip.split('.')[3]));
  };

  // ---- Pod status ----------------------------------------------------------------------------------------
  const enqueue = (state: PodState, work: () => Promise<void>): Promise<void> => {
    state.queue = state.queue.then(work).catch((error: unknown) => {
      if (!stopped) log(`Node agent error pod=${state.key} error=${String(error)}`);
    });
    return state.queue;
  };

  const condition = (type: string, value: boolean, at: Date): V1PodCondition => ({
    type, status: value ? 'True' : 'False', lastTransitionTime: at,
  });

  const reportStatus = async (state: PodState, containerStatus: V1ContainerStatus, phase: string, reason?: string): Promise<void> => {
    if (stopped) return;
    const running = containerStatus.state?.running !== undefined;
    const ready = running && state.ready;
    const status: V1PodStatus = {
      phase,
      hostIP: '127.0.0.1',
      hostIPs: [{ ip: '127.0.0.1' }],
      podIP: state.ip,
      podIPs: [{ ip: state.ip }],
      startTime: state.created,
      ...(state.pod.status?.qosClass === undefined ? {} : { qosClass: state.pod.status.qosClass }),
      conditions: [
        condition('PodScheduled', true, state.created),
        condition('Initialized', true, state.created),
        condition('ContainersReady', ready, state.readyChanged),
        condition('Ready', ready, state.readyChanged),
      ],
      containerStatuses: [containerStatus],
    };
    if (reason !== undefined) status.reason = reason;
    try {
      await core.patchNamespacedPodStatus({ name: state.name, namespace: state.namespace, body: { status } }, mergePatch);
    } catch (error) {
      if (apiCode(error) !== 404 && !stopped) throw error;
    }
  };

  const baseContainerStatus = (state: PodState): V1ContainerStatus => {
    const status: V1ContainerStatus = {
      name: state.container.name,
      image: state.container.image ?? '',
      imageID: `nexus-local://${state.container.image ?? ''}`,
      ready: false,
      restartCount: state.restartCount,
      started: false,
    };
    if (state.lastTerminated !== undefined) status.lastState = { terminated: state.lastTerminated };
    return status;
  };

  const reportRunning = (state: PodState): Promise<void> => {
    const status = baseContainerStatus(state);
    status.containerID = `nexus-local://${state.child?.pid ?? 0}`;
    status.ready = state.ready;
    status.started = true;
    status.state = { running: { startedAt: state.startedAt ?? new Date() } };
    return reportStatus(state, status, 'Running');
  };

  const reportWaiting = (state: PodState, reason: string, message: string): Promise<void> => {
    const status = baseContainerStatus(state);
    status.state = { waiting: { reason, message } };
    return reportStatus(state, status, 'Pending');
  };

  // ---- Engine processes ----------------------------------------------------------------------------------
  const readinessPort = (container: V1Container): number => {
    const port = container.readinessProbe?.httpGet?.port;
    if (typeof port === 'number') return port;
    if (typeof port === 'string') {
      const named = container.ports?.find((candidate) => candidate.name === port);
      if (named !== undefined) return named.containerPort;
      if (/^\d+$/.test(port)) return Number(port);
    }
    return 9100;
  };
  const readinessPath = (container: V1Container): string => container.readinessProbe?.httpGet?.path ?? '/readyz';

  /** Writes the ConfigMap volumes into the pod directory; returns mountPath -> host path (longest first). */
  const materialiseVolumes = async (state: PodState, dir: string): Promise<Array<[string, string]>> => {
    const mappings: Array<[string, string]> = [];
    const volumes = state.pod.spec?.volumes ?? [];
    let index = 0;
    for (const mount of state.container.volumeMounts ?? []) {
      const volume = volumes.find((candidate) => candidate.name === mount.name);
      const source = volume?.configMap;
      if (source === undefined) continue;
      const configMap = await core.readNamespacedConfigMap({ name: source.name ?? '', namespace: state.namespace });
      const volumeDir = join(dir, 'volumes', `${index++}-${mount.name}`);
      mkdirSync(volumeDir, { recursive: true });
      const files: Array<[string, string | Buffer]> = [];
      const data = configMap.data ?? {};
      const binary = configMap.binaryData ?? {};
      if (source.items !== undefined && source.items.length > 0) {
        for (const item of source.items) {
          if (item.key in data) files.push([item.path, data[item.key]]);
          else if (item.key in binary) files.push([item.path, Buffer.from(binary[item.key], 'base64')]);
        }
      } else {
        for (const [key, value] of Object.entries(data)) files.push([key, value]);
        for (const [key, value] of Object.entries(binary)) files.push([key, Buffer.from(value, 'base64')]);
      }
      for (const [path, content] of files) {
        const target = join(volumeDir, path);
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, content);
      }
      const hostPath = mount.subPath !== undefined && mount.subPath !== '' ? join(volumeDir, mount.subPath) : volumeDir;
      mappings.push([mount.mountPath.replace(/\/+$/, ''), hostPath]);
    }
    return mappings.sort((a, b) => b[0].length - a[0].length);
  };

  const rewritePaths = (value: string, mappings: Array<[string, string]>): string => {
    for (const [mountPath, hostPath] of mappings) {
      const escaped = mountPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const pattern = new RegExp(`(^|=)${escaped}(?=/|$)`);
      if (pattern.test(value)) return value.replace(pattern, (_match, prefix: string) => `${prefix}${hostPath}`);
    }
    return value;
  };

  const fieldValue = (state: PodState, path: string): string | undefined => {
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
  };

  const readinessProbe = (state: PodState): void => {
    const url = `http://${state.ip}:${readinessPort(state.container)}${readinessPath(state.container)}`;
    const timer = setInterval(() => {
      void (async () => {
        let ready = false;
        try {
          const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
          await response.arrayBuffer();
          ready = response.status >= 200 && response.status < 400;
        } catch {
          ready = false;
        }
        if (state.terminating || stopped || state.readinessTimer !== timer || ready === state.ready) return;
        state.ready = ready;
        state.readyChanged = new Date();
        log(`Node agent pod=${state.key} ready=${ready}`);
        await enqueue(state, () => reportRunning(state));
      })();
    }, 500);
    state.readinessTimer = timer;
    timers.add(timer);
  };

  const stopReadinessProbe = (state: PodState): void => {
    if (state.readinessTimer !== undefined) {
      clearInterval(state.readinessTimer);
      timers.delete(state.readinessTimer);
      state.readinessTimer = undefined;
    }
  };

  const launch = async (state: PodState, mappings: Array<[string, string]>): Promise<void> => {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR ?? tmpdir(), LANG: process.env.LANG,
      HOSTNAME: state.name,
    };
    for (const entry of state.container.env ?? []) {
      if (entry.value !== undefined) env[entry.name] = rewritePaths(entry.value, mappings);
      else if (entry.valueFrom?.fieldRef !== undefined) {
        const value = fieldValue(state, entry.valueFrom.fieldRef.fieldPath);
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
    const args = (state.container.args ?? []).map((arg) => rewritePaths(arg, mappings));
    const child = spawn(process.execPath, [nexusBin, 'engine', ...args], { env, cwd: state.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    state.child = child;
    state.startedAt = new Date();
    state.ready = false;
    state.readyChanged = state.startedAt;
    state.logTail = '';
    const append = (chunk: Buffer): void => {
      const text = state.logTail + chunk.toString();
      state.logTail = text.length > 8_000 ? text.slice(-8_000) : text;
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    child.once('exit', (code, signal) => {
      if (state.child === child) void enqueue(state, () => onExit(state, child, code, signal));
    });
    child.once('error', (error) => log(`Node agent spawn failed pod=${state.key} error=${error.message}`));
    log(`Node agent started pod=${state.key} ip=${state.ip} pid=${child.pid ?? 0}`);
    await reportRunning(state);
    readinessProbe(state);
  };

  const onExit = async (state: PodState, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): Promise<void> => {
    stopReadinessProbe(state);
    state.ready = false;
    state.readyChanged = new Date();
    if (state.terminating || stopped) return;
    const exitCode = code ?? (signal !== null ? 128 + (signal === 'SIGKILL' ? 9 : 15) : 1);
    const reason = exitCode === 0 ? 'Completed' : 'Error';
    const finishedAt = new Date();
    const terminated = { exitCode, reason, startedAt: state.startedAt ?? finishedAt, finishedAt };
    log(`Node agent container exited pod=${state.key} pid=${child.pid ?? 0} exitCode=${exitCode}`);
    const policy = state.pod.spec?.restartPolicy ?? 'Always';
    const restart = (policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0)) && state.restartCount < maxRestarts;
    if (restart) {
      state.lastTerminated = terminated;
      state.restartCount += 1;
      await sleep(1_000);
      if (state.terminating || stopped) return;
      await launch(state, await materialiseVolumes(state, state.dir ?? mkdtempSync(join(tmpdir(), 'nexus-pod-'))));
      return;
    }
    state.child = undefined;
    const status = baseContainerStatus(state);
    status.state = { terminated: { ...terminated, message: state.logTail.slice(-2_000) } };
    await reportStatus(state, status, exitCode === 0 && policy !== 'Always' ? 'Succeeded' : 'Failed');
  };

  const startPod = async (state: PodState): Promise<void> => {
    const image = state.container.image ?? '';
    if (!isEngine(image)) {
      log(`Node agent cannot run pod=${state.key} image=${image}`);
      await reportWaiting(state, 'ImageNotRunnable', `the local node agent runs only the Nexus engine image; got ${image}`);
      return;
    }
    state.dir = mkdtempSync(join(tmpdir(), `nexus-pod-${state.name}-`));
    let mappings: Array<[string, string]> | undefined;
    for (let attempt = 0; mappings === undefined; attempt++) {
      try {
        mappings = await materialiseVolumes(state, state.dir);
      } catch (error) {
        if (attempt >= 20 || state.terminating || stopped) {
          await reportWaiting(state, 'CreateContainerConfigError', `volumes: ${String(error)}`);
          return;
        }
        await sleep(500);
      }
    }
    if (state.terminating || stopped) return;
    await launch(state, mappings);
  };

  // ---- Termination ---------------------------------------------------------------------------------------
  /** Stops the process: SIGTERM, then SIGKILL after `graceSeconds`; resolves once it has exited. */
  const killProcess = async (state: PodState, graceSeconds: number): Promise<void> => {
    stopReadinessProbe(state);
    const child = state.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), Math.max(0, graceSeconds) * 1_000);
    await exited;
    clearTimeout(timer);
    log(`Node agent stopped pod=${state.key} pid=${child.pid ?? 0} exitCode=${child.exitCode ?? child.signalCode}`);
  };

  const release = (state: PodState): void => {
    pods.delete(state.uid);
    freeIp(state.ip);
    if (state.dir !== undefined) rmSync(state.dir, { recursive: true, force: true });
  };

  const deletePodNow = async (namespace: string, name: string, uid: string): Promise<void> => {
    try {
      await core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0, body: { gracePeriodSeconds: 0, preconditions: { uid } } });
    } catch (error) {
      const code = apiCode(error);
      if (code !== 404 && code !== 409) throw error;
    }
  };

  const terminatePod = (state: PodState, pod: V1Pod): void => {
    if (state.terminating) return;
    state.terminating = true;
    log(`Node agent terminating pod=${state.key}`);
    const grace = Math.min(pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30, maxGrace);
    void enqueue(state, async () => {
      await killProcess(state, grace);
      await deletePodNow(state.namespace, state.name, state.uid);
      release(state);
      log(`Node agent deleted pod=${state.key} ip=${state.ip}`);
    });
  };

  /** The Pod is gone from the API (deleted with grace 0 by someone else): stop its process and forget it. */
  const forgetPod = (state: PodState): void => {
    if (state.terminating) return;
    state.terminating = true;
    void enqueue(state, async () => {
      await killProcess(state, 0);
      release(state);
    });
  };

  // ---- Watching ------------------------------------------------------------------------------------------
  const handlePod = (pod: V1Pod): void => {
    const uid = pod.metadata?.uid ?? '';
    const namespace = pod.metadata?.namespace ?? 'default';
    const name = pod.metadata?.name ?? '';
    const existing = pods.get(uid);
    if (pod.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null) {
      if (existing !== undefined) terminatePod(existing, pod);
      else void deletePodNow(namespace, name, uid).catch((error: unknown) => log(`Node agent delete failed pod=${namespace}/${name} error=${String(error)}`));
      return;
    }
    if (existing !== undefined) return;
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return;
    const container = pod.spec?.containers?.[0];
    if (container === undefined) return;
    const created = new Date();
    const state: PodState = {
      key: `${namespace}/${name}`, uid, namespace, name, pod, container, ip: allocateIp(), created,
      dir: undefined, child: undefined, startedAt: undefined, ready: false, readyChanged: created, restartCount: 0,
      lastTerminated: undefined, terminating: false, readinessTimer: undefined, queue: Promise.resolve(), logTail: '',
    };
    pods.set(uid, state);
    void enqueue(state, () => startPod(state));
  };

  const fieldSelector = `spec.nodeName=${nodeName}`;
  /** Lists, reconciles the Pods it knows against the list, then watches from the list's resourceVersion. */
  const listAndWatch = async (): Promise<void> => {
    if (stopped) return;
    try {
      const list = await core.listPodForAllNamespaces({ fieldSelector });
      const seen = new Set<string>();
      for (const pod of list.items) {
        seen.add(pod.metadata?.uid ?? '');
        handlePod(pod);
      }
      for (const state of [...pods.values()]) if (!seen.has(state.uid)) forgetPod(state);
      await watchFrom(list.metadata?.resourceVersion);
    } catch (error) {
      if (!stopped) log(`Node agent list failed node=${nodeName} error=${String(error)}; retrying`);
      scheduleRelist();
    }
  };
  /**
   * Watches from `resourceVersion`. The server ends each watch after `timeoutSeconds` (below the client's 30 s
   * inactivity limit): a clean end resumes from the last resourceVersion seen; an error (410 Gone included)
   * re-lists.
   */
  const watchFrom = async (resourceVersion: string | undefined): Promise<void> => {
    if (stopped) return;
    let lastVersion = resourceVersion;
    let failed = false;
    let ended = false;
    const end = (): void => {
      if (ended || stopped) return;
      ended = true;
      log(`Node agent watch restart node=${nodeName} failed=${failed} resourceVersion=${lastVersion ?? ''}`);
      if (failed) scheduleRelist();
      else void watchFrom(lastVersion).catch(() => scheduleRelist());
    };
    watchAbort = await new Watch(kc).watch(
      '/api/v1/pods',
      { fieldSelector, resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 20 },
      (type: string, pod: V1Pod) => {
        if (type === 'ERROR') {
          failed = true;
          log(`Node agent watch error node=${nodeName} status=${JSON.stringify(pod)}; re-listing`);
          watchAbort?.abort();
          end();
          return;
        }
        lastVersion = pod.metadata?.resourceVersion ?? lastVersion;
        if (type === 'ADDED' || type === 'MODIFIED') handlePod(pod);
        else if (type === 'DELETED') {
          const state = pods.get(pod.metadata?.uid ?? '');
          if (state !== undefined) forgetPod(state);
        }
      },
      (error: unknown) => {
        if (stopped) return;
        if (error !== null && error !== undefined) {
          failed = true;
          log(`Node agent watch ended node=${nodeName} error=${String(error)}; re-listing`);
        }
        end();
      },
    );
    if (stopped) watchAbort.abort();
  };
  const scheduleRelist = (): void => {
    if (stopped) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      void listAndWatch();
    }, 1_000);
    timers.add(timer);
  };
  await listAndWatch();
  log(`Node agent registered node=${nodeName} gpus=${resources['nvidia.com/gpu']}`);

  return {
    nodeName,
    pids: () => {
      const result = new Map<string, number>();
      for (const state of pods.values()) {
        const child = state.child;
        if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) result.set(state.key, child.pid);
      }
      return result;
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      watchAbort?.abort();
      for (const timer of timers) {
        clearInterval(timer);
        clearTimeout(timer);
      }
      timers.clear();
      const all = [...pods.values()];
      await Promise.all(all.map((state) => {
        state.terminating = true;
        return killProcess(state, 5);
      }));
      for (const state of all) release(state);
      process.off('exit', killChildren);
      log(`Node agent stopped node=${nodeName}`);
    },
  };
}
