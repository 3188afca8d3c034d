import type { V1ConfigMap, V1NetworkPolicy, V1ReplicaSet, V1ReplicaSetStatus, V1Secret, V1Service } from '@kubernetes/client-node';
import { configMaps, networkPolicies, replicaSets, secrets, services } from '../../operator/kube/resources.ts';
import { needsWrite, type Plan } from '../../operator/plan/plan.ts';
import { labelKeys, revisionLabelOf } from '../../operator/render/labels.ts';

/** A ReplicaSet as the simulated API server keeps it. */
export interface StoredReplicaSet {
  /** The object as last applied (without uid, creationTimestamp and generation, which are the server's). */
  object: V1ReplicaSet;
  readonly name: string;
  readonly revision: string;
  readonly uid: string;
  readonly createdMs: number;
  /** metadata.generation: 1 at creation, +1 whenever an apply changes spec.replicas. */
  generation: number;
  /** Deleted by the operator; its pods are still the pod model's to stop. */
  deleted: boolean;
}

interface Stored<T> {
  readonly object: T;
  readonly uid: string;
  readonly createdMs: number;
}

/**
 * Test support: the API server's half of a simulated cluster around the pure `decide`, shared by the rollout test
 * world (test/support/rollout-world.ts) and the rollout benchmark's world (bench/rollout-world.ts), which differ
 * only in how their pods come and go. It keeps the children the operator applied, as the reconciler writes them:
 * an apply is a write only when `needsWrite` says so (new object, changed content or size); a ReplicaSet gets a uid,
 * a creation time and generation 1, and a new generation when its size changes; an apply that would change an
 * immutable ConfigMap's data throws, as the API server refuses it; ConfigMaps, Services, Secrets and
 * NetworkPolicies keep their uid and creation time across applies; a delete removes a ConfigMap, Service, Secret or NetworkPolicy and marks a ReplicaSet deleted (it
 * leaves the listing at once; its pods go as the pod model says). `replicaSetObjects` is what an informer cache
 * would list, with the status the pod model reports.
 */
export class SimulatedApiServer {
  private readonly replicaSetRecords = new Map<string, StoredReplicaSet>();
  private readonly configMapRecords = new Map<string, Stored<V1ConfigMap>>();
  private readonly serviceRecords = new Map<string, Stored<V1Service>>();
  private readonly secretRecords = new Map<string, Stored<V1Secret>>();
  private readonly networkPolicyRecords = new Map<string, Stored<V1NetworkPolicy>>();
  private nextUid = 1;

  /**
   * Carries out a final plan's applies and deletes at `nowMs`. Returns the API writes made (the status write is the
   * caller's) and the ReplicaSets created or resized, which their controller has yet to act on.
   */
  apply(plan: Plan, nowMs: number): { writes: number; changed: StoredReplicaSet[] } {
    let writes = 0;
    const changed: StoredReplicaSet[] = [];
    for (const intent of plan.applies) {
      if (!needsWrite(intent)) continue;
      writes++;
      const name = intent.object.metadata?.name ?? '';
      if (intent.resource.kind === replicaSets.kind) {
        const rs = this.applyReplicaSet(intent.object as V1ReplicaSet, nowMs);
        if (rs !== undefined) changed.push(rs);
      } else if (intent.resource.kind === configMaps.kind) {
        const existing = this.configMapRecords.get(name);
        // As the API server: the data of an immutable ConfigMap cannot change (422 Invalid).
        if (existing?.object.immutable === true && JSON.stringify(existing.object.data) !== JSON.stringify((intent.object as V1ConfigMap).data)) {
          throw new Error(`ConfigMap ${name} is immutable: its data cannot change (the API server answers 422)`);
        }
        this.configMapRecords.set(name, this.stored(existing, intent.object as V1ConfigMap, nowMs));
      } else if (intent.resource.kind === services.kind) {
        this.serviceRecords.set(name, this.stored(this.serviceRecords.get(name), intent.object as V1Service, nowMs));
      } else if (intent.resource.kind === secrets.kind) {
        this.secretRecords.set(name, this.stored(this.secretRecords.get(name), intent.object as V1Secret, nowMs));
      } else if (intent.resource.kind === networkPolicies.kind) {
        this.networkPolicyRecords.set(name, this.stored(this.networkPolicyRecords.get(name), intent.object as V1NetworkPolicy, nowMs));
      }
    }
    for (const removal of plan.deletes) {
      writes++;
      if (removal.resource.kind === replicaSets.kind) {
        const rs = this.replicaSetRecords.get(removal.name);
        if (rs !== undefined) {
          rs.deleted = true;
          rs.object = { ...rs.object, spec: { ...rs.object.spec, replicas: 0, selector: rs.object.spec?.selector ?? {} } };
          changed.push(rs);
        }
      } else if (removal.resource.kind === configMaps.kind) {
        this.configMapRecords.delete(removal.name);
      } else if (removal.resource.kind === services.kind) {
        this.serviceRecords.delete(removal.name);
      } else if (removal.resource.kind === secrets.kind) {
        this.secretRecords.delete(removal.name);
      } else if (removal.resource.kind === networkPolicies.kind) {
        this.networkPolicyRecords.delete(removal.name);
      }
    }
    return { writes, changed };
  }

