import { YokeError } from '../errors.ts';
import { createDh } from './dh.ts';
import { createFo } from './fo.ts';
import { createLblc } from './lblc.ts';
import { createLblcr } from './lblcr.ts';
import { createLc } from './lc.ts';
import { createMh } from './mh.ts';
import { createNq } from './nq.ts';
import { createOvf } from './ovf.ts';
import { createP2c } from './p2c.ts';
import { createRr } from './rr.ts';
import { createSed } from './sed.ts';
import { createSh } from './sh.ts';
import { createWlc } from './wlc.ts';
import { createWrr } from './wrr.ts';
import type { Scheduler, SchedulerFactory, SchedulerName, SchedulerOptions } from './types.ts';

/** Every scheduler by its ipvsadm name; `satisfies` makes the compiler hold it to SCHEDULER_NAMES, no more, no fewer. */
export const SCHEDULERS = {
  rr: createRr,
  wrr: createWrr,
  lc: createLc,
  wlc: createWlc,
  sed: createSed,
  nq: createNq,
  sh: createSh,
  dh: createDh,
  lblc: createLblc,
  lblcr: createLblcr,
  mh: createMh,
  fo: createFo,
  ovf: createOvf,
  p2c: createP2c,
} as const satisfies Record<SchedulerName, SchedulerFactory>;

/** True when `name` is a scheduler yoke has (an own key of SCHEDULERS, so "constructor" and "__proto__" are not). */
export function isSchedulerName(name: string): name is SchedulerName {
  return Object.hasOwn(SCHEDULERS, name);
}

/** Creates the scheduler called `name` (rr, wrr, ... as ipvsadm -s); throws E_UNKNOWN_SCHEDULER for any other name. */
export function createScheduler(name: string, options: SchedulerOptions = {}): Scheduler {
  if (!isSchedulerName(name)) throw new YokeError('E_UNKNOWN_SCHEDULER', `unknown scheduler "${name}"`);
  return SCHEDULERS[name](options);
}
