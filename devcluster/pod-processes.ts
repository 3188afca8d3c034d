import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CoreV1Api, V1Container, V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { nexusBin } from '../cli/lib/processes.ts';
import { apiCode, mergePatch, sleep } from './kube-calls.ts';
import { containerEnv, materialiseVolumes, readinessUrl, rewritePaths, type PathMappings } from './pod-container.ts';
import { newPodState, type PodState } from './pod-state.ts';
import { podStatus, runningContainer, terminatedContainer, waitingContainer } from './pod-status.ts';

/**
 * The node agent's Pods as local processes. A Pod whose first container uses the engine image runs as
 * `node bin/nexus.mjs engine ...args` on its own loopback IP (.2 to .254 of the agent's block, passed as `NEXUS_BIND_HOST`),
 * in a per-pod temporary directory that holds its ConfigMap volumes; it is Ready while its readiness probe
 * answers. Any other image is reported Pending with reason `ImageNotRunnable`. An exited process is restarted
 * per the Pod's restartPolicy, at most `maxRestarts` times, else the Pod is reported Succeeded or Failed.
 *
 * Guarantees:
 * - The operations on one Pod (start, status reports, termination) run one at a time, in order.
 * - `terminate` stops the process (SIGTERM, SIGKILL after the Pod's grace period, capped at
 *   `maxGracePeriodSeconds`) and then deletes the Pod with grace period 0: without a kubelet nothing else finishes
 *   a Pod deletion. Its IP and directory are freed.
 * - `stop()` ends every process started here (by pid) and the readiness timers, and removes the Pod directories;
 *   a process 'exit' hook SIGKILLs any child still running, so no engine outlives this process.
 */
export interface PodProcesses {
  /** Whether the Pod with this uid is known (running, starting or stopping). */
  has(uid: string): boolean;
  uids(): string[];
  /** Starts a Pod bound to this node, running `container`. */
  start(pod: V1Pod, container: V1Container): void;
  /** The Pod has a deletionTimestamp: stop its process, then delete it with grace period 0. */
  terminate(uid: string, pod: V1Pod): void;
  /** The Pod is gone from the API (deleted with grace 0 by someone else): stop its process and forget it. */
  forget(uid: string): void;
  /** Deletes a Pod with grace period 0 (only if its uid still matches); a Pod already gone is no error. */
  deleteNow(namespace: string, name: string, uid: string): Promise<void>;
  /** The engine processes running now: `namespace/name` -> pid. */
  pids(): ReadonlyMap<string, number>;
  stop(): Promise<void>;
}

export interface PodProcessesOptions {
  readonly core: CoreV1Api;
  readonly nodeName: string;
  readonly isEngineImage: (image: string) => boolean;
  readonly maxGracePeriodSeconds: number;
  readonly maxRestarts: number;
  /** The first three octets of the loopback block this agent owns (`claimLoopbackBlock`), e.g. `127.0.0`. */
  readonly addressPrefix: string;
  readonly log: (line: string) => void;
}

const firstIp = 2;
const lastIp = 254;

