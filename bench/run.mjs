// The benchmark suite arrives with the benchmarks issue. Until then this says so plainly,
// rather than print a figure nobody measured.
console.log('sluice bench: no benchmarks yet.');
