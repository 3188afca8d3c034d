import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

/**
 * Generates `operator/api/generated.ts` (TypeScript types plus the defaulting tree) from `crds/tradingengine.yaml`,
 * the API's single source of truth, so the types cannot drift from the schema: `generated.test.ts` regenerates in
 * memory and fails on any difference. Run `npm run gen:api` after editing the CRD.
 *
 * Type rules: a property with a schema default is required (the API server always fills it in, on create and
 * on read); integers and numbers are `number`; int-or-string is `number | string`; enums are literal unions; a
 * map is `Record<string, T>`; preserve-unknown-fields is `Record<string, unknown>`. Every object type gets its
 * name from `typeNames` below (one name per schema path), so a new object in the CRD fails generation until it
 * is named: names are part of the API and chosen, not derived.
 */

export interface JsonSchema {
  readonly type?: string;
  readonly description?: string;
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly additionalProperties?: JsonSchema;
  readonly items?: JsonSchema;
  readonly required?: readonly string[];
  readonly enum?: readonly unknown[];
  readonly default?: unknown;
  readonly 'x-kubernetes-int-or-string'?: boolean;
  readonly 'x-kubernetes-preserve-unknown-fields'?: boolean;
}

/** Schema path (properties joined by '.', array items as '[]') -> exported type name. */
const typeNames: Readonly<Record<string, string>> = {
  spec: 'TradingEngineSpec',
  'spec.rollbackWindow': 'RollbackWindow',
  'spec.ownership': 'OwnershipSpec',
  'spec.ownership.pins[]': 'SymbolPin',
  'spec.template': 'EngineTemplate',
  'spec.template.resources': 'ComputeResources',
  'spec.template.gpu': 'GpuSpec',
  'spec.template.tolerations[]': 'Toleration',
  'spec.template.env[]': 'EnvVar',
  'spec.template.sidecars[]': 'Sidecar',
  'spec.template.sidecars[].env[]': 'EnvVar',
  'spec.template.sidecars[].ports[]': 'SidecarPort',
  'spec.template.sidecars[].resources': 'ComputeResources',
  'spec.engine': 'EngineSpec',
  'spec.engine.indicators[]': 'IndicatorSpec',
  'spec.engine.strategies[]': 'StrategySpec',
  'spec.engine.strategies[].moduleConfigMap': 'ModuleConfigMapRef',
  'spec.engine.risk': 'RiskSpec',
  'spec.engine.zeromq': 'ZeroMqSpec',
  'spec.engine.zeromq.endpoints[]': 'ZeroMqEndpoint',
  'spec.engine.metrics': 'EngineMetricsSpec',
  'spec.engine.pipeline': 'PipelineSpec',
  'spec.engine.faultInjection': 'FaultInjectionSpec',
  'spec.engine.history': 'HistorySpec',
  'spec.engine.history.volume': 'HistoryVolume',
  'spec.engine.history.volume.configMap': 'ConfigMapRef',
  'spec.engine.history.volume.persistentVolumeClaim': 'PersistentVolumeClaimRef',
  'spec.engine.scans': 'ScansSpec',
  'spec.engine.scans.correlation': 'CorrelationScan',
  'spec.strategy': 'RolloutStrategy',
  'spec.strategy.canary': 'CanaryStrategy',
  'spec.strategy.canary.steps[]': 'CanaryStep',
  'spec.strategy.canary.steps[].pause': 'PauseStep',
  'spec.strategy.canary.steps[].analysis': 'AnalysisStep',
  'spec.strategy.blueGreen': 'BlueGreenStrategy',
  'spec.analysis': 'AnalysisSpec',
  'spec.analysis.gateRef': 'GateRef',
  'status.gate': 'GateStatus',
  'status.strategyHealth': 'StrategyHealth',
  'status.strategyHealth.disabled[]': 'DisabledStrategy',
  'spec.analysis.latency': 'LatencyAnalysis',
  'spec.analysis.latency.source': 'LatencySource',
  'spec.analysis.latency.source.podScrape': 'PodScrapeSource',
  'spec.analysis.latency.source.prometheus': 'PrometheusSource',
  'spec.analysis.latency.source.prometheus.bearerTokenSecretRef': 'SecretKeyRef',
  'spec.analysis.latency.source.prometheus.caConfigMapRef': 'ConfigMapKeyRef',
  'spec.analysis.latency.relativeToStable': 'RelativeToStable',
  'spec.analysis.checks[]': 'SignalCheck',
  status: 'TradingEngineStatus',
  'status.canary': 'CanaryStatus',
  'status.canary.cutPods[]': 'CutPod',
  'status.shards[]': 'ShardStatus',
  'status.blueGreen': 'BlueGreenStatus',
  'status.pauseConditions[]': 'PauseCondition',
  'status.promotionConfirmation': 'PromotionConfirmation',
  'status.analysis': 'AnalysisStatus',
  'status.analysis.lastMeasurement': 'Measurement',
  'status.analysis.history[]': 'Measurement',
  'status.analysis.checks[]': 'SignalCheckStatus',
  'status.conditions[]': 'Condition',
};

