import type { KubeConfig } from '@kubernetes/client-node';
import { mayList } from '../operator/kube/discovery.ts';
import { group as engineGroup, plural as enginePlural } from '../operator/api/generated.ts';
import { contextNamespace } from '../operator/kube/rollout-requests.ts';
import { dashboardAssets } from './build.ts';
import { watchEngines } from './server/live-engines.ts';
import { startDashboardServer, type DashboardServer } from './server/server.ts';

export interface DashboardOptions {
  readonly kubeConfig: KubeConfig;
  /** Only these namespaces; undefined: every namespace when the caller may list TradingEngines cluster-wide, else the context's. */
  readonly namespaces?: readonly string[];
  readonly host: string;
  readonly port: number;
  readonly readOnly: boolean;
  /** The session token (at least 32 characters; NEXUS_DASHBOARD_TOKEN for `nexus dashboard`); default random per start. */
  readonly token?: string;
  /** Where the built page is (default build/dashboard, built there when missing or stale). */
  readonly assetsDir?: string;
  /** How long the first list of every watch may take before the dashboard gives up; default 20 s. */
  readonly syncTimeoutMs?: number;
  readonly log: (line: string) => void;
}

export interface RunningDashboard extends DashboardServer {
  /** The namespaces shown: undefined for every namespace. */
  readonly namespaces: readonly string[] | undefined;
  stop(): Promise<void>;
}

/**
 * `nexus dashboard`: the page's files, the watches of what the caller may see, and the local server, as one.
 * Which namespaces: the ones asked for; else every namespace if the caller may list TradingEngines cluster-wide
 * (a SelfSubjectAccessReview); else the kubeconfig context's namespace. Throws, naming the cause, when a watch
 * cannot list (no access, no cluster) within syncTimeoutMs.
 */
export async function startDashboard(options: DashboardOptions): Promise<RunningDashboard> {
  const { kubeConfig, log } = options;
  const namespaces = options.namespaces
    ?? ((await mayList(kubeConfig, engineGroup, enginePlural, undefined)).allowed ? undefined : [contextNamespace(kubeConfig)]);
  const assets = await dashboardAssets(options.assetsDir);
  const live = watchEngines(kubeConfig, namespaces, log);
  const timeoutMs = options.syncTimeoutMs ?? 20_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([live.synced, new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`could not list TradingEngines, engine pods, ReplicaSets and Events in ${namespaces?.join(', ') ?? 'every namespace'} within ${timeoutMs / 1000} s (no access, or no cluster?)`)), timeoutMs);
    })]);
  } catch (error) {
    live.stop();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  let server: DashboardServer;
  try {
    server = await startDashboardServer({
      kubeConfig, context: kubeConfig.getCurrentContext(), live, ...(namespaces === undefined ? {} : { namespaces }),
      host: options.host, port: options.port, readOnly: options.readOnly, assets, log, ...(options.token === undefined ? {} : { token: options.token }),
    });
  } catch (error) {
    // The port taken, the address not this machine's: the watches stop with it.
    live.stop();
    throw error;
  }
  return {
    ...server,
    namespaces,
    async stop() {
      await server.close();
      live.stop();
    },
  };
}