export function startPodProcesses(options: PodProcessesOptions): PodProcesses {
  const { core, nodeName, log } = options;
  const pods = new Map<string, PodState>();
  const usedIps = new Set<number>();
  let stopped = false;

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

  // ---- IPs -----------------------------------------------------------------------------------------------
  const allocateIp = (): string => {
    for (let octet = firstIp; octet <= lastIp; octet++) {
      if (!usedIps.has(octet)) {
        usedIps.add(octet);
        return `${options.addressPrefix}.${octet}`;
      }
    }
    throw new Error(`no free loopback IP in ${options.addressPrefix}.${firstIp}..${options.addressPrefix}.${lastIp}`);
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

  const report = async (state: PodState, containerStatus: V1ContainerStatus, phase: string, reason?: string): Promise<void> => {
    if (stopped) return;
    const status = podStatus(state, containerStatus, phase, reason);
    try {
      await core.patchNamespacedPodStatus({ name: state.name, namespace: state.namespace, body: { status } }, mergePatch);
    } catch (error) {
      if (apiCode(error) !== 404 && !stopped) throw error;
    }
  };
  const reportRunning = (state: PodState): Promise<void> => report(state, runningContainer(state), 'Running');
  const reportWaiting = (state: PodState, reason: string, message: string): Promise<void> =>
    report(state, waitingContainer(state, reason, message), 'Pending');

  // ---- Engine processes ----------------------------------------------------------------------------------
  const readinessProbe = (state: PodState): void => {
    const url = readinessUrl(state);
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
  };

  const stopReadinessProbe = (state: PodState): void => {
    if (state.readinessTimer !== undefined) {
      clearInterval(state.readinessTimer);
      state.readinessTimer = undefined;
    }
  };

  const launch = async (state: PodState, mappings: PathMappings): Promise<void> => {
    // The termination message file, as the kubelet mounts /dev/termination-log: the engine writes it on a fatal error.
    const env = { ...(await containerEnv(core, state, mappings, nodeName, log)), NEXUS_TERMINATION_LOG: terminationLogOf(state) };
    writeFileSync(terminationLogOf(state), '');
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
    const message = terminationMessage(state, exitCode);
    const terminated = { exitCode, reason, startedAt: state.startedAt ?? finishedAt, finishedAt, ...(message === undefined ? {} : { message }) };
    log(`Node agent container exited pod=${state.key} pid=${child.pid ?? 0} exitCode=${exitCode}`);
    const policy = state.pod.spec?.restartPolicy ?? 'Always';
    const restart = (policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0)) && state.restartCount < options.maxRestarts;
    if (restart) {
      state.lastTerminated = terminated;
      state.restartCount += 1;
      await sleep(1_000);
      if (state.terminating || stopped) return;
      await launch(state, await materialiseVolumes(core, state, state.dir ?? mkdtempSync(join(tmpdir(), 'nexus-pod-'))));
      return;
    }
    state.child = undefined;
    const status = terminatedContainer(state, terminated, terminated.message ?? state.logTail.slice(-2_000));
    await report(state, status, exitCode === 0 && policy !== 'Always' ? 'Succeeded' : 'Failed');
  };

  const startPod = async (state: PodState): Promise<void> => {
    const image = state.container.image ?? '';
    if (!options.isEngineImage(image)) {
      log(`Node agent cannot run pod=${state.key} image=${image}`);
      await reportWaiting(state, 'ImageNotRunnable', `the local node agent runs only the Nexus engine image; got ${image}`);
      return;
    }
    state.dir = mkdtempSync(join(tmpdir(), `nexus-pod-${state.name}-`));
    let mappings: PathMappings | undefined;
    for (let attempt = 0; mappings === undefined; attempt++) {
      try {
        mappings = await materialiseVolumes(core, state, state.dir);
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

  const deleteNow = async (namespace: string, name: string, uid: string): Promise<void> => {
    try {
      await core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0, body: { gracePeriodSeconds: 0, preconditions: { uid } } });
    } catch (error) {
      const code = apiCode(error);
      if (code !== 404 && code !== 409) throw error;
    }
  };

  return {
    has: (uid) => pods.has(uid),
    uids: () => [...pods.keys()],
    start: (pod, container) => {
      const state = newPodState(pod, container, allocateIp());
      pods.set(state.uid, state);
      void enqueue(state, () => startPod(state));
    },
    terminate: (uid, pod) => {
      const state = pods.get(uid);
      if (state === undefined || state.terminating) return;
      state.terminating = true;
      log(`Node agent terminating pod=${state.key}`);
      const grace = Math.min(pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30, options.maxGracePeriodSeconds);
      void enqueue(state, async () => {
        await killProcess(state, grace);
        await deleteNow(state.namespace, state.name, state.uid);
        release(state);
        log(`Node agent deleted pod=${state.key} ip=${state.ip}`);
      });
    },
    forget: (uid) => {
      const state = pods.get(uid);
      if (state === undefined || state.terminating) return;
      state.terminating = true;
      void enqueue(state, async () => {
        await killProcess(state, 0);
        release(state);
      });
    },
    deleteNow,
    pids: () => {
      const result = new Map<string, number>();
      for (const state of pods.values()) {
        const child = state.child;
        if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) result.set(state.key, child.pid);
      }
      return result;
    },
    stop: async () => {
      stopped = true;
      const all = [...pods.values()];
      for (const state of all) stopReadinessProbe(state);
      await Promise.all(all.map((state) => {
        state.terminating = true;
        return killProcess(state, 5);
      }));
      for (const state of all) release(state);
      process.off('exit', killChildren);
    },
  };
}

/** Where a pod's engine writes its termination message (in the pod's own directory). */
function terminationLogOf(state: PodState): string {
  return join(state.dir ?? tmpdir(), 'termination-log');
}

/**
 * The container's termination message as the kubelet reports it under `terminationMessagePolicy:
 * FallbackToLogsOnError` (what the operator renders): the termination log when the container wrote one, else, when it
 * failed, the last 2,048 bytes of its output; undefined when neither applies.
 */
function terminationMessage(state: PodState, exitCode: number): string | undefined {
  let written = '';
  try {
    written = readFileSync(terminationLogOf(state), 'utf8').trim();
  } catch {
    written = '';
  }
  if (written !== '') return written.slice(0, 4_096);
  if (exitCode === 0) return undefined;
  const tail = state.logTail.trim();
  return tail === '' ? undefined : tail.slice(-2_048);
}
