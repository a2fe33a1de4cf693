#!/usr/bin/env node
import { main } from './program.js';

// Exits when the command is done, even if the job left something open (a client's idle socket).
process.exit(
  await main(process.argv.slice(2), {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    isTTY: process.stdout.isTTY,
    env: process.env,
  }),
);
