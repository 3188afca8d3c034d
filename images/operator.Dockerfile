# The operator image: `nexus operator` (the Helm chart passes its flags as args).
# Build from the repository root:  docker build -f images/operator.Dockerfile -t ghcr.io/nexus-trading/nexus-operator:0.1.0 .
FROM node:20.19-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# The postinstall build of the WebAssembly modules skips itself here (this image has no AssemblyScript sources).
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
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM gcr.io/distroless/nodejs20-debian12:nonroot
WORKDIR /app
COPY --from=build --chown=65532:65532 /src/node_modules ./node_modules
COPY --from=build --chown=65532:65532 /src/dist ./dist
COPY --from=build --chown=65532:65532 /src/package.json ./package.json
USER 65532:65532
ENV NODE_ENV=production
EXPOSE 8080 8081
ENTRYPOINT ["/nodejs/bin/node", "dist/cli/nexus.js", "operator"]
