# syntax=docker/dockerfile:1
# One image for the four heapstream services and the heapstream CLI (simulator).
#   docker build -t heapstream:dev .
#   docker run --rm -e SERVICE=scraper ... heapstream:dev      (or: heapstream:dev scraper)
#   docker run --rm heapstream:dev heapstream sim --help
ARG NODE_IMAGE=node:24-slim

# ---- build: full dependencies, bundles in dist/<project path>/main.js ----
FROM ${NODE_IMAGE} AS build
WORKDIR /src
ENV NX_DAEMON=false NX_NO_CLOUD=true CI=true
COPY package.json package-lock.json ./
# The `node` devDependency would fetch a second Node binary; the base image has Node 24.
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.base.json tsconfig.json nx.json ./
COPY libs ./libs
COPY services ./services
COPY tools ./tools
COPY deploy/docker ./deploy/docker
RUN node deploy/docker/bundle.mjs --outdir dist

# ---- deps: production node_modules only (the bundles import them) ----
FROM ${NODE_IMAGE} AS deps
WORKDIR /src
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund --ignore-scripts \
 && rm -rf node_modules/.cache

# ---- runtime ----
FROM ${NODE_IMAGE} AS runtime
LABEL org.opencontainers.image.title="heapstream" \
      org.opencontainers.image.description="Kubernetes metrics and events through Kafka into InfluxDB" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 heapstream \
 && useradd --system --uid 10001 --gid 10001 --home-dir /tmp --no-create-home --shell /usr/sbin/nologin heapstream
WORKDIR /app
# Nothing is written outside /tmp (an emptyDir in Kubernetes, a tmpfs in compose).
ENV NODE_ENV=production \
    HOME=/tmp \
    TMPDIR=/tmp \
    HEAPSTREAM_HTTP_HOST=0.0.0.0 \
    HEAPSTREAM_HTTP_PORT=8080
COPY --from=deps --chown=0:0 /src/node_modules ./node_modules
COPY --from=build --chown=0:0 /src/dist ./dist
COPY --chown=0:0 package.json ./
COPY --chown=0:0 deploy/docker/healthcheck.mjs ./healthcheck.mjs
COPY --chown=0:0 --chmod=0755 deploy/docker/entrypoint.sh /usr/local/bin/heapstream-entrypoint
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["node", "/app/healthcheck.mjs", "/healthz"]
ENTRYPOINT ["/usr/local/bin/heapstream-entrypoint"]