  /** Every ReplicaSet record, deleted ones included (their pods may still be running down). */
  replicaSetRecordList(): StoredReplicaSet[] {
    return [...this.replicaSetRecords.values()];
  }

  /** The ReplicaSets an informer would list, each with the status `statusOf` reports for it. */
  replicaSetObjects(statusOf: (rs: StoredReplicaSet) => V1ReplicaSetStatus): V1ReplicaSet[] {
    return this.replicaSetRecordList()
      .filter((rs) => !rs.deleted)
      .map((rs) => ({
        ...rs.object,
        metadata: { ...rs.object.metadata, uid: rs.uid, creationTimestamp: new Date(rs.createdMs), generation: rs.generation },
        status: statusOf(rs),
      }));
  }

  configMapObjects(): V1ConfigMap[] {
    return this.objects(this.configMapRecords);
  }

  serviceObjects(): V1Service[] {
    return this.objects(this.serviceRecords);
  }

  secretObjects(): V1Secret[] {
    return this.objects(this.secretRecords);
  }

  networkPolicyObjects(): V1NetworkPolicy[] {
    return this.objects(this.networkPolicyRecords);
  }

  /** The size the operator last applied for `revision` (0 when it has no live ReplicaSet). */
  specReplicas(revision: string): number {
    for (const rs of this.replicaSetRecords.values()) if (rs.revision === revision && !rs.deleted) return rs.object.spec?.replicas ?? 0;
    return 0;
  }

  /** The revision the named Service selects; 'all' when it selects every engine pod; undefined when it does not exist. */
  serviceSelection(name: string): string | undefined {
    const service = this.serviceRecords.get(name);
    if (service === undefined) return undefined;
    return service.object.spec?.selector?.[labelKeys.revision] ?? 'all';
  }

  private applyReplicaSet(object: V1ReplicaSet, nowMs: number): StoredReplicaSet | undefined {
    const name = object.metadata?.name ?? '';
    const existing = this.replicaSetRecords.get(name);
    if (existing === undefined || existing.deleted) {
      const created: StoredReplicaSet = {
        object, name, revision: revisionLabelOf(object), uid: this.uid(), createdMs: nowMs, generation: 1, deleted: false,
      };
      this.replicaSetRecords.delete(name);
      this.replicaSetRecords.set(name, created);
      return created;
    }
    const resized = (existing.object.spec?.replicas ?? 0) !== (object.spec?.replicas ?? 0);
    existing.object = object;
    if (!resized) return undefined;
    existing.generation++;
    return existing;
  }

  private stored<T>(existing: Stored<T> | undefined, object: T, nowMs: number): Stored<T> {
    return { object, uid: existing?.uid ?? this.uid(), createdMs: existing?.createdMs ?? nowMs };
  }

  private objects<T extends { metadata?: object }>(records: Map<string, Stored<T>>): T[] {
    return [...records.values()].map((entry) => ({ ...entry.object, metadata: { ...entry.object.metadata, uid: entry.uid, creationTimestamp: new Date(entry.createdMs) } }));
  }

  private uid(): string {
    return `uid-${this.nextUid++}`;
  }
}
