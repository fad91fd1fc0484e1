// Preloaded (`node --import`) by every heapstream program: stack traces name heapstream's
// own source files (the bundle's source map), but source maps under node_modules are not
// read. With `--enable-source-maps` Node reads and keeps every dependency's maps too:
// @kubernetes/client-node's alone cost each service ~15 MiB of RSS and half a second of
// CPU at start (docs/performance.md).
// (The image runs Node 24; on a Node without setSourceMapsSupport traces stay unmapped.)
import module from 'node:module';

module.setSourceMapsSupport?.(true, { nodeModules: false, generatedCode: false });
