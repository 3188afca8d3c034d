import { ApiException, CoordinationV1Api, KubeConfig, V1MicroTime, type V1Lease } from '@kubernetes/client-node';
import { LeaseConflictError, type LeaseRecord, type LeaseStore } from '../runtime/leader-elector.ts';

/**
 * The LeaseStore of one coordination.k8s.io/v1 Lease on the API server (client-go resourcelock.LeaseLock).
 *
 * Guarantees:
 * - `get` maps 404 to `undefined`; `create` maps 409 (AlreadyExists) and `update` maps 409 (Conflict) and 404
 *   (deleted meanwhile) to `LeaseConflictError`; every other failure is rethrown as the client's `ApiException`.
 * - `update` is a replace carrying `record.resourceVersion`, so the API server rejects it if anyone wrote since.
 *   It keeps what it last saw of the object besides the record (labels, annotations, other spec fields).
 * - acquireTime and renewTime are written as MicroTime (six fractional digits), which the API server requires.
 */
export class KubeLeaseStore implements LeaseStore {
  private readonly api: CoordinationV1Api;
  /** The object as last read or written, so a replace keeps fields the record does not model. */
  private last: V1Lease | undefined;

  constructor(
    source: KubeConfig | CoordinationV1Api,
    readonly namespace: string,
    readonly name: string,
  ) {
    this.api = source instanceof KubeConfig ? source.makeApiClient(CoordinationV1Api) : source;
  }

  async get(): Promise<LeaseRecord | undefined> {
    try {
      return this.remember(await this.api.readNamespacedLease({ name: this.name, namespace: this.namespace }));
    } catch (error) {
      if (apiCode(error) === 404) return undefined;
      throw error;
    }
  }

  async create(record: LeaseRecord): Promise<LeaseRecord> {
    const body: V1Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.name, namespace: this.namespace },
      spec: leaseSpec(record),
    };
    try {
      return this.remember(await this.api.createNamespacedLease({ namespace: this.namespace, body }));
    } catch (error) {
      if (apiCode(error) === 409) throw new LeaseConflictError(`Lease ${this.namespace}/${this.name} exists already`);
      throw error;
    }
  }

  async update(record: LeaseRecord): Promise<LeaseRecord> {
    const base = this.last?.metadata?.resourceVersion === record.resourceVersion ? this.last : undefined;
    const body: V1Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { ...base?.metadata, name: this.name, namespace: this.namespace, resourceVersion: record.resourceVersion },
      spec: { ...base?.spec, ...leaseSpec(record) },
    };
    try {
      return this.remember(await this.api.replaceNamespacedLease({ name: this.name, namespace: this.namespace, body }));
    } catch (error) {
      const code = apiCode(error);
      if (code === 409 || code === 404) {
        throw new LeaseConflictError(`Lease ${this.namespace}/${this.name} changed since resourceVersion ${record.resourceVersion ?? '(none)'}`);
      }
      throw error;
    }
  }

  private remember(lease: V1Lease): LeaseRecord {
    this.last = lease;
    return leaseRecord(lease);
  }
}

/** The record of a Lease; a field a foreign writer left out reads as empty. */
export function leaseRecord(lease: V1Lease): LeaseRecord {
  const spec = lease.spec ?? {};
  return {
    holderIdentity: spec.holderIdentity ?? '',
    leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
    acquireTime: readTime(spec.acquireTime),
    renewTime: readTime(spec.renewTime),
    leaseTransitions: spec.leaseTransitions ?? 0,
    resourceVersion: lease.metadata?.resourceVersion,
  };
}

function leaseSpec(record: LeaseRecord): NonNullable<V1Lease['spec']> {
  return {
    holderIdentity: record.holderIdentity,
    leaseDurationSeconds: record.leaseDurationSeconds,
    acquireTime: microTime(record.acquireTime),
    renewTime: microTime(record.renewTime),
    leaseTransitions: record.leaseTransitions,
  };
}

/** V1MicroTime serialises with six fractional digits ('.123000Z'); a plain Date would send three, which is refused. */
function microTime(date: Date | undefined): V1MicroTime | undefined {
  return date === undefined ? undefined : new V1MicroTime(date.getTime());
}

/** The client types MicroTime as a Date but hands back the JSON string; accept either. */
function readTime(value: Date | string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value instanceof Date ? value.getTime() : value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function apiCode(error: unknown): number {
  return error instanceof ApiException ? error.code : 0;
}
