import type { GroupRow, MappingAmounts, MappingRow } from '../proc/mappings.js';
import { amount, type Column } from './smem-table.js';

/** The amount columns both tables share: smem's "% 8s" cells, summed in the totals row. */
function amountColumns<T extends MappingAmounts>(): Record<string, Column<T>> {
  return {
    swap: amount<T>('Swap', (r) => r.swapBytes, 'swap space consumed (ignoring sharing)'),
    uss: amount<T>('USS', (r) => r.ussBytes, 'unique set size (Private_Clean + Private_Dirty)'),
    pss: amount<T>('PSS', (r) => r.pssBytes, 'proportional set size'),
    rss: amount<T>('RSS', (r) => r.rssBytes, 'resident set size (ignoring sharing)'),
    shared: amount<T>('Shared', (r) => r.sharedBytes, 'Shared_Clean + Shared_Dirty'),
  };
}

/** `snapshot --mappings` columns, smem -m's widths: map %-40.40s, counts % 5s, amounts % 8s. */
export const MAPPING_COLUMNS: Record<string, Column<MappingRow>> = {
  map: { header: 'Map', kind: 'command', width: 40, value: (r) => r.name, total: 'count', help: 'mapping name' },
  pids: { header: 'PIDs', kind: 'pid', width: 5, value: (r) => r.processes, total: 'sum', help: 'number of processes using the mapping' },
  count: { header: 'Count', kind: 'pid', width: 5, value: (r) => r.mappings, total: 'sum', help: 'number of mappings found' },
  ...amountColumns<MappingRow>(),
};
export const DEFAULT_MAPPING_COLUMNS = ['map', 'pids', 'swap', 'uss', 'pss', 'rss'];

/** `snapshot --mappings --group` columns. */
export const GROUP_COLUMNS: Record<string, Column<GroupRow>> = {
  group: { header: 'Group', kind: 'command', width: 40, value: (r) => r.group, total: 'count', help: 'category of mappings' },
  maps: { header: 'Maps', kind: 'pid', width: 5, value: (r) => r.names, total: 'sum', help: 'mapping names in the group' },
  ...amountColumns<GroupRow>(),
};
export const DEFAULT_GROUP_COLUMNS = ['group', 'maps', 'swap', 'uss', 'pss', 'rss'];
