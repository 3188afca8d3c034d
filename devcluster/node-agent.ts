import { CoordinationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { claimLoopbackBlock } from './loopback-block.ts';
import { registerNode } from './node-registration.ts';
import { startPodProcesses } from './pod-processes.ts';
import { watchPods } from './pod-watch.ts';

/**
 * A small kubelet stand-in for `nexus cluster up`, `nexus demo` and the integration tests (the operator never
 * depends on it): it registers one Node on a real API server (devcluster/control-plane.ts), keeps it Ready with a
 * Lease and Ready-condition heartbeats, and runs the Pods the scheduler binds to it. A Pod whose first container uses the Nexus engine image runs as a
 * real local process (`node bin/nexus.mjs engine ...args`) on its own loopback IP (127.0.0.2..127.0.0.254, or
 * another /24 of 127.0.0.0/8 that no other agent on the machine holds: loopback-block.ts; passed as `NEXUS_BIND_HOST`), with ConfigMap volumes materialised as files in a per-pod temporary directory. Any other
 * image is reported Pending with reason `ImageNotRunnable`.
 *
 * Guarantees:
 * - A Pod that gets a deletionTimestamp is stopped (SIGTERM, SIGKILL after its grace period, capped) and then
 *   deleted with grace period 0: without a kubelet nothing else finishes a Pod deletion.
 * - `stop()` ends every process this agent started (by pid), its watch and its timers; a process 'exit' hook
 *   SIGKILLs any child still running, so no engine outlives the process that started it.
 * - A watch that ends or fails (410 Gone included) is followed by a fresh list and a new watch.
 *
 * The parts: node-registration.ts (the Node, its Lease and Ready heartbeat), pod-processes.ts (a process per Pod,
 * its loopback IP, readiness, restarts and termination; pod-container.ts, pod-status.ts and pod-state.ts beside it)
 * and pod-watch.ts (the list-and-watch loop that hands Pods to the processes). This module composes them.
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

/**
 * Composes the agent: the pod processes first (their exit hook is in place before anything can start), then the
 * Node registration with its heartbeat, then the list-and-watch of the Node's Pods.
 */
export async function startNodeAgent(options: NodeAgentOptions): Promise<NodeAgent> {
  const nodeName = options.nodeName ?? 'nexus-local-node';
  const log = options.log ?? (() => undefined);

  const kc = new KubeConfig();
  kc.loadFromFile(options.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const coordination = kc.makeApiClient(CoordinationV1Api);

  const block = await claimLoopbackBlock();
  const processes = startPodProcesses({
    core, nodeName, log, addressPrefix: block.prefix,
    isEngineImage: options.isEngineImage ?? defaultEngineImage,
    maxGracePeriodSeconds: options.maxGracePeriodSeconds ?? 10,
    maxRestarts: options.maxRestarts ?? 3,
  });
  const registration = await registerNode({
    core, coordination, nodeName, log,
    cpu: options.cpu ?? '8',
    memory: options.memory ?? '32Gi',
    maxPods: options.maxPods ?? 110,
    gpus: options.gpus ?? 0,
    heartbeatMs: options.heartbeatMs ?? 10_000,
  });
  const watch = await watchPods({ kubeConfig: kc, core, nodeName, processes, log });
  log(`Node agent registered node=${nodeName} gpus=${registration.resources['nvidia.com/gpu']} pods=${block.prefix}.0/24`);

  let stopped = false;
  return {
    nodeName,
    pids: () => processes.pids(),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      // The watch and the heartbeat end before any process is stopped, so nothing restarts or reports one.
      watch.stop();
      registration.stop();
      await processes.stop();
      await block.release();
      log(`Node agent stopped node=${nodeName}`);
    },
  };
}
