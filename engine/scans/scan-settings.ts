import type { EngineConfig, ScansConfig } from '../config/engine-config.ts';
import type { ScanSettings } from './bar-scanner.ts';

/**
 * The scanner's settings from an engine config's `scans`: its indicator names resolved to the config's indicator
 * specs (parseEngineConfig has checked that each exists; a name it cannot find is a programming error).
 */
export function scanSettingsOf(config: Pick<EngineConfig, 'indicators'>, scans: ScansConfig): ScanSettings {
  const indicators = scans.indicators.map((name) => {
    const spec = config.indicators.find((indicator) => indicator.name === name);
    if (spec === undefined) throw new Error(`scans.indicators names ${name}, which the config does not have`);
    return spec;
  });
  return { indicators, ...(scans.correlation === undefined ? {} : { correlation: scans.correlation }) };
}
