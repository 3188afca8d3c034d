import type { ChildProcess } from 'node:child_process';
import type { V1Container, V1Pod } from '@kubernetes/client-node';

/** How a container's last run ended, as the Pod status reports it. */
export interface Terminated {
  readonly exitCode: number;
  readonly reason: string;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  /** The container's termination message (its termination log, or the end of its output on a failure). */
  readonly message?: string;
}

/** What the node agent knows of one Pod it runs: the Pod as first seen, its loopback IP and its engine process. */
export interface PodState {
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
  lastTerminated: Terminated | undefined;
  terminating: boolean;
  readinessTimer: NodeJS.Timeout | undefined;
  /** Serialises the operations on this Pod (start, status reports, termination). */
  queue: Promise<void>;
  logTail: string;
}

/** A Pod just seen, before anything runs for it. */
export function newPodState(pod: V1Pod, container: V1Container, ip: string): PodState {
  const uid = pod.metadata?.uid ?? '';
  const namespace = pod.metadata?.namespace ?? 'default';
  const name = pod.metadata?.name ?? '';
  const created = new Date();
  return {
    key: `${namespace}/${name}`, uid, namespace, name, pod, container, ip, created,
    dir: undefined, child: undefined, startedAt: undefined, ready: false, readyChanged: created, restartCount: 0,
    lastTerminated: undefined, terminating: false, readinessTimer: undefined, queue: Promise.resolve(), logTail: '',
  };
}
