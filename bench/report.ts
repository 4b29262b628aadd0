/** One line of the results table; undefined prints as "-". */
export interface ResultRow {
  scenario: string;
  requestsPerSecond?: number;
  eventsPerSecond?: number;
  p50Ms?: number;
  p99Ms?: number;
  /** Of the service process measured; none for a scenario that measures a statement. */
  peakRssMb?: number;
  /** Service throughput divided by the bare verifier's, same scenario. */
  vsBare?: number;
  /** Service throughput divided by the durable floor's, same scenario. */
  vsDurable?: number;
  /** Server CPU (all threads) per answered request, warm-up included. */
  cpuMsPerRequest?: number;
  /** What was measured, e.g. "3000 req in 7.2 s". */
  sample: string;
}

export interface TargetCheck {
  name: string;
  value: string;
  met: boolean;
}

/** One line of the memory table: a service process's resident memory. */
export interface MemoryRow {
  role: string;
  /** VmRSS once the process is ready, before it has done any work. */
  idleRssMb: number;
  /** VmHWM over the whole run. */
  peakRssMb: number;
}

interface Column<Row> {
  title: string;
  align: 'left' | 'right';
  cell(row: Row): string;
}

const RESULT_COLUMNS: Array<Column<ResultRow>> = [
  { title: 'scenario', align: 'left', cell: (row) => row.scenario },
  { title: 'req/s', align: 'right', cell: (row) => formatNumber(row.requestsPerSecond, 0) },
  { title: 'events/s', align: 'right', cell: (row) => formatNumber(row.eventsPerSecond, 0) },
  { title: 'p50 ms', align: 'right', cell: (row) => formatNumber(row.p50Ms, 1) },
  { title: 'p99 ms', align: 'right', cell: (row) => formatNumber(row.p99Ms, 1) },
  { title: 'peak RSS MB', align: 'right', cell: (row) => formatNumber(row.peakRssMb, 0) },
  { title: 'vs bare', align: 'right', cell: (row) => formatNumber(row.vsBare, 2) },
  { title: 'vs durable', align: 'right', cell: (row) => formatNumber(row.vsDurable, 2) },
  { title: 'CPU ms/req', align: 'right', cell: (row) => formatNumber(row.cpuMsPerRequest, 2) },
  { title: 'measured', align: 'left', cell: (row) => row.sample },
];

const MEMORY_COLUMNS: Array<Column<MemoryRow>> = [
  { title: 'role', align: 'left', cell: (row) => row.role },
  { title: 'idle RSS MB', align: 'right', cell: (row) => formatNumber(row.idleRssMb, 0) },
  { title: 'peak RSS MB', align: 'right', cell: (row) => formatNumber(row.peakRssMb, 0) },
];

export function formatTable(rows: ResultRow[]): string {
  return formatColumns(RESULT_COLUMNS, rows);
}

export function formatMemoryTable(rows: MemoryRow[]): string {
  return formatColumns(MEMORY_COLUMNS, rows);
}

/** Plain text, columns padded to their widest cell. */
function formatColumns<Row>(columns: Array<Column<Row>>, rows: Row[]): string {
  const cells = [columns.map((column) => column.title), ...rows.map((row) => columns.map((column) => column.cell(row)))];
  const widths = columns.map((_, index) => Math.max(...cells.map((line) => line[index].length)));
  return cells
    .map((line) =>
      line
        .map((cell, index) => (columns[index].align === 'left' ? cell.padEnd(widths[index]) : cell.padStart(widths[index])))
        .join('   ')
        .trimEnd(),
    )
    .join('\n');
}

export function formatTargets(checks: TargetCheck[]): string {
  const nameWidth = Math.max(...checks.map((check) => check.name.length));
  const valueWidth = Math.max(...checks.map((check) => check.value.length));
  return [
    'targets:',
    ...checks.map((check) => `  ${check.name.padEnd(nameWidth)}   ${check.value.padStart(valueWidth)}   ${check.met ? 'met' : 'MISSED'}`),
  ].join('\n');
}

export function formatNumber(value: number | undefined, decimals: number): string {
  if (value === undefined || !Number.isFinite(value)) return '-';
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}
