import type { CoordinationV1Api, CoreV1Api, V1Lease, V1Node, V1NodeCondition } from '@kubernetes/client-node';
import { apiCode, mergePatch } from './kube-calls.ts';

/**
 * The node agent's Node: created (or found) with the given capacity, its Ready status posted, the not-ready taint
 * that admission puts on every new Node lifted, and then kept Ready as a kubelet does: the Lease in
 * `kube-node-lease` renewed and the Ready condition re-posted every `heartbeatMs`.
 *
 * Guarantees: `registerNode` resolves only once the Node is Ready, untainted and its Lease renewed; `stop()` ends
 * the heartbeat timer, and a heartbeat that fails after `stop()` is not logged.
 */
export interface NodeRegistration {
  /** The capacity (and allocatable) the Node advertises: cpu, memory, pods, ephemeral-storage, nvidia.com/gpu. */
  readonly resources: Readonly<Record<string, string>>;
  stop(): void;
}

export interface NodeRegistrationOptions {
  readonly core: CoreV1Api;
  readonly coordination: CoordinationV1Api;
  readonly nodeName: string;
  readonly cpu: string;
  readonly memory: string;
  readonly maxPods: number;
  readonly gpus: number;
  readonly heartbeatMs: number;
  readonly log: (line: string) => void;
}

/** A Go-style MicroTime (6 fractional digits), as Lease.spec.renewTime requires. */
function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export async function registerNode(options: NodeRegistrationOptions): Promise<NodeRegistration> {
  const { core, coordination, nodeName, log } = options;
  let stopped = false;
  const registered = new Date();
  const nodeConditions = (now: Date): V1NodeCondition[] => [
    { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'local node agent', lastHeartbeatTime: now, lastTransitionTime: registered },
    { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'local node agent', lastHeartbeatTime: now, lastTransitionTime: registered },
    { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'local node agent', lastHeartbeatTime: now, lastTransitionTime: registered },
    { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'local node agent is posting ready status', lastHeartbeatTime: now, lastTransitionTime: registered },
  ];
  const resources: Record<string, string> = {
    cpu: options.cpu,
    memory: options.memory,
    pods: String(options.maxPods),
    'ephemeral-storage': '100Gi',
    'nvidia.com/gpu': String(options.gpus),
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
  }, options.heartbeatMs);

  return {
    resources,
    stop: () => {
      stopped = true;
      clearInterval(heartbeat);
    },
  };
}
