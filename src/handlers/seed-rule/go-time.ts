/** Go's time.Parse(time.RFC3339, value), to the nanosecond, for the seed rule's age check. */

export const DAY_SECONDS = 24 * 60 * 60;

/**
 * The instant the last successful parseRfc3339 read: whole seconds since the epoch plus nanoseconds. Module
 * scratch rather than a returned object: the hot path allocates nothing, and the rule is synchronous.
 */
export const parsedTime = { seconds: 0, nanos: 0 };

function digit(value: string, i: number): number {
  const c = value.charCodeAt(i);
  return c >= 0x30 && c <= 0x39 ? c - 0x30 : -1;
}

function two(value: string, i: number): number {
  const a = digit(value, i);
  const b = digit(value, i + 1);
  return a < 0 || b < 0 ? -1 : a * 10 + b;
}

function daysIn(month: number, year: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days from 1970-01-01 to a proleptic Gregorian date. */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Go's time.Parse(time.RFC3339, value): true and parsedTime set, or false. */
export function parseRfc3339(value: string): boolean {
  const n = value.length;
  if (n < 4) return false;
  const y0 = digit(value, 0);
  const y1 = digit(value, 1);
  const y2 = digit(value, 2);
  const y3 = digit(value, 3);
  if (y0 < 0 || y1 < 0 || y2 < 0 || y3 < 0) return false;
  const year = y0 * 1000 + y1 * 100 + y2 * 10 + y3;
  if (value.charCodeAt(4) !== 0x2d) return false;
  const month = two(value, 5);
  if (month < 1 || month > 12) return false;
  if (value.charCodeAt(7) !== 0x2d) return false;
  const day = two(value, 8);
  if (day < 0 || value.charCodeAt(10) !== 0x54) return false;
  // the hour may have one digit
  let p = 11;
  let hour = digit(value, p);
  if (hour < 0) return false;
  const h1 = digit(value, p + 1);
  if (h1 >= 0) {
    hour = hour * 10 + h1;
    p += 2;
  } else p += 1;
  if (hour > 23 || value.charCodeAt(p) !== 0x3a) return false;
  const minute = two(value, p + 1);
  if (minute < 0 || minute > 59 || value.charCodeAt(p + 3) !== 0x3a) return false;
  const second = two(value, p + 4);
  if (second < 0 || second > 59) return false;
  p += 6;
  let nanos = 0;
  const sep = value.charCodeAt(p);
  if ((sep === 0x2e || sep === 0x2c) && digit(value, p + 1) >= 0) {
    let q = p + 1;
    let count = 0;
    for (let d = digit(value, q); d >= 0; d = digit(value, ++q)) {
      if (count < 9) {
        nanos = nanos * 10 + d;
        count++;
      }
    }
    for (; count < 9; count++) nanos *= 10;
    p = q;
  }
  let offset = 0;
  if (value.charCodeAt(p) === 0x5a) {
    p++;
  } else {
    if (n - p < 6 || value.charCodeAt(p + 3) !== 0x3a) return false;
    const oh = two(value, p + 1);
    const om = two(value, p + 4);
    if (oh < 0 || om < 0 || oh > 24 || om > 60) return false;
    const sign = value.charCodeAt(p);
    if (sign === 0x2b) offset = (oh * 60 + om) * 60;
    else if (sign === 0x2d) offset = -(oh * 60 + om) * 60;
    else return false;
    p += 6;
  }
  if (p !== n) return false;
  if (day < 1 || day > daysIn(month, year)) return false;
  parsedTime.seconds = daysFromCivil(year, month, day) * DAY_SECONDS + hour * 3600 + minute * 60 + second - offset;
  parsedTime.nanos = nanos;
  return true;
}
