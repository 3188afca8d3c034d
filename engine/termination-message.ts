import { existsSync, writeFileSync } from 'node:fs';

/**
 * The container's termination message (Kubernetes reads `/dev/termination-log` when a container ends and shows it
 * as the reason in the pod's status, `kubectl describe` and the operator's conditions). The path is
 * `$NEXUS_TERMINATION_LOG` when set (the local node agent sets it), else the kubelet's default. Written only where
 * the file exists (outside a pod there is none); never throws: the message is a courtesy on the way out.
 */
export function terminationLogPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.NEXUS_TERMINATION_LOG ?? '/dev/termination-log';
}

export function writeTerminationMessage(message: string, env: NodeJS.ProcessEnv = process.env): void {
  const path = terminationLogPath(env);
  try {
    if (existsSync(path)) writeFileSync(path, message.slice(0, 4_096));
  } catch {
    // A read-only or missing file: the pod's log still has the message.
  }
}