/** A defaulting tree: only the branches of the schema that carry a default somewhere below. */
export interface DefaultsNode {
  readonly default?: unknown;
  readonly properties?: Readonly<Record<string, DefaultsNode>>;
  readonly items?: DefaultsNode;
  readonly additionalProperties?: DefaultsNode;
}

export const crdPath = fileURLToPath(new URL('../../crds/tradingengine.yaml', import.meta.url));
export const generatedPath = fileURLToPath(new URL('./generated.ts', import.meta.url));

export interface CrdFacts {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
  readonly schema: JsonSchema;
}

export function readCrd(text: string): CrdFacts {
  const crd = parse(text, { maxAliasCount: -1 }) as {
    spec: { group: string; names: { kind: string; plural: string }; versions: Array<{ name: string; storage: boolean; schema: { openAPIV3Schema: JsonSchema } }> };
  };
  const version = crd.spec.versions.find((v) => v.storage);
  if (version === undefined) throw new Error('the CRD has no storage version');
  return {
    group: crd.spec.group,
    version: version.name,
    kind: crd.spec.names.kind,
    plural: crd.spec.names.plural,
    schema: version.schema.openAPIV3Schema,
  };
}

function propertyKey(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : JSON.stringify(name);
}

function docComment(text: string | undefined, indent: string): string {
  if (text === undefined) return '';
  return `${indent}/** ${text.replace(/\*\//g, '* /').replace(/\s+/g, ' ').trim()} */\n`;
}

class Emitter {
  private readonly declarations = new Map<string, string>();

  typeOf(schema: JsonSchema, path: string): string {
    if (schema['x-kubernetes-int-or-string'] === true) return 'number | string';
    if (schema.enum !== undefined) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
    switch (schema.type) {
      case 'integer':
      case 'number':
        return 'number';
      case 'string':
        return 'string';
      case 'boolean':
        return 'boolean';
      case 'array': {
        if (schema.items === undefined) throw new Error(`${path}: array without items`);
        const item = this.typeOf(schema.items, `${path}[]`);
        return item.includes('|') ? `ReadonlyArray<${item}>` : `readonly ${item}[]`;
      }
      case 'object':
        if (schema.properties !== undefined) return this.objectType(schema, path);
        if (schema.additionalProperties !== undefined) {
          return `Readonly<Record<string, ${this.typeOf(schema.additionalProperties, `${path}.*`)}>>`;
        }
        return 'Readonly<Record<string, unknown>>';
      default:
        throw new Error(`${path}: unsupported schema type ${String(schema.type)}`);
    }
  }

  private objectType(schema: JsonSchema, path: string): string {
    const name = typeNames[path];
    if (name === undefined) throw new Error(`${path}: object type has no name; add it to typeNames in operator/api/generate.ts`);
    const required = new Set(schema.required ?? []);
    let body = '';
    for (const [prop, child] of Object.entries(schema.properties ?? {})) {
      const optional = !required.has(prop) && child.default === undefined;
      body += docComment(child.description, '  ');
      body += `  readonly ${propertyKey(prop)}${optional ? '?' : ''}: ${this.typeOf(child, `${path}.${prop}`)};\n`;
    }
    const declaration = `${docComment(schema.description, '')}export interface ${name} {\n${body}}\n`;
    const existing = this.declarations.get(name);
    if (existing !== undefined && existing !== declaration) {
      throw new Error(`${path}: type ${name} is declared twice with different shapes`);
    }
    this.declarations.set(name, declaration);
    return name;
  }

  output(): string {
    return [...this.declarations.values()].join('\n');
  }
}

export function defaultsTree(schema: JsonSchema): DefaultsNode | undefined {
  const node: { default?: unknown; properties?: Record<string, DefaultsNode>; items?: DefaultsNode; additionalProperties?: DefaultsNode } = {};
  if (schema.default !== undefined) node.default = schema.default;
  for (const [prop, child] of Object.entries(schema.properties ?? {})) {
    const sub = defaultsTree(child);
    if (sub !== undefined) (node.properties ??= {})[prop] = sub;
  }
  if (schema.items !== undefined) {
    const sub = defaultsTree(schema.items);
    if (sub !== undefined) node.items = sub;
  }
  if (schema.additionalProperties !== undefined) {
    const sub = defaultsTree(schema.additionalProperties);
    if (sub !== undefined) node.additionalProperties = sub;
  }
  return Object.keys(node).length === 0 ? undefined : node;
}

