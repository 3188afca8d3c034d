import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../config-error.ts';
import { INDICATOR_BACKEND_CHOICES, parseEngineConfig, type EngineConfig, type IndicatorBackendChoice } from './engine-config.ts';

/**
 * The only place the engine reads files and environment variables: I/O stays at this one edge, and everything
 * past it gets a parsed, validated EngineConfig (`parseEngineConfig` is pure).
 *
 * Sources, first match wins:
 *   1. `--config PATH` on the command line (YAML or JSON; JSON is YAML)
 *   2. `NEXUS_ENGINE_CONFIG=PATH` (how the operator mounts the engine ConfigMap)
 *   3. `NEXUS_ENGINE_CONFIG_INLINE='{...}'` (a whole config in one variable, for quick runs)
 * `NEXUS_BIND_HOST` sets the host that `bindPort` endpoints and the metrics server bind (default 0.0.0.0;
 * the local node agent gives every pod its own 127.0.0.x). `NEXUS_HISTORY_DIR` is where a relative `history.path`
 * lies (the operator mounts a history volume there and sets it); without it, beside the configuration file.
 * `NEXUS_INDICATOR_BACKEND` (set by the operator from `spec.engine.backend`) replaces the config's `backend`.
 */
export interface ConfigSource {
  readonly configPath?: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface LoadedConfig {
  readonly config: EngineConfig;
  readonly origin: string;
}

export function loadEngineConfig(source: ConfigSource): LoadedConfig {
  const bindHost = source.env.NEXUS_BIND_HOST ?? '0.0.0.0';
  const path = source.configPath ?? source.env.NEXUS_ENGINE_CONFIG;
  if (path !== undefined && path !== '') {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new ConfigError('config', `cannot read ${path}: ${(error as Error).message}`);
    }
    const directory = dirname(resolve(path));
    const config = withModulesFrom(directory, parseEngineConfig(parseText(text, path), bindHost));
    return { config: withBackendFrom(source.env, withHistoryFrom(source.env.NEXUS_HISTORY_DIR || directory, config)), origin: path };
  }
  const inline = source.env.NEXUS_ENGINE_CONFIG_INLINE;
  if (inline !== undefined && inline !== '') {
    const config = parseEngineConfig(parseText(inline, 'NEXUS_ENGINE_CONFIG_INLINE'), bindHost);
    return { config: withBackendFrom(source.env, withHistoryFrom(source.env.NEXUS_HISTORY_DIR || process.cwd(), config)), origin: 'env' };
  }
  throw new ConfigError('config', 'no configuration: pass --config PATH or set NEXUS_ENGINE_CONFIG');
}

/**
 * A strategy module path given relative is relative to the configuration file that names it (the operator copies a
 * ConfigMap's module beside the configuration it renders; a project's engine.yaml names `./strategy.ts`). An inline
 * configuration has no file: its relative paths stay relative to the working directory.
 */
function withModulesFrom(directory: string, config: EngineConfig): EngineConfig {
  const relative = (module: string): boolean => module.startsWith('./') || module.startsWith('../');
  if (!config.strategies.some((strategy) => strategy.module !== undefined && relative(strategy.module))) return config;
  return {
    ...config,
    strategies: config.strategies.map((strategy) => (strategy.module !== undefined && relative(strategy.module) ? { ...strategy, module: resolve(directory, strategy.module) } : strategy)),
  };
}

/** A relative `history.path` resolved against `directory` (NEXUS_HISTORY_DIR, or the configuration's own). */
function withHistoryFrom(directory: string, config: EngineConfig): EngineConfig {
  const history = config.history;
  if (history === undefined || isAbsolute(history.path)) return config;
  return { ...config, history: { ...history, path: resolve(directory, history.path) } };
}

/** NEXUS_INDICATOR_BACKEND, when set, as the config's `backend`; a value it cannot be is a ConfigError naming it. */
function withBackendFrom(env: ConfigSource['env'], config: EngineConfig): EngineConfig {
  const value = env.NEXUS_INDICATOR_BACKEND;
  if (value === undefined || value === '') return config;
  if (!(INDICATOR_BACKEND_CHOICES as readonly string[]).includes(value)) {
    throw new ConfigError('NEXUS_INDICATOR_BACKEND', `must be one of ${INDICATOR_BACKEND_CHOICES.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return { ...config, backend: value as IndicatorBackendChoice };
}

function parseText(text: string, origin: string): unknown {
  try {
    return parseYaml(text);
  } catch (error) {
    throw new ConfigError('config', `${origin} is not valid YAML/JSON: ${(error as Error).message.split('\n')[0]}`);
  }
}
