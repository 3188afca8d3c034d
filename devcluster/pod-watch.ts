import { Watch, type CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { PodProcesses } from './pod-processes.ts';

/**
 * The node agent's view of the Pods bound to its Node (`spec.nodeName`): a list, then a watch from the list's
 * resourceVersion, each Pod handed to the processes: a new Pod (not Succeeded or Failed) is started, a Pod with a
 * deletionTimestamp terminated (deleted at once if nothing runs for it), a Pod gone from the API forgotten.
 *
 * Guarantees: a watch that ends cleanly resumes from the last resourceVersion seen; one that fails (410 Gone
 * included) is followed, a second later, by a fresh list (which forgets the Pods missing from it) and a new
 * watch. `stop()` aborts the watch and cancels a pending re-list.
 */
export interface PodWatch {
  stop(): void;
}

export interface PodWatchOptions {
  readonly kubeConfig: KubeConfig;
  readonly core: CoreV1Api;
  readonly nodeName: string;
  readonly processes: PodProcesses;
  readonly log: (line: string) => void;
}

/** Lists the node's Pods, hands them to `processes`, and watches; resolves once the first list is handled. */
export async function watchPods(options: PodWatchOptions): Promise<PodWatch> {
  const { core, nodeName, processes, log } = options;
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;
  let watchAbort: AbortController | undefined;

  const handlePod = (pod: V1Pod): void => {
    const uid = pod.metadata?.uid ?? '';
    const namespace = pod.metadata?.namespace ?? 'default';
    const name = pod.metadata?.name ?? '';
    const known = processes.has(uid);
    if (pod.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null) {
      if (known) processes.terminate(uid, pod);
      else void processes.deleteNow(namespace, name, uid).catch((error: unknown) => log(`Node agent delete failed pod=${namespace}/${name} error=${String(error)}`));
      return;
    }
    if (known) return;
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return;
    const container = pod.spec?.containers?.[0];
    if (container === undefined) return;
    processes.start(pod, container);
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
      for (const uid of processes.uids()) if (!seen.has(uid)) processes.forget(uid);
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
    watchAbort = await new Watch(options.kubeConfig).watch(
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
        else if (type === 'DELETED') processes.forget(pod.metadata?.uid ?? '');
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

  return {
    stop: () => {
      stopped = true;
      watchAbort?.abort();
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}
