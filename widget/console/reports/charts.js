// The Reports view's charts: Chart.js (bundled with the console; it draws on canvas and
// styles through the CSSOM, so the console's CSP holds), only the parts used registered.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from "chart.js";

Chart.register(BarController, BarElement, CategoryScale, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip);

const COLORS = { total: "#1f5fbf", contained: "#16794a", escalated: "#8a5a00", abandoned: "#b42318", bar: "#1f5fbf" };

const BASE = {
  animation: false, // figures, not motion: drawn at once (and testable at once)
  responsive: true,
  maintainAspectRatio: false,
  plugins: { legend: { position: "bottom" } },
  scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
};

// one chart per canvas; update() swaps its data in place
export function createChart(canvas, kind) {
  const horizontal = kind === "funnel";
  const chart = new Chart(canvas, {
    type: kind === "volumes" ? "line" : "bar",
    data: { labels: [], datasets: [] },
    options: {
      ...BASE,
      indexAxis: horizontal ? "y" : "x",
      plugins: { legend: { display: kind === "volumes", position: "bottom" } },
      scales: horizontal
        ? { x: { beginAtZero: true, ticks: { precision: 0 } } }
        : { y: { beginAtZero: true, ticks: { precision: 0 } } },
    },
  });
  return {
    chart,
    update(labels, datasets) {
      chart.data.labels = labels;
      chart.data.datasets = datasets.map((d) => ({
        label: d.label,
        data: d.data,
        borderColor: COLORS[d.key] || COLORS.bar,
        backgroundColor: kind === "volumes" ? COLORS[d.key] || COLORS.bar : COLORS.bar,
        borderWidth: kind === "volumes" ? 2 : 0,
        pointRadius: labels.length > 60 ? 0 : 2,
        tension: 0.2,
      }));
      chart.update();
    },
    destroy() {
      chart.destroy();
    },
  };
}
