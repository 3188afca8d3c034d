import type { V1ContainerStatus, V1PodCondition, V1PodStatus } from '@kubernetes/client-node';
import type { PodState, Terminated } from './pod-state.ts';

/**
 * The Pod status the node agent reports, as a kubelet would write it: pure functions of the Pod's state (the agent
 * patches the result). The Pod and its one container are Ready only while the process runs and answers its
 * readiness probe; the Pod IP is its loopback address and the host IP 127.0.0.1.
 */

const condition = (type: string, value: boolean, at: Date): V1PodCondition => ({
  type, status: value ? 'True' : 'False', lastTransitionTime: at,
});

/** The Pod status around `containerStatus`, in `phase` (with `reason` when given). */
export function podStatus(state: PodState, containerStatus: V1ContainerStatus, phase: string, reason?: string): V1PodStatus {
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
  return status;
}

function baseContainerStatus(state: PodState): V1ContainerStatus {
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
}

/** The container running as the state's process (its pid in the container ID), ready as last probed. */
export function runningContainer(state: PodState): V1ContainerStatus {
  const status = baseContainerStatus(state);
  status.containerID = `nexus-local://${state.child?.pid ?? 0}`;
  status.ready = state.ready;
  status.started = true;
  status.state = { running: { startedAt: state.startedAt ?? new Date() } };
  return status;
}

export function waitingContainer(state: PodState, reason: string, message: string): V1ContainerStatus {
  const status = baseContainerStatus(state);
  status.state = { waiting: { reason, message } };
  return status;
}

/** The container ended for good; `message` is the tail of its output. */
export function terminatedContainer(state: PodState, terminated: Terminated, message: string): V1ContainerStatus {
  const status = baseContainerStatus(state);
  status.state = { terminated: { ...terminated, message } };
  return status;
}
