// The action runs on Node 24 (runs.using: node24); tests, the bundle check and the benchmark
// must too. npm puts node_modules/.bin (the `node` devDependency) first on PATH for scripts.
const major = Number(process.versions.node.split('.')[0])
if (major < 24) {
  console.error(
    `Node ${process.versions.node} is running the scripts; Node 24 is required. Run them through npm (npm test), which uses the node devDependency.`
  )
  process.exit(1)
}
console.log(`Node ${process.versions.node}`)
