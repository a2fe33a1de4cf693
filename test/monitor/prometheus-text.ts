/** One sample of the Prometheus text format. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A metric family: its type, help and samples (a histogram's `_bucket`, `_sum` and `_count` included). */
export interface Family {
  readonly type: string;
  readonly help: string;
  readonly samples: Sample[];
}

/**
 * Parses the Prometheus text exposition format (version 0.0.4) into families by name, checking
 * its grammar: every sample belongs to a family declared by `# TYPE` before it.
 */
export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const help = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta !== null) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      if (kind === 'HELP') help.set(name, rest);
      else families.set(name, { type: rest, help: help.get(name) ?? '', samples: [] });
      continue;
    }
    const sample = parseSample(line);
    const family = families.get(sample.name) ?? families.get(sample.name.replace(/_(bucket|sum|count)$/, ''));
    if (family === undefined) throw new Error(`sample of an undeclared metric: ${line}`);
    family.samples.push(sample);
  }
  return families;
}

function parseSample(line: string): Sample {
  const head = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
  if (head === null) throw new Error(`not a sample: ${line}`);
  const name = head[1] as string;
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    while (line[i] !== '}') {
      const label = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(line.slice(i));
      if (label === null) throw new Error(`bad label in: ${line}`);
      i += label[0].length;
      let value = '';
      while (line[i] !== '"') {
        if (i >= line.length) throw new Error(`unterminated label value in: ${line}`);
        const c = line.charAt(i);
        if (c === '\\') {
          i++;
          value += line.charAt(i) === 'n' ? '\n' : line.charAt(i);
        } else value += c;
        i++;
      }
      labels[label[1] as string] = value;
      i++;
      if (line[i] === ',') i++;
    }
    i++;
  }
  const rest = line.slice(i).trim().split(' ');
  const value = rest[0] === '+Inf' ? Infinity : rest[0] === '-Inf' ? -Infinity : Number(rest[0]);
  if (rest[0] === undefined || Number.isNaN(value) && rest[0] !== 'NaN') throw new Error(`bad value in: ${line}`);
  return { name, labels, value };
}

/** The value of the one sample of `family` named `name` with exactly these labels. */
export function valueOf(families: Map<string, Family>, name: string, labels: Record<string, string>): number | undefined {
  const family = families.get(name) ?? families.get(name.replace(/_(bucket|sum|count)$/, ''));
  const wanted = JSON.stringify(Object.entries(labels).sort());
  return family?.samples.find((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === wanted)?.value;
}
