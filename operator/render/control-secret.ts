import type { V1Secret } from '@kubernetes/client-node';
import type { TradingEngine } from '../api/types.ts';
import { controlKeyFiles, type ControlKeySet } from '../../engine/control/control-keys.ts';
import { isZ85Key } from '../../engine/control/z85.ts';
import { ownerReference, withAppliedHash } from './owned.ts';
import { commonLabels } from './labels.ts';


/** The engine's control Secret: `<name>-control`, one per TradingEngine (every revision uses the same keys). */
export function controlSecretName(engine: TradingEngine): string {
  return `${engine.metadata.name ?? ''}-control`;
}

/** Whether the engine has a control socket (an endpoint of role control), and so a control Secret. */
export function hasControlSocket(engine: TradingEngine): boolean {
  return engine.spec.engine.zeromq.endpoints.some((endpoint) => endpoint.role === 'control');
}

/** The key set a Secret holds, when it holds all four keys as valid Z85; undefined otherwise. */
export function controlKeysOf(secret: V1Secret | undefined): ControlKeySet | undefined {
  const data = secret?.data;
  if (data === undefined) return undefined;
  const keys: Record<string, string> = {};
  for (const file of Object.values(controlKeyFiles)) {
    const encoded = data[file];
    const key = encoded === undefined ? '' : Buffer.from(encoded, 'base64').toString('utf8').trim();
    if (!isZ85Key(key)) return undefined;
    keys[file] = key;
  }
  return keys;
}

/**
 * The control Secret holding `keys`: the engine's CURVE key pair and the operator's client key pair. The pod mounts
 * every key but the client's secret one (pod-template.ts); the operator reads the client pair to send commands.
 * Pure: the keys are an input (the Secret's own, or a fresh set the executor generated when it had none).
 */
export function renderControlSecret(engine: TradingEngine, keys: ControlKeySet): V1Secret {
  const data: Record<string, string> = {};
  for (const file of Object.values(controlKeyFiles)) data[file] = Buffer.from(keys[file] ?? '', 'utf8').toString('base64');
  return withAppliedHash<V1Secret>({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: controlSecretName(engine),
      namespace: engine.metadata.namespace,
      labels: commonLabels(engine),
      ownerReferences: [ownerReference(engine)],
    },
    type: 'Opaque',
    data,
  });
}
