import type { EngineConfig, ScansConfig } from '../config/engine-config.ts';
import { BarAggregator, type TradePrint } from '../bars/bar-aggregator.ts';
import { createBarPanel, PANEL_SLACK_BARS, type BarPanel } from '../bars/bar-panel.ts';
import type { BarScan } from '../strategy/sdk.ts';
import { barScanOf, type MutableBarScan } from './bar-scan-view.ts';
import { BarScanner } from './bar-scanner.ts';
import { scanSettingsOf } from './scan-settings.ts';

/**
 * Bars and scans inside the tick loop, for `nexus backtest`: the bars a live engine's feed thread builds
 * (BarAggregator, the same panel) and the scan its scan thread runs (BarScanner), but each bar close is scanned
 * at once, on this thread (`scanNow`, the reference correlation), and handed to `deliver` (the strategies' onBar)
 * before the trade that closed it goes on to the strategies. So a backtest's onBar decisions are deterministic and
 * see the same values a live engine's do; only when they run differs (live: once the scan thread is done).
 * Implements the pipeline's TradeObserver.
 */
export class InlineBarScans {
  readonly panel: BarPanel;
  /** Bars closed and scanned. */
  scans = 0;
  /** Where each scan goes, with the closing trade's publish stamp (a backtest's: its exchange time); set once the pipeline exists. */
  deliver: ((scan: BarScan, timeNs: number) => void) | undefined;
  private readonly aggregator: BarAggregator;
  private readonly scanner: BarScanner;
  private readonly view: MutableBarScan;
  private readonly intervalNs: number;

  constructor(config: Pick<EngineConfig, 'symbols' | 'indicators'>, scans: ScansConfig, clockNs: () => number) {
    const settings = scanSettingsOf(config, scans);
    this.intervalNs = scans.barIntervalMs * 1_000_000;
    this.panel = createBarPanel(config.symbols.length, scans.panelBars + PANEL_SLACK_BARS);
    this.aggregator = new BarAggregator(this.panel, this.intervalNs);
    this.scanner = new BarScanner(this.panel, settings, clockNs);
    this.view = barScanOf(this.scanner.result, settings.indicators.map((indicator) => indicator.name), settings.correlation?.symbols ?? 0);
  }

  onTradeOf(symbolIndex: number, trade: TradePrint): void {
    if (this.aggregator.onTradeOf(symbolIndex, trade) === 0) return;
    const publishMonoNs = trade.publishMonoNs;
    const panel = this.panel;
    const bar = Atomics.load(panel.closed, 0) - 1;
    this.scanner.scanNow(bar);
    this.scans++;
    this.view.bar = bar;
    this.view.barStartNs = panel.interval[bar % panel.capacity] * this.intervalNs;
    this.deliver?.(this.view, publishMonoNs);
  }
}
