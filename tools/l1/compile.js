#!/usr/bin/env node
// Compiles every contracts/src/*.sol with the pinned solcjs (standard JSON, optimizer on, 200 runs,
// fixed EVM version) and writes contracts/artifacts/<ContractName>.json:
//   { "abi", "bytecode", "deployedBytecode", "solc", "sourceSha256" }
// with a stable key order and a trailing newline, so the output is byte-for-byte reproducible and
// can be committed (cargo builds embed the artifacts and never run node).
//
//   node tools/l1/compile.js           write the artifacts
//   node tools/l1/compile.js --check   recompile and exit 1 if the committed artifacts differ
//                                      (or an artifact has no contract any more)
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const SOLC_VERSION = '0.8.37';
const EVM_VERSION = 'cancun';
const OPTIMIZER_RUNS = 200;

const root = path.resolve(__dirname, '..', '..');
const srcDir = path.join(root, 'contracts', 'src');
const outDir = path.join(root, 'contracts', 'artifacts');

function fail(message) {
  console.error(`compile.js: ${message}`);
  process.exit(1);
}

function main() {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== '--check');
  if (unknown.length > 0) fail(`unknown argument(s) ${unknown.join(' ')}; usage: compile.js [--check]`);
  const check = args.includes('--check');

  const version = solc.version();
  if (!version.startsWith(`${SOLC_VERSION}+`)) {
    fail(`solc ${version} is installed but ${SOLC_VERSION} is pinned: run npm ci --prefix tools/l1`);
  }

  const files = fs.readdirSync(srcDir).filter((f) => f.endsWith('.sol')).sort();
  if (files.length === 0) fail(`no .sol files in ${srcDir}`);

  // Source unit names are relative ("src/<File>.sol"): the metadata hash in the bytecode must not
  // depend on where the repository is checked out.
  const sources = {};
  const sourceSha256 = {};
  for (const file of files) {
    const bytes = fs.readFileSync(path.join(srcDir, file));
    sources[`src/${file}`] = { content: bytes.toString('utf8') };
    sourceSha256[`src/${file}`] = crypto.createHash('sha256').update(bytes).digest('hex');
  }

  const input = {
    language: 'Solidity',
    sources,
    settings: {
      optimizer: { enabled: true, runs: OPTIMIZER_RUNS },
      evmVersion: EVM_VERSION,
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input)));

  const diagnostics = output.errors || [];
  for (const d of diagnostics) console.error(d.formattedMessage || d.message);
  if (diagnostics.some((d) => d.severity === 'error')) fail('compilation failed');

  const artifacts = new Map();
  for (const unit of Object.keys(output.contracts || {}).sort()) {
    for (const name of Object.keys(output.contracts[unit]).sort()) {
      if (artifacts.has(name)) fail(`contract ${name} is defined twice (${unit} and another file)`);
      const c = output.contracts[unit][name];
      // Interfaces and abstract contracts have no code to deploy; their ABI lives in the users'.
      if (c.evm.bytecode.object === '') continue;
      // Explicit key order: the file is compared byte for byte by --check.
      const artifact = {
        abi: c.abi,
        bytecode: `0x${c.evm.bytecode.object}`,
        deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
        solc: SOLC_VERSION,
        sourceSha256: sourceSha256[unit],
      };
      artifacts.set(name, `${JSON.stringify(artifact, null, 2)}\n`);
    }
  }

  const existing = fs.existsSync(outDir) ? fs.readdirSync(outDir).filter((f) => f.endsWith('.json')).sort() : [];
  if (check) {
    const problems = [];
    for (const [name, text] of artifacts) {
      const file = path.join(outDir, `${name}.json`);
      if (!fs.existsSync(file)) problems.push(`${name}.json is missing`);
      else if (fs.readFileSync(file, 'utf8') !== text) problems.push(`${name}.json is stale`);
    }
    for (const f of existing) {
      if (!artifacts.has(f.slice(0, -'.json'.length))) problems.push(`${f} has no contract in contracts/src`);
    }
    if (problems.length > 0) {
      fail(`contracts/artifacts is out of date (${problems.join('; ')}): run node tools/l1/compile.js`);
    }
    console.log(`contracts/artifacts is up to date (${artifacts.size} contract(s), solc ${version})`);
    return;
  }

  fs.mkdirSync(outDir, { recursive: true });
  for (const f of existing) {
    if (!artifacts.has(f.slice(0, -'.json'.length))) fs.unlinkSync(path.join(outDir, f));
  }
  for (const [name, text] of artifacts) fs.writeFileSync(path.join(outDir, `${name}.json`), text);
  console.log(`wrote ${artifacts.size} artifact(s) to contracts/artifacts (solc ${version})`);
}

main();
