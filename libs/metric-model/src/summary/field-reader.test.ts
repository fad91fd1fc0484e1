import { describe, expect, it } from 'vitest';
import { kubeletTime } from './field-reader.js';

const pad = (n: number, width: number) => String(n).padStart(width, '0');

describe('kubeletTime', () => {
  it('equals Date.parse wherever it gives a number, and gives one for every plausible kubelet time', () => {
    let checked = 0;
    for (const year of [1999, 2000, 2001, 2024, 2025, 2100, 2199, 2200])
      for (let month = 0; month <= 13; month++)
        for (const day of [0, 1, 28, 29, 30, 31, 32])
          for (const [h, m, s] of [[0, 0, 0], [23, 59, 59], [24, 0, 0], [12, 60, 0], [12, 0, 60]]) {
            const text = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(h!, 2)}:${pad(m!, 2)}:${pad(s!, 2)}Z`;
            const quick = kubeletTime(text);
            if (Number.isNaN(quick)) {
              const plausible = year >= 2000 && year < 2200 && !Number.isNaN(Date.parse(text)) && h! < 24;
              expect(plausible, text).toBe(false);
            } else {
              expect(quick, text).toBe(Date.parse(text));
              checked++;
            }
          }
    expect(checked).toBe(6 * 12 * 5 * 2);
  });

  it('leaves every other form to Date.parse', () => {
    for (const text of ['2024-01-01T00:00:00.5Z', '2024-01-01T00:00:00+02:00', '2024-01-01 00:00:00Z', '2024-01-01T0a:00:00Z', '2024-01-01T00:00:00z', '+02024-01-01T00:00:0Z', '']) {
      expect(kubeletTime(text), text).toBeNaN();
    }
  });
});