export function generate(crdText: string): string {
  const crd = readCrd(crdText);
  const spec = crd.schema.properties?.spec;
  const status = crd.schema.properties?.status;
  if (spec === undefined || status === undefined) throw new Error('the CRD schema needs spec and status');
  const emitter = new Emitter();
  emitter.typeOf(spec, 'spec');
  emitter.typeOf(status, 'status');
  const specDefaults = defaultsTree(spec) ?? {};
  return `// Generated by operator/api/generate.ts from crds/tradingengine.yaml. Do not edit: run \`npm run gen:api\`.
import type { DefaultsNode } from './generate.ts';

export const group = ${JSON.stringify(crd.group)};
export const version = ${JSON.stringify(crd.version)};
export const apiVersion = ${JSON.stringify(`${crd.group}/${crd.version}`)};
export const kind = ${JSON.stringify(crd.kind)};
export const plural = ${JSON.stringify(crd.plural)};

${emitter.output()}
/** The schema defaults of spec, as the API server applies them (see defaults.ts). */
export const specDefaults: DefaultsNode = ${JSON.stringify(specDefaults, null, 2)};
`;
}

/** The gate definition CRDs, generated beside the TradingEngine CRD: file name -> path. */
export const gateCrdPaths: Readonly<Record<'LatencyGate' | 'ClusterLatencyGate', string>> = {
  LatencyGate: fileURLToPath(new URL('../../crds/latencygate.yaml', import.meta.url)),
  ClusterLatencyGate: fileURLToPath(new URL('../../crds/clusterlatencygate.yaml', import.meta.url)),
};

/**
 * The LatencyGate (namespaced) and ClusterLatencyGate (cluster-wide) CRDs: a reusable gate a platform team writes
 * once and TradingEngines name in spec.analysis.gateRef. Their spec IS the TradingEngine's spec.analysis latency
 * and checks schema, copied from crds/tradingengine.yaml (defaults, limits and CEL rules included), so a gate and
 * an inline analysis can never accept different things.
 */
export function generateGateCrds(crdText: string): Record<'LatencyGate' | 'ClusterLatencyGate', string> {
  const crd = readCrd(crdText);
  const analysis = crd.schema.properties?.spec?.properties?.analysis?.properties;
  const latency = analysis?.latency;
  const checks = analysis?.checks;
  if (latency === undefined || checks === undefined) throw new Error('the TradingEngine CRD has no spec.analysis.latency and checks');
  const render = (kind: 'LatencyGate' | 'ClusterLatencyGate'): string => {
    const plural = `${kind.toLowerCase()}s`;
    const cluster = kind === 'ClusterLatencyGate';
    const document = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `${plural}.${crd.group}`, labels: { 'app.kubernetes.io/name': 'nexus', 'app.kubernetes.io/component': 'crd' } },
      spec: {
        group: crd.group,
        names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase(), shortNames: [cluster ? 'clgate' : 'lgate'], categories: ['nexus', 'trading'] },
        scope: cluster ? 'Cluster' : 'Namespaced',
        versions: [{
          name: crd.version,
          served: true,
          storage: true,
          additionalPrinterColumns: [
            { name: 'Method', type: 'string', jsonPath: '.spec.latency.method' },
            { name: 'Quantile', type: 'string', jsonPath: '.spec.latency.quantile' },
            { name: 'Threshold-Micros', type: 'integer', jsonPath: '.spec.latency.thresholdMicros' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: cluster
                ? 'A latency gate for TradingEngines in every namespace (spec.analysis.gateRef kind ClusterLatencyGate): the policy a platform team sets once.'
                : 'A latency gate for TradingEngines in its namespace (spec.analysis.gateRef kind LatencyGate).',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: { type: 'object', description: "The gate: latency and checks, exactly as a TradingEngine's spec.analysis would hold them.", required: ['latency'], properties: { latency, checks } },
              },
            },
          },
        }],
      },
    };
    return `# Generated by operator/api/generate.ts from crds/tradingengine.yaml (spec.analysis). Do not edit: run \`npm run gen:api\`.\n${stringify(document, { lineWidth: 0 })}`;
  };
  return { LatencyGate: render('LatencyGate'), ClusterLatencyGate: render('ClusterLatencyGate') };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const crdText = readFileSync(crdPath, 'utf8');
  writeFileSync(generatedPath, generate(crdText));
  process.stdout.write(`Generated ${generatedPath}\n`);
  const gates = generateGateCrds(crdText);
  for (const kind of ['LatencyGate', 'ClusterLatencyGate'] as const) {
    writeFileSync(gateCrdPaths[kind], gates[kind]);
    process.stdout.write(`Generated ${gateCrdPaths[kind]}\n`);
  }
}
