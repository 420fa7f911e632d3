// The full fuzz run (issue 19): at least 10,000 generated inputs, hostile YAML specs through
// the CLI's spec loader and mutated fixture tars through the shard reader and curate. Prints
// the counts; exits 1 if any case crashed, hung, failed without a message or wrote outside
// its store. Usage: node bench/fuzz.ts [spec cases] [shard cases] [seed]
import { fuzzShards, fuzzSpecs } from '../tests/fuzz/fuzz-cases.ts';

const specCases = Number(process.argv[2] ?? 7000);
const shardCases = Number(process.argv[3] ?? 3000);
const seed = Number(process.argv[4] ?? Date.now() % 1_000_000);
console.log(`fuzz: seed ${seed}, ${specCases} spec cases, ${shardCases} shard cases`);

let broken = 0;
for (const [name, run, count] of [
  ['specs', fuzzSpecs, specCases],
  ['shards', fuzzShards, shardCases],
] as const) {
  const started = performance.now();
  const counts = await run(count, seed);
  const seconds = (performance.now() - started) / 1000;
  broken += counts.broken.length;
  console.log(
    `${name.padEnd(6)}  ${counts.cases} cases: ${counts.succeeded} succeeded, ${counts.refused} refused with a message, ${counts.broken.length} broken  (${seconds.toFixed(1)} s, ${((seconds * 1000) / Math.max(1, counts.cases)).toFixed(1)} ms a case)`,
  );
  for (const line of counts.broken.slice(0, 20)) console.log(`  ${line}`);
}
console.log(`total: ${specCases + shardCases} cases, ${broken} broken`);
process.exitCode = broken > 0 ? 1 : 0;
