import { KubeConfig } from '@kubernetes/client-node';

/** A kubeconfig from `path`, else the default chain (in-cluster service account, $KUBECONFIG, ~/.kube/config). */
export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kubeConfig = new KubeConfig();
  if (path !== undefined) kubeConfig.loadFromFile(path);
  else kubeConfig.loadFromDefault();
  return kubeConfig;
}
