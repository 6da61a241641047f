# gryphgen node image. Build: docker build -t gryphgen .
# Run:   docker run -d --name gryphgen -v gryphgen-data:/data -p 7410:7410 -p 127.0.0.1:7411:7411 gryphgen
# The API listens on 0.0.0.0 inside the container so the published port reaches it; publish it
# on the host's loopback only (as above): the bearer token in /data/api-token guards it.
# The sandbox needs user namespaces, which Docker's default seccomp profile denies: without
# `--security-opt seccomp=unconfined` (or a profile allowing unshare/clone of namespaces) the
# node advertises `sandbox.available: false` and never runs untrusted code.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
# bubblewrap: the sandbox; tini: PID 1 that reaps the sandbox's zombies;
# python3 + pytest: runtimes for sandboxed code.
RUN apt-get update \
 && apt-get install -y --no-install-recommends bubblewrap tini python3 python3-pytest \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The dashboard served at GET / (built by `npm run build`).
COPY --from=build /app/dashboard/build ./dashboard/build
COPY package.json ./
COPY bin ./bin
# The sandbox's seccomp filters and synthetic /etc files (found from dist/ in ../../sandbox).
COPY sandbox/seccomp ./sandbox/seccomp
COPY sandbox/etc ./sandbox/etc
ENV GRYPHGEN_DATA_DIR=/data \
    GRYPHGEN_API_HOST=0.0.0.0 \
    NODE_ENV=production
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
# 7410: peers (libp2p TCP); 7411: HTTP API
EXPOSE 7410 7411
USER node
# Healthy once GET /v1/ready answers 200 (mesh, ledger, worker pool and sandbox probe up). The
# slim image has no curl: node's own fetch, at the port the node wrote to <data-dir>/api-port.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
  CMD ["node", "-e", "const d=process.env.GRYPHGEN_DATA_DIR||'/data';let p=process.env.GRYPHGEN_API_PORT||'7411';try{p=require('fs').readFileSync(d+'/api-port','utf8').trim()}catch{}fetch('http://127.0.0.1:'+p+'/v1/ready',{signal:AbortSignal.timeout(8000)}).then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "-s", "--", "node", "--max-semi-space-size=4", "bin/gryphgen.js"]
CMD ["start"]
