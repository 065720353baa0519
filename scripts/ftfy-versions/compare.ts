/** Compares `fixText` (5.2 scoring, and the '5.3' option) with the outputs of ftfy releases (see README.md in this folder). */
import { readFileSync } from 'node:fs';
import { type FtfyScoring, fixText } from '../../src/tokenizer/ftfy.ts';

const texts: string[] = JSON.parse(readFileSync('/tmp/hostile-texts.json', 'utf8'));
for (const scoring of ['5.2', '5.3'] as FtfyScoring[]) {
  const ours = texts.map((t) => fixText(t, scoring));
  for (const v of ['v5.2.0', 'v5.3.0', 'v5.5.0']) {
    const ref: string[] = JSON.parse(readFileSync(`/tmp/hostile-out-${v}.json`, 'utf8'));
    const diff = ref.map((r, i) => (r === ours[i] ? -1 : i)).filter((i) => i >= 0);
    console.log(`fixText(…, '${scoring}') vs ftfy ${v}: ${diff.length} of ${texts.length} differ`);
    for (const i of diff.slice(0, 2)) console.log(`  ${JSON.stringify(texts[i])}: ours ${JSON.stringify(ours[i])}, ftfy ${JSON.stringify(ref[i])}`);
  }
}
