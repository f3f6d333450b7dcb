import { readdirSync, readFileSync } from 'node:fs';

/** utime + stime of a process, in seconds (clock ticks of 1/100 s); 0 once it is gone. */
function cpuSecondsOf(pid: number | string): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/**
 * CPU seconds of the PostgreSQL backends serving `database`: what the database
 * spends on these purchases, apart from other work on the same server (the
 * shared WAL writer and checkpointer are left out for that reason). The
 * gateway's pool keeps its backends for the whole run, so none is missed by
 * exiting between the two readings.
 */
function postgresCpuSeconds(database: string): number {
  let total = 0;
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (title.startsWith('postgres: ') && title.includes(` ${database} `)) total += cpuSecondsOf(pid);
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return total;
}

/** CPU seconds every core of the machine spent busy (user, nice, system, irq, softirq, steal), and in all. */
function machineSeconds(): { busy: number; all: number } {
  const ticks = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').split(/\s+/).slice(1, 9).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = ticks;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy: busy / 100, all: (busy + idle + iowait) / 100 };
}

/** Where a measured stretch's CPU went, in milliseconds per purchase. */
export interface CpuPerPurchase {
  gatewayMs: number;
  postgresMs: number;
  /** This process: the load generator (autocannon) with the benchmark's own bookkeeping. */
  loadGeneratorMs: number;
  /** Every process on the machine, the three above included. */
  machineMs: number;
  /** How busy the machine's cores were over the stretch, 0 to 1: below 1, the load left them waiting. */
  busyShare: number;
}

/**
 * Starts a reading of the gateway's, PostgreSQL's, this process's and the
 * whole machine's CPU; `per(purchases)` ends it.
 */
export function startCpuReading(gatewayPid: number, database: string) {
  const gateway = cpuSecondsOf(gatewayPid);
  const postgres = postgresCpuSeconds(database);
  const self = process.cpuUsage();
  const machine = machineSeconds();
  return {
    per(purchases: number): CpuPerPurchase {
      const selfNow = process.cpuUsage(self);
      const machineNow = machineSeconds();
      const ms = (seconds: number) => Math.round((seconds * 1_000_000) / Math.max(1, purchases)) / 1000;
      return {
        gatewayMs: ms(cpuSecondsOf(gatewayPid) - gateway),
        postgresMs: ms(postgresCpuSeconds(database) - postgres),
        loadGeneratorMs: ms((selfNow.user + selfNow.system) / 1e6),
        machineMs: ms(machineNow.busy - machine.busy),
        busyShare: Math.round(((machineNow.busy - machine.busy) / (machineNow.all - machine.all)) * 100) / 100,
      };
    },
  };
}
