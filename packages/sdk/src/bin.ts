#!/usr/bin/env node
import { runCli } from "./cli.js";

void runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
  isTTY: process.stdout.isTTY,
}).then((code) => {
  process.exitCode = code;
});
