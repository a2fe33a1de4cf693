/**
 * `t`, when it is an event time: a finite number of ms.
 *
 * @throws TypeError otherwise (the operator's error policy handles it as the record's failure).
 */
export function checkedTime(t: number): number {
  if (typeof t !== 'number' || !Number.isFinite(t)) throw new TypeError(`the event time of a record must be a finite number of ms, got ${String(t)}.`);
  return t;
}
