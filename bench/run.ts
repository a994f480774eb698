/** `npm run bench`: runs every benchmark and prints a table plus a JSON line per suite. */
import { hostBench } from './host.js';
import { schedulerBench } from './scheduler.js';
import { machineMeta, printReport } from './report.js';

const meta = machineMeta();
printReport('clawpod host', await hostBench(), meta);
printReport('clawpod scheduler', await schedulerBench(), meta);
