# The engine image (what every TradingEngine pod runs): `nexus engine`, reading NEXUS_ENGINE_CONFIG.
# Build from the repository root:  docker build -f images/engine.Dockerfile -t ghcr.io/nexus-trading/nexus-engine:0.1.0 .
# Multi-stage: dependencies are installed and TypeScript compiled in the build stage; the runtime stage is
# distroless Node 20 (glibc, which the zeromq prebuilt binary needs), non-root uid 65532, no shell, no npm.
FROM node:20.19-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# The postinstall build of the WebAssembly modules skips itself here (no sources yet); build:wasm runs below.
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY engine ./engine
COPY operator ./operator
COPY cli ./cli
COPY bin ./bin
# `nexus cluster` (development) compiles against the test control plane helpers.
COPY devcluster ./devcluster
# `nexus dashboard` (run from a laptop, not in a pod) compiles with the CLI.
COPY dashboard ./dashboard
# The WebAssembly indicator kernels and the strategy SDK's example modules (build/wasm), compiled before the
# compiler (a dev dependency) is pruned.
COPY assembly ./assembly
COPY examples ./examples
RUN npm run build && npm run build:wasm && npm prune --omit=dev --no-audit --no-fund

FROM gcr.io/distroless/nodejs20-debian12:nonroot
WORKDIR /app
COPY --from=build --chown=65532:65532 /src/node_modules ./node_modules
COPY --from=build --chown=65532:65532 /src/dist ./dist
COPY --from=build --chown=65532:65532 /src/package.json ./package.json
COPY --from=build --chown=65532:65532 /src/build/wasm ./build/wasm
USER 65532:65532
ENV NODE_ENV=production
EXPOSE 9100
# nexus-dist: a strategy module's `import ... from 'nexus-trading/strategy'` resolves to the compiled SDK in dist/.
ENTRYPOINT ["/nodejs/bin/node", "--conditions=nexus-dist", "dist/cli/nexus.js", "engine"]
