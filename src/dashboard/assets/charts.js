// Charts drawn with uPlot (served from the package by the server: /dashboard/uplot.js), coloured
// from the theme's CSS variables so both themes stay readable. Every chart has a table or list
// beside it with the same figures, for keyboard and screen-reader users.
import uPlot from './uplot.js';

const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
export const colors = () => ({
  ink: css('--ink'),
  muted: css('--muted'),
  line: css('--line'),
  allow: css('--ok'),
  ask: css('--warn'),
  deny: css('--bad'),
  accent: css('--accent'),
  crit: css('--crit'),
});
const AGENT_COLORS = ['--accent', '--crit', '--ok', '--warn', '--bad', '--muted'];
export const agentColor = (i) => css(AGENT_COLORS[i % AGENT_COLORS.length]);

const charts = new Map();

/**
 * Draws (or redraws) a chart into `el`. `series`: [{ label, color, points?, dash?, fill? }];
 * `data`: [xs (unix seconds), ...ys]; `range`: the x range in seconds, shared by the overview's charts.
 */
export function drawChart(el, { series, data, range, yValues, yRange, lanes, height = 220 }) {
  charts.get(el)?.destroy();
  el.replaceChildren();
  const c = colors();
  const axis = { stroke: c.muted, grid: { stroke: c.line, width: 1 }, ticks: { stroke: c.line, width: 1 } };
  const plot = new uPlot(
    {
      width: Math.max(320, el.clientWidth || el.parentElement?.clientWidth || 600),
      height,
      scales: {
        x: { time: true, ...(range ? { range: () => range } : {}) },
        y: yRange ? { range: () => yRange } : { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
      },
      axes: [
        axis,
        {
          ...axis,
          ...(yValues ? { values: yValues, size: 110 } : {}),
          // One tick per lane when the y axis names lanes (agents, kinds of event).
          ...(lanes ? { splits: () => Array.from({ length: lanes }, (_, i) => i) } : {}),
        },
      ],
      cursor: { drag: { x: false, y: false } },
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: s.points ? 0 : 2,
          ...(s.dash ? { dash: [6, 4] } : {}),
          ...(s.fill ? { fill: `${s.color}22` } : {}),
          ...(s.points
            ? { paths: () => null, points: { show: true, size: 11, fill: s.color, stroke: s.color } }
            : { points: { show: false } }),
        })),
      ],
    },
    data,
    el,
  );
  charts.set(el, plot);
  el.dataset.series = String(series.length);
  el.dataset.points = String(
    data.slice(1).reduce((n, ys) => n + ys.filter((y) => y !== null && y !== undefined).length, 0),
  );
  if (!document.body.dataset.firstChartMs) document.body.dataset.firstChartMs = performance.now().toFixed(1);
  return plot;
}

addEventListener('resize', () => {
  for (const [el, plot] of charts)
    if (el.isConnected && el.clientWidth) plot.setSize({ width: el.clientWidth, height: plot.height });
});
