import { KubeConfig } from '@kubernetes/client-node';

/**
 * A kubeconfig from `path`, else the default chain (in-cluster service account, $KUBECONFIG, ~/.kube/config), at
 * `context` when one is named (as kubectl --context); throws naming the contexts there are when it is not one.
 */
export function loadKubeConfig(path: string | undefined, context?: string): KubeConfig {
  const kubeConfig = new KubeConfig();
  if (path !== undefined) kubeConfig.loadFromFile(path);
  else kubeConfig.loadFromDefault();
  if (context !== undefined) {
    const names = kubeConfig.getContexts().map((entry) => entry.name);
    if (!names.includes(context)) throw new Error(`no context ${JSON.stringify(context)} in the kubeconfig (contexts: ${names.join(', ') || 'none'})`);
    kubeConfig.setCurrentContext(context);
  }
  return kubeConfig;
}
